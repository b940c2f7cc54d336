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
 *
 * What arrived is kept for the request that then times out
 * ({@linkcode ResponseStream.problemFor}): the client rejects it with "Malformed response
 * ..." instead of "No answer". The text is built only on those error paths; a good frame
 * costs nothing more, the client one test when its last pending request is answered.
 */

import { MAX_MBAP_LENGTH, MBAP_LENGTH, responseProblem } from "../core/pdu.ts";

/** Counters of a {@linkcode ResponseStream}. */
export interface ResponseStreamStats {
  /** Frames with no pending request (late, or a wrong transaction id). */
  dropped: number;
  /** Frames or headers rejected as malformed or truncated. */
  malformed: number;
  /** Times the stream was scanned for the next good header or stale bytes discarded. */
  resyncs: number;
}

const EMPTY = new Uint8Array(0);

// Response PDUs are copied into a shared arena and handed out as views of it: creating an
// ArrayBuffer costs about 1 µs under Deno 2.9 (more than the rest of a request), a view
// about 0.07 µs. A full arena is never written again, only replaced (it lives on while
// views of it do), so every PDU handed out stays intact. One arena serves every client.
const ARENA_BYTES = 64 * 1024;
let arena = new Uint8Array(ARENA_BYTES);
let arenaUsed = 0;

/** A copy of `d[from..to)` that is not the caller's buffer (a view into the arena). */
function copyOut(d: Uint8Array, from: number, to: number): Uint8Array {
  const n = to - from;
  if (arenaUsed + n > ARENA_BYTES) {
    arena = new Uint8Array(ARENA_BYTES);
    arenaUsed = 0;
  }
  const at = arenaUsed;
  const a = arena;
  if (n <= 32) { for (let i = 0; i < n; i++) a[at + i] = d[from + i]!; }
  else a.set(d.subarray(from, to), at);
  // Keep views 8-byte aligned, so that a reader may wrap one in a DataView or Float64Array.
  arenaUsed = (at + n + 7) & ~7;
  return a.subarray(at, at + n);
}

const u16 = (d: Uint8Array, i: number) => (d[i]! << 8) | d[i + 1]!;

/** What is wrong with a header that {@linkcode plausiblePrefix} refused (error path only). */
function headerProblem(d: Uint8Array, at: number, lim: number): string {
  const n = lim - at;
  const protocol = n >= 4 ? u16(d, at + 2) : -1;
  if (protocol > 0) return `a header with protocol id ${protocol}, expected 0`;
  const len = u16(d, at + 4);
  return `a header with length ${len}, expected 2..${MAX_MBAP_LENGTH}`;
}

/** Whether the bytes at `at` can be a header (as far as they go, up to `lim`). */
function plausiblePrefix(d: Uint8Array, at: number, lim: number): boolean {
  const n = lim - at;
  if (n >= 3 && d[at + 2] !== 0) return false;
  if (n >= 4 && d[at + 3] !== 0) return false;
  if (n >= 6) {
    const len = u16(d, at + 4);
    if (len < 2 || len > MAX_MBAP_LENGTH) return false;
  }
  return true;
}

/**
 * Cuts and checks responses; `lookup` gives the request PDU pending under a transaction id.
 * Frames are checked in place; only a good one is copied out (the caller's read buffer is
 * reused for the next read, and the PDU outlives it).
 */
export class ResponseStream {
  readonly stats: ResponseStreamStats = { dropped: 0, malformed: 0, resyncs: 0 };
  #buf: Uint8Array = EMPTY;
  /** Whether anything below is set. */
  #noted = false;
  /** The last malformed frame or header not reported yet, and its transaction id (or -1). */
  #problem: string | undefined;
  #problemTid = -1;
  /** The transaction id of the last frame that answered no pending request, or -1. */
  #strayTid = -1;

