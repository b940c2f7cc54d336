/**
 * @module
 * The client's side of a Modbus TCP byte stream: cuts responses out of it and keeps in step
 * when the device sends garbage. Unlike the simulator's `MbapReassembler`, it knows which
 * requests are pending, so it can check every frame against the request it answers:
 *
 * - a frame whose transaction id matches no pending request is dropped (`dropped`);
 * - a frame whose PDU does not fit its request (wrong function code, wrong byte count) is
 *   dropped (`malformed`) and its request left to time out;
 * - a header that cannot be one (protocol id not 0, impossible length), or a frame followed
 *   by bytes that cannot start the next header (a truncated response that swallowed the
 *   head of the next one), starts a resynchronisation: the stream is scanned byte by byte for
 *   a header that answers a pending request (`resyncs`, `malformed`);
 * - bytes of a partial frame whose request has timed out are discarded (`discardStale`), so
 *   a truncated last response does not swallow the next one.
 *
 * A truncated response followed, in a later read, by exactly as many bytes as it lacks is
 * indistinguishable from a good one; the PDU check catches most such merges.
 */

import { decodeResponse, MAX_MBAP_LENGTH, MBAP_LENGTH } from "./pdu.ts";

/** Counters of a {@linkcode ResponseStream}. */
export interface ResponseStreamStats {
  /** Frames with no pending request (late, or a wrong transaction id). */
  dropped: number;
  /** Frames or headers rejected as malformed or truncated. */
  malformed: number;
  /** Times the stream was scanned for the next good header or stale bytes discarded. */
  resyncs: number;
}

const u16 = (d: Uint8Array, i: number) => (d[i]! << 8) | d[i + 1]!;

/** Whether the bytes at `at` can be a header (as far as they go). */
function plausiblePrefix(d: Uint8Array, at: number): boolean {
  const n = d.length - at;
  if (n >= 3 && d[at + 2] !== 0) return false;
  if (n >= 4 && d[at + 3] !== 0) return false;
  if (n >= 6) {
    const len = u16(d, at + 4);
    if (len < 2 || len > MAX_MBAP_LENGTH) return false;
  }
  return true;
}

/** Cuts and checks responses; `lookup` gives the request PDU pending under a transaction id. */
export class ResponseStream {
  readonly stats: ResponseStreamStats = { dropped: 0, malformed: 0, resyncs: 0 };
  #buf = new Uint8Array(0);

  constructor(readonly lookup: (transactionId: number) => Uint8Array | undefined) {}

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Whether a header at `at` (7+ bytes available) answers a pending request. */
  #answers(d: Uint8Array, at: number): boolean {
    if (!plausiblePrefix(d, at)) return false;
    const request = this.lookup(u16(d, at));
    if (!request) return false;
    if (d.length - at <= MBAP_LENGTH) return true;
    const fc = d[at + MBAP_LENGTH]!;
    if (fc === (request[0]! | 0x80)) return u16(d, at + 4) === 3;
    if (fc !== request[0]) return false;
    if (fc <= 4 || fc === 23) {
      return d.length - at <= MBAP_LENGTH + 1 || u16(d, at + 4) === 3 + d[at + MBAP_LENGTH + 1]!;
    }
    return true;
  }

  /** The next position from `from` on where a pending request's answer may start. */
  #resync(d: Uint8Array, from: number): number {
    this.stats.resyncs++;
    for (let p = from; p + MBAP_LENGTH <= d.length; p++) if (this.#answers(d, p)) return p;
    return Math.max(from, d.length - (MBAP_LENGTH - 1));
  }

  /** Feeds a chunk; calls `onFrame` for every response that fits its pending request. */
  push(chunk: Uint8Array, onFrame: (transactionId: number, pdu: Uint8Array) => void): void {
    let d: Uint8Array;
    if (this.#buf.length === 0) d = chunk;
    else {
      d = new Uint8Array(this.#buf.length + chunk.length);
      d.set(this.#buf);
      d.set(chunk, this.#buf.length);
    }
    let at = 0;
    while (d.length - at >= MBAP_LENGTH) {
      if (!plausiblePrefix(d, at)) {
        this.stats.malformed++;
        at = this.#resync(d, at + 1);
        continue;
      }
      const end = at + 6 + u16(d, at + 4);
      if (end > d.length) break;
      if (end < d.length && !plausiblePrefix(d, end)) {
        // The frame ran into the next one: it was truncated, or its length lies.
        this.stats.malformed++;
        at = this.#resync(d, at + 1);
        continue;
      }
      const tid = u16(d, at);
      const request = this.lookup(tid);
      const pdu = d.slice(at + MBAP_LENGTH, end);
      at = end;
      if (!request) {
        this.stats.dropped++;
        continue;
      }
      const r = decodeResponse(request, pdu);
      if (!r.ok && "malformed" in r) {
        this.stats.malformed++;
        continue;
      }
      onFrame(tid, pdu);
    }
    this.#buf = at >= d.length ? new Uint8Array(0) : d.slice(at);
  }

  /**
   * Discards a buffered partial frame that answers no pending request any more (its request
   * timed out): call after timeouts, before the next request goes out.
   */
  discardStale(): void {
    const b = this.#buf;
    if (b.length === 0) return;
    if (b.length >= 2 && this.lookup(u16(b, 0)) && plausiblePrefix(b, 0)) return;
    this.stats.malformed++;
    this.stats.resyncs++;
    this.#buf = new Uint8Array(0);
  }

  /** Forgets buffered bytes. */
  reset(): void {
    this.#buf = new Uint8Array(0);
  }
}
