/**
 * @module
 * How a destination tells the forwarder what went wrong: a {@linkcode DeliveryError} is
 * either transient (retry the same records later: the destination is down, busy or
 * misconfigured) or permanent (these records will never be accepted: dead-letter them so
 * the queue moves on). Anything else a `deliver()` throws (network errors, timeouts) counts
 * as transient.
 *
 * HTTP statuses: 2xx confirm; 5xx, 408 and 429 are transient (429 and 503 may carry
 * `Retry-After`); the other 4xx are permanent, except those listed as `retryStatuses`,
 * which by default are the ones that say the *destination* is misconfigured rather than
 * the records bad (401, 403, 404, 407): dead-lettering every record because a token
 * expired would empty the queue into the dead-letter file.
 */

import { BifrostError } from "../../engine/plugin.ts";

/** 4xx statuses retried by default (besides 408 and 429, always retried). */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [401, 403, 404, 407];

/** Longest `Retry-After` honoured (ms); a larger one is cut to this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Options of a {@linkcode DeliveryError}. */
export interface DeliveryErrorOptions {
  /** True: the records will never be accepted (dead-letter them). */
  permanent: boolean;
  /** Wait at least this long before the next attempt (HTTP `Retry-After`). */
  retryAfterMs?: number;
  /** Short machine-readable cause stored with dead letters, e.g. `http 400`, `pg 23514`. */
  code?: string;
  cause?: unknown;
}

/** A failed delivery, saying whether to retry. */
export class DeliveryError extends BifrostError {
  override name = "DeliveryError";
  readonly permanent: boolean;
  readonly retryAfterMs: number | undefined;
  readonly reasonCode: string | undefined;

  constructor(message: string, o: DeliveryErrorOptions) {
    super("SINK_FAILED", message, {
      cause: o.cause,
      details: { permanent: o.permanent, code: o.code, retryAfterMs: o.retryAfterMs },
    });
    this.permanent = o.permanent;
    this.retryAfterMs = o.retryAfterMs;
    this.reasonCode = o.code;
  }
}

/** True when `e` says the records must be dead-lettered rather than retried. */
export function isPermanent(e: unknown): boolean {
  return e instanceof DeliveryError && e.permanent;
}

/** True when an HTTP status means "retry later" (5xx, 408, 429 and `retryStatuses`). */
export function isRetryableStatus(
  status: number,
  retryStatuses: readonly number[] = DEFAULT_RETRY_STATUSES,
): boolean {
  return status >= 500 || status === 408 || status === 429 || retryStatuses.includes(status) ||
    status < 400;
}

/**
 * Milliseconds to wait from a `Retry-After` header (delta seconds or an HTTP date), or
 * undefined when absent or unreadable. Capped at {@linkcode MAX_RETRY_AFTER_MS}.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const h = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(h)) ms = Number(h) * 1000;
  else {
    const at = Date.parse(h);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}

/** At most `max` characters of a response body, on one line, for messages. */
export function excerpt(text: string, max = 200): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? one.slice(0, max) + "…" : one;
}

/**
 * Turns a non-2xx HTTP response into a {@linkcode DeliveryError} (reads the body for the
 * message). `what` names the request, e.g. `POST http://host/ingest`.
 */
export async function httpError(
  res: Response,
  what: string,
  retryStatuses: readonly number[] = DEFAULT_RETRY_STATUSES,
): Promise<DeliveryError> {
  let body = "";
  try {
    body = excerpt(await res.text());
  } catch { /* the status alone says enough */ }
  const permanent = !isRetryableStatus(res.status, retryStatuses);
  const o: DeliveryErrorOptions = { permanent, code: `http ${res.status}` };
  const after = parseRetryAfter(res.headers.get("retry-after"));
  if (after !== undefined) o.retryAfterMs = after;
  const status = `${res.status}${res.statusText ? " " + res.statusText : ""}`;
  return new DeliveryError(`${what} failed: HTTP ${status}${body ? `: ${body}` : ""}`, o);
}