  constructor(readonly lookup: (transactionId: number) => Uint8Array | undefined) {}

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Whether a header at `at` (7+ bytes available) answers a pending request. */
  #answers(d: Uint8Array, at: number, lim: number): boolean {
    if (!plausiblePrefix(d, at, lim)) return false;
    const request = this.lookup(u16(d, at));
    if (!request) return false;
    if (lim - at <= MBAP_LENGTH) return true;
    const fc = d[at + MBAP_LENGTH]!;
    if (fc === (request[0]! | 0x80)) return u16(d, at + 4) === 3;
    if (fc !== request[0]) return false;
    if (fc <= 4 || fc === 23) {
      return lim - at <= MBAP_LENGTH + 1 || u16(d, at + 4) === 3 + d[at + MBAP_LENGTH + 1]!;
    }
    return true;
  }

  /** The next position from `from` on where a pending request's answer may start. */
  #resync(d: Uint8Array, from: number, lim: number): number {
    this.stats.resyncs++;
    for (let p = from; p + MBAP_LENGTH <= lim; p++) if (this.#answers(d, p, lim)) return p;
    return Math.max(from, lim - (MBAP_LENGTH - 1));
  }

  /**
   * Feeds the first `length` bytes of `chunk` (all of it by default); calls `onFrame` for
   * every response that fits its pending request. The PDU given to `onFrame` is a copy
   * (a view of bytes nobody writes again).
   */
  push(
    chunk: Uint8Array,
    onFrame: (transactionId: number, pdu: Uint8Array) => void,
    length: number = chunk.length,
  ): void {
    let d = chunk;
    let lim = length;
    if (this.#buf.length > 0) {
      d = new Uint8Array(this.#buf.length + length);
      d.set(this.#buf);
      d.set(length === chunk.length ? chunk : chunk.subarray(0, length), this.#buf.length);
      lim = d.length;
    }
    let at = 0;
    while (lim - at >= MBAP_LENGTH) {
      if (!plausiblePrefix(d, at, lim)) {
        this.stats.malformed++;
        this.#note(-1, headerProblem(d, at, lim));
        at = this.#resync(d, at + 1, lim);
        continue;
      }
      const end = at + 6 + u16(d, at + 4);
      if (end > lim) break;
      if (end < lim && !plausiblePrefix(d, end, lim)) {
        // The frame ran into the next one: it was truncated, or its length lies.
        this.stats.malformed++;
        this.#note(
          u16(d, at),
          `truncated response: transaction id ${u16(d, at)} says ${
            end - at
          } bytes, which run into bytes that start no frame`,
        );
        at = this.#resync(d, at + 1, lim);
        continue;
      }
      const tid = u16(d, at);
      const request = this.lookup(tid);
      const from = at + MBAP_LENGTH;
      at = end;
      if (!request) {
        this.stats.dropped++;
        this.#strayTid = tid;
        this.#noted = true;
        continue;
      }
      const problem = responseProblem(request, d, from, end);
      if (problem !== undefined) {
        this.stats.malformed++;
        this.#note(tid, problem);
        continue;
      }
      onFrame(tid, copyOut(d, from, end));
    }
    this.#buf = at >= lim ? EMPTY : d.slice(at, lim);
  }

  #note(tid: number, problem: string): void {
    this.#problem = problem;
    this.#problemTid = tid;
    this.#noted = true;
  }

  /**
   * Forgets what was noted and not reported: call when no request is pending any more
   * (nobody is left to hear it, and a later timeout must not).
   */
  settle(): void {
    if (!this.#noted) return;
    this.#noted = false;
    this.#problem = undefined;
    this.#problemTid = -1;
    this.#strayTid = -1;
  }

  /**
   * What arrived instead of the answer to `transactionId`, whose request is timing out (call
   * before freeing it): a partial frame of it ("truncated response: 5 of 11 bytes"), else
   * the last malformed frame of it or of unknown transaction (a bad header), else the last
   * frame with a transaction id nobody waits for ("transaction id 17, expected 16");
   * undefined when nothing arrived. Reported once. Error path only.
   */
  problemFor(transactionId: number): string | undefined {
    const b = this.#buf;
    if (b.length >= 2 && u16(b, 0) === transactionId) {
      return b.length >= 6
        ? `truncated response: ${b.length} of ${6 + u16(b, 4)} bytes`
        : `truncated response: ${b.length} bytes, not even a header`;
    }
    if (!this.#noted) return undefined;
    const p = this.#problem;
    if (p !== undefined && (this.#problemTid === transactionId || this.#problemTid === -1)) {
      this.#problem = undefined;
      this.#problemTid = -1;
      this.#noted = this.#strayTid >= 0;
      return p;
    }
    if (this.#strayTid >= 0) {
      const stray = this.#strayTid;
      this.#strayTid = -1;
      this.#noted = p !== undefined;
      return `transaction id ${stray}, expected ${transactionId}`;
    }
    return undefined;
  }

  /**
   * Discards a buffered partial frame that answers no pending request any more (its request
   * timed out): call after timeouts, before the next request goes out.
   */
  discardStale(): void {
    const b = this.#buf;
    if (b.length === 0) return;
    if (b.length >= 2 && this.lookup(u16(b, 0)) && plausiblePrefix(b, 0, b.length)) return;
    this.stats.malformed++;
    this.stats.resyncs++;
    this.#buf = EMPTY;
  }

  /** Forgets buffered bytes. */
  reset(): void {
    this.#buf = EMPTY;
  }
}
