/**
 * @module
 * API tokens: loaded from a YAML or JSON file (`--tokens FILE`) or the `BIFROST_API_TOKENS`
 * environment variable (the same document), kept only as SHA-256 hashes and compared in
 * constant time. Each token carries scopes: `read`, `write` (which includes read), `admin`
 * (everything) and `trigger:<name>`.
 *
 * ```yaml
 * tokens:
 *   - id: scada
 *     sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
 *     scopes: [read, write]
 * ```
 *
 * {@linkcode FailureLimiter} counts failed authentications per client address: past the
 * limit within the window the address gets 429 until the window ends, so a token cannot be
 * guessed at network speed.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Clock } from "../../engine/clock.ts";
import { BifrostError, errorMessage } from "../../engine/errors.ts";

/** The environment variable holding the token document. */
export const TOKENS_ENV = "BIFROST_API_TOKENS";

/** A scope a route needs. */
export type Scope = "read" | "write" | "admin" | `trigger:${string}`;

/** One API token, hashed. */
export interface ApiToken {
  id: string;
  hash: Uint8Array;
  scopes: ReadonlySet<string>;
}

const SCOPE = /^(read|write|admin|trigger:[A-Za-z0-9_.-]+)$/;

/** SHA-256 of a token's text. */
export function hashToken(token: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(token).digest());
}

/**
 * Parses a token document (`source` names it in errors); throws a `CONFIG_INVALID`
 * {@linkcode BifrostError} naming the entry and field at fault.
 */
export async function parseTokens(text: string, source: string): Promise<ApiToken[]> {
  let doc: unknown;
  try {
    if (/^\s*[{[]/.test(text)) doc = JSON.parse(text);
    else doc = (await import("yaml")).parse(text);
  } catch (e) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot parse API tokens in ${source}: ${errorMessage(e)}`,
    );
  }
  const bad = (where: string, what: string): never => {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Invalid API tokens in ${source} at ${where}: ${what}`,
    );
  };
  const list = (doc as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(list) || list.length === 0) {
    bad("/tokens", "expected a non-empty list of tokens");
  }
  const ids = new Set<string>();
  return (list as unknown[]).map((t, i) => {
    const at = `/tokens/${i}`;
    const o = (t ?? {}) as Record<string, unknown>;
    if (typeof o.id !== "string" || o.id === "") bad(`${at}/id`, "expected a name");
    const id = o.id as string;
    if (ids.has(id)) bad(`${at}/id`, `duplicate token id "${id}"`);
    ids.add(id);
    const hex = o.sha256;
    if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex)) {
      bad(
        `${at}/sha256`,
        `expected 64 hex digits (sha256 of the token), got ${JSON.stringify(hex)}`,
      );
    }
    const scopes = o.scopes;
    if (!Array.isArray(scopes) || scopes.length === 0) {
      bad(`${at}/scopes`, "expected a list of read, write, admin or trigger:<name>");
    }
    for (const [j, s] of (scopes as unknown[]).entries()) {
      if (typeof s !== "string" || !SCOPE.test(s)) {
        bad(
          `${at}/scopes/${j}`,
          `unknown scope ${JSON.stringify(s)} (read, write, admin, trigger:<name>)`,
        );
      }
    }
    const bytes = new Uint8Array((hex as string).match(/../g)!.map((h) => parseInt(h, 16)));
    return { id, hash: bytes, scopes: new Set(scopes as string[]) };
  });
}

/** Tokens from `--tokens FILE`, else from the environment; undefined when neither is set. */
export async function loadTokens(
  file: string | undefined,
  env: string | undefined,
): Promise<ApiToken[] | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot read API tokens "${file}": ${errorMessage(e)}`,
      );
    }
    return await parseTokens(text, file);
  }
  if (env !== undefined && env.trim() !== "") return await parseTokens(env, TOKENS_ENV);
  return undefined;
}

/** Whether `token` may use a route that needs `scope`. */
export function allows(token: ApiToken, scope: Scope): boolean {
  const s = token.scopes;
  return s.has("admin") || s.has(scope) || (scope === "read" && s.has("write"));
}

/** The tokens, looked up by the hash of what a client presents. */
export class TokenStore {
  #tokens: readonly ApiToken[];

  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens;
  }

  /** The token whose hash matches `presented`'s; every stored hash is compared, in constant time. */
  verify(presented: string): ApiToken | undefined {
    const h = hashToken(presented);
    let found: ApiToken | undefined;
    for (const t of this.#tokens) if (timingSafeEqual(h, t.hash) && !found) found = t;
    return found;
  }
}

/** Options of a {@linkcode FailureLimiter}. */
export interface FailureLimiterOptions {
  clock: Clock;
  /** Failures allowed per window and address before 429; default 5. */
  maxFailures?: number;
  /** Window, ms; default 60 s. */
  windowMs?: number;
}

/** Failed authentications per client address, in fixed windows. */
export class FailureLimiter {
  #clock: Clock;
  #max: number;
  #window: number;
  #by = new Map<string, { start: number; failures: number }>();

  constructor(o: FailureLimiterOptions) {
    this.#clock = o.clock;
    this.#max = o.maxFailures ?? 5;
    this.#window = o.windowMs ?? 60_000;
  }

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const e = this.#by.get(address);
    if (!e) return 0;
    const left = e.start + this.#window - this.#clock.monotonic();
    if (left <= 0) {
      this.#by.delete(address);
      return 0;
    }
    return e.failures >= this.#max ? Math.ceil(left / 1000) : 0;
  }

  /** Counts a failure of `address`. */
  fail(address: string): void {
    const now = this.#clock.monotonic();
    let e = this.#by.get(address);
    if (!e || now - e.start >= this.#window) this.#by.set(address, e = { start: now, failures: 0 });
    e.failures++;
    // Bounded memory under a spray of addresses: forget expired windows now and then.
    if (this.#by.size > 10_000) {
      for (const [a, x] of this.#by) if (now - x.start >= this.#window) this.#by.delete(a);
    }
  }
}
