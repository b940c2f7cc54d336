/**
 * @module
 * `POST /hooks/deploy`: a push to the flow repository deploys at once instead of at the next
 * interval. It takes the request shapes git servers send, each authenticated by a shared
 * secret (`--hook-secret-file`), not by an API token (a git server cannot send one):
 *
 * - GitHub (and Gitea 1.19+, Forgejo): `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>`;
 * - Gitea, Gogs: `X-Gitea-Signature` / `X-Gogs-Signature: <hex HMAC-SHA256 of the body>`;
 * - GitLab: `X-Gitlab-Token: <the secret>`.
 *
 * Comparisons are constant-time (both sides hashed to 32 bytes, then `timingSafeEqual`), and
 * failed attempts are limited per address (5 a minute, then 429 with `Retry-After`). A push
 * to another branch or tag (the payload's `ref`) is answered and ignored; a GitHub `ping`
 * gets `pong`. The body is read up to 5 MB. The route is mounted before any trigger, so a
 * trigger path cannot shadow it (and `bifrost check` refuses one that would).
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Clock } from "../../engine/clock.ts";
import type { Logger } from "../../engine/log.ts";
import { FailureLimiter } from "../http/auth.ts";

/** Where the webhook is served. */
export const DEPLOY_HOOK_PATH = "/hooks/deploy";
/** The largest webhook body read, bytes. */
export const MAX_HOOK_BYTES = 5 * 1024 * 1024;

/** Webhook counters, for metrics. */
export interface HookCounters {
  accepted: number;
  ignored: number;
  unauthorized: number;
  rateLimited: number;
}

/** Options of {@linkcode deployHookApp}. */
export interface DeployHookOptions {
  /** The shared secret; without one the route answers 404 saying how to turn it on. */
  secret?: string;
  /** The deployed ref, to ignore pushes to others. */
  ref: string;
  /** Starts a deploy cycle. */
  trigger(): void;
  clock: Clock;
  log: Logger;
  counters?: HookCounters;
  /** Failures per minute and address before 429; default 5. */
  maxFailures?: number;
}

function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** Whether a pushed ref (`refs/heads/main`) is the deployed one (`main`, or written in full). */
export function sameRef(pushed: string, deployed: string): boolean {
  return pushed === deployed || pushed === `refs/heads/${deployed}` ||
    pushed === `refs/tags/${deployed}`;
}

/** Reads a body up to `max` bytes; undefined when it is larger. */
async function readBody(req: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return undefined;
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of req.body) {
    n += c.length;
    if (n > max) return undefined;
    chunks.push(c);
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) out.set(c, at), at += c.length;
  return out;
}

/** The Hono app serving `POST /hooks/deploy`. */
export function deployHookApp(o: DeployHookOptions): Hono<{
  Bindings: { remoteAddr?: { hostname?: string } };
}> {
  const counters = o.counters ?? { accepted: 0, ignored: 0, unauthorized: 0, rateLimited: 0 };
  const limiter = new FailureLimiter({ clock: o.clock, maxFailures: o.maxFailures ?? 5 });
  const app = new Hono<{ Bindings: { remoteAddr?: { hostname?: string } } }>();
  const error = (status: number, code: string, message: string, headers = {}) =>
    new Response(JSON.stringify({ error: { code, message } }), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  app.post(DEPLOY_HOOK_PATH, async (c) => {
    if (o.secret === undefined) {
      return error(
        404,
        "NOT_FOUND",
        "The deploy webhook is off: start the gateway with --git and --hook-secret-file FILE",
      );
    }
    const address = c.env?.remoteAddr?.hostname ?? "unknown";
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      counters.rateLimited++;
      return error(
        429,
        "RATE_LIMITED",
        `Too many failed webhook attempts from ${address}: try again in ${wait} s`,
        { "Retry-After": String(wait) },
      );
    }
    const body = await readBody(c.req.raw, MAX_HOOK_BYTES);
    if (body === undefined) {
      return error(413, "BAD_REQUEST", `Webhook body too large: at most ${MAX_HOOK_BYTES} bytes`);
    }
    const h = c.req.raw.headers;
    const hmac = () => createHmac("sha256", o.secret!).update(body).digest("hex");
    const github = h.get("x-hub-signature-256");
    const gitea = h.get("x-gitea-signature") ?? h.get("x-gogs-signature");
    const gitlab = h.get("x-gitlab-token");
    let ok = false;
    let why = "missing signature: send X-Hub-Signature-256 (GitHub, Gitea), " +
      "X-Gitea-Signature (Gitea) or X-Gitlab-Token (GitLab)";
    if (github !== null) {
      ok = sameSecret(github.trim().toLowerCase(), `sha256=${hmac()}`);
      why = "X-Hub-Signature-256 does not match the body signed with the shared secret";
    } else if (gitea !== null) {
      ok = sameSecret(gitea.trim().toLowerCase(), hmac());
      why = "X-Gitea-Signature does not match the body signed with the shared secret";
    } else if (gitlab !== null) {
      ok = sameSecret(gitlab, o.secret);
      why = "X-Gitlab-Token is not the shared secret";
    }
    if (!ok) {
      limiter.fail(address);
      counters.unauthorized++;
      o.log.warn("Deploy webhook refused", { address, reason: why });
      return error(401, "UNAUTHORIZED", `Webhook refused: ${why}`);
    }
    if ((h.get("x-github-event") ?? h.get("x-gitea-event")) === "ping") {
      return c.json({ deploy: false, pong: true });
    }
    let pushed: unknown;
    try {
      pushed = (JSON.parse(new TextDecoder().decode(body)) as { ref?: unknown }).ref;
    } catch {
      // Not JSON (a form-encoded payload): deploy; the fetch finds out what changed.
    }
    if (typeof pushed === "string" && !sameRef(pushed, o.ref)) {
      counters.ignored++;
      return c.json({ deploy: false, reason: `push to ${pushed}, not to ${o.ref}` });
    }
    counters.accepted++;
    o.log.info("Deploy webhook: fetching now", { address });
    o.trigger();
    return c.json({ deploy: true }, 202);
  });
  return app;
}
