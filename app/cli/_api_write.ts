/**
 * @module
 * `bifrost read --api URL <device> <tag>` and `bifrost write --api URL <device> <tag> <value>`:
 * through a running gateway's API instead of a connection of their own. The gateway checks
 * the write (device, tag, `writable`, kind, range) as for any API client and records it in
 * its audit log under the token's id; the device is reached through the gateway's own
 * connection (no second master on the line).
 */

import { BifrostError, errorMessage } from "../../engine/errors.ts";
import { UsageError } from "./_args.ts";

/** How to reach the gateway. */
export interface ApiTarget {
  /** `http://127.0.0.1:8720` (no trailing slash). */
  base: string;
  token: string | undefined;
  client: Deno.HttpClient | undefined;
  timeoutMs: number;
}

/** The target of `--api URL [--token T] [--ca FILE]` (token also from `BIFROST_TOKEN`). */
export async function apiTarget(
  url: string,
  token: string | undefined,
  ca: string | undefined,
  timeoutMs: number,
): Promise<ApiTarget> {
  const base = url.replace(/\/+$/, "");
  if (!/^https?:\/\/./.test(base)) {
    throw new UsageError(
      `Cannot use --api "${url}": expected http://HOST:PORT or https://HOST:PORT`,
    );
  }
  let client: Deno.HttpClient | undefined;
  if (ca !== undefined) {
    try {
      client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
    } catch (e) {
      throw new BifrostError("CONFIG_INVALID", `Cannot read --ca "${ca}": ${errorMessage(e)}`);
    }
  }
  return { base, token: token ?? Deno.env.get("BIFROST_TOKEN"), client, timeoutMs };
}

/** POSTs `body` to `/api/v1<path>`; resolves to the answer, throws with the gateway's words. */
async function post(t: ApiTarget, path: string, body: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${t.base}/api/v1${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(t.token ? { authorization: `Bearer ${t.token}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(t.timeoutMs),
      ...(t.client ? { client: t.client } : {}),
    });
  } catch (e) {
    const detail = `${errorMessage(e)} ${e instanceof Error ? String(e.cause ?? "") : ""}`;
    const why = /refused|os error 111/i.test(detail) ? "connection refused" : detail.trim();
    throw new BifrostError(
      "DEVICE_UNREACHABLE",
      `No gateway answers at ${t.base}: ${why} (is \`bifrost run\` running? see --api)`,
    );
  }
  const answer = await res.json().catch(() => undefined) as
    | { error?: { message?: string; code?: string } }
    | undefined;
  if (!res.ok) {
    throw new BifrostError(
      "WRITE_REJECTED",
      `The gateway at ${t.base} answered ${res.status}: ${
        answer?.error?.message ?? res.statusText
      }`,
    );
  }
  return answer;
}

const show = (v: unknown) => typeof v === "string" ? v : JSON.stringify(v);

/** Writes `text` (parsed by the gateway by the tag's kind) and prints what it did. */
export async function apiWrite(
  t: ApiTarget,
  device: string,
  tag: string,
  text: string,
): Promise<void> {
  try {
    const r = await post(t, "/write", { device, tag, value: text }) as {
      results: { value: unknown; previous?: unknown }[];
    };
    const o = r.results[0]!;
    const was = "previous" in o ? ` (was ${show(o.previous)})` : "";
    console.log(`wrote ${show(o.value)} to ${device}/${tag} through ${t.base}${was}`);
  } finally {
    t.client?.close();
  }
}

/** Reads a tag on demand through the gateway and prints its value. */
export async function apiRead(t: ApiTarget, device: string, tag: string): Promise<void> {
  try {
    const r = await post(t, "/read", { device, tag }) as {
      results: { ok: boolean; value?: unknown; quality: string; error?: { message: string } }[];
    };
    const o = r.results[0]!;
    if (!o.ok) {
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot read ${device}/${tag}: ${o.error?.message ?? o.quality}`,
      );
    }
    console.log(`${show(o.value)}${o.quality === "good" ? "" : ` (${o.quality})`}`);
  } finally {
    t.client?.close();
  }
}

/** The `<device> <tag>` (and more) of an `--api` command, or a usage error. */
export function deviceAndTag(pos: string[]): [string, string, string[]] {
  const [device, tag, ...rest] = pos;
  if (!device || !tag) throw new UsageError("Missing the device and tag names");
  return [device, tag, rest];
}
