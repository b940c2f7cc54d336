/**
 * @module
 * One HTTP request of a forwarding sink, with its errors sorted for the forwarder: a
 * timeout or a network error is transient, a non-2xx answer becomes a
 * {@linkcode DeliveryError} by status (see {@linkcode httpError}).
 */

import { errorMessage } from "../../engine/plugin.ts";
import { DEFAULT_RETRY_STATUSES, DeliveryError, httpError } from "./errors.ts";

/** Settings of one {@linkcode send}. */
export interface SendOptions {
  timeoutMs: number;
  /** The sink's stop signal: aborting it cancels the request. */
  signal: AbortSignal;
  /** Names the request in messages, e.g. `POST http://host/ingest` (no credentials). */
  what: string;
  retryStatuses?: readonly number[];
}

/** Sends the request; resolves on a 2xx answer (body read and dropped). */
export async function send(url: string, init: RequestInit, o: SendOptions): Promise<void> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.any([o.signal, timeout]) });
  } catch (e) {
    if (o.signal.aborted) throw e;
    const why = timeout.aborted ? `timed out after ${o.timeoutMs} ms` : errorMessage(e);
    throw new DeliveryError(`${o.what} failed: ${why}`, { permanent: false, cause: e });
  }
  if (!res.ok) throw await httpError(res, o.what, o.retryStatuses ?? DEFAULT_RETRY_STATUSES);
  try {
    await res.arrayBuffer();
  } catch { /* the status confirmed the records; a cut body changes nothing */ }
}

/** `Authorization: Basic …` for a user name and password. */
export function basicAuth(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** A URL as shown in logs: no user info, no query string (it may hold keys). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/\/\/[^@/]*@/, "//").replace(/\?.*$/, "");
  }
}
