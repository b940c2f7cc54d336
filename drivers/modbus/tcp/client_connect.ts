/**
 * @module
 * Opens the TCP connection of a {@linkcode ModbusTcpClient}: within the timeout, abortable,
 * Nagle off (a request is one small write that must go out at once).
 */

import { BifrostError } from "../../../engine/plugin.ts";

/** Options of {@linkcode ModbusTcpClient.connect}. */
export interface ClientOptions {
  host: string;
  port: number;
  /** Per-request (and connect) timeout in ms. */
  timeoutMs: number;
  /** Requests on the wire at once; more wait in a queue. Default 1. */
  maxInFlight?: number;
  /**
   * Keep a read pending while no request is on the wire, so that a connection the peer
   * closes is noticed at once (default true). False reads only while requests are on the
   * wire: a close is noticed by the next request, and a read no longer lives from one poll
   * to the next (see `ModbusTcpClient`).
   */
  idleRead?: boolean;
  /** Told when the connection is lost (not when `close()` closes it). */
  onLost?: (error: BifrostError) => void;
  signal?: AbortSignal;
}

/**
 * Connects; throws `DEVICE_UNREACHABLE` when the connection is refused, unreachable or takes
 * longer than `timeoutMs`, and the signal's reason when it aborts.
 */
export async function openConnection(o: ClientOptions): Promise<Deno.TcpConn> {
  const where = `${o.host}:${o.port}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const attempt = Deno.connect({ hostname: o.host, port: o.port, transport: "tcp" });
  try {
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new BifrostError(
                "DEVICE_UNREACHABLE",
                `Cannot connect to ${where}: no answer within ${o.timeoutMs} ms`,
              ),
            ),
          o.timeoutMs,
        );
        onAbort = () => reject(o.signal!.reason);
        o.signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    attempt.then((c) => c.close(), () => {});
    if (e instanceof BifrostError) throw e;
    if (o.signal?.aborted && e === o.signal.reason) throw e;
    throw new BifrostError(
      "DEVICE_UNREACHABLE",
      `Cannot connect to ${where}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener("abort", onAbort);
  }
}
