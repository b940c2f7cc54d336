/**
 * @module
 * Length-prefixed frames between the `function` step (host) and its child process, over
 * the child's stdin and stdout.
 *
 * A frame is `[u32 body length][u32 meta length][meta][columns]` (little endian): `meta`
 * is a message object in V8's serialization format (bigints, NaN, -0 and nested JSON
 * values survive), `columns` the used part of the sender's wire buffer (`codec.ts`), empty
 * when the message carries no records. The reader refuses a frame longer than its limit
 * before reading its body: a child cannot make the host buffer or decode more than that.
 */

import { deserialize, serialize } from "node:v8";

/** One frame: the message object and the wire bytes that came with it. */
export interface Frame {
  meta: unknown;
  columns: Uint8Array;
}

/** Why a stream of frames cannot be read on: the peer is not speaking the protocol. */
export class FrameError extends Error {
  override name = "FrameError";
}

/** Encodes a frame. */
export function encodeFrame(meta: unknown, columns?: Uint8Array): Uint8Array {
  const m = serialize(meta);
  const c = columns?.byteLength ?? 0;
  const out = new Uint8Array(8 + m.byteLength + c);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 4 + m.byteLength + c, true);
  dv.setUint32(4, m.byteLength, true);
  out.set(m, 8);
  if (columns) out.set(columns, 8 + m.byteLength);
  return out;
}

/**
 * Splits a byte stream into frames. Feed it chunks with {@linkcode FrameReader.push};
 * complete frames come out of {@linkcode FrameReader.next}.
 */
export class FrameReader {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** @param maxBody the largest frame body accepted, in bytes; may be changed between frames */
  constructor(public maxBody: number) {}

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.byteLength > this.#buf.byteLength) {
      const live = this.#end - this.#start;
      const need = live + chunk.byteLength;
      if (need > this.#buf.byteLength || this.#start === 0) {
        const grown = new Uint8Array(Math.max(need, 2 * this.#buf.byteLength));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.byteLength;
  }

  /**
   * The next complete frame, or undefined when more bytes are needed. Throws
   * {@linkcode FrameError} when the stream is not made of valid frames. The columns are a
   * view valid until the next call.
   */
  next(): Frame | undefined {
    const avail = this.#end - this.#start;
    if (avail < 8) return undefined;
    const dv = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start, 8);
    const body = dv.getUint32(0, true), metaLen = dv.getUint32(4, true);
    if (body > this.maxBody) {
      throw new FrameError(`a frame of ${body} bytes is over the limit of ${this.maxBody}`);
    }
    if (metaLen + 4 > body) {
      throw new FrameError(`a frame's metadata (${metaLen} bytes) overruns its body (${body})`);
    }
    if (avail < 4 + body) return undefined;
    const at = this.#start + 8;
    let meta: unknown;
    try {
      meta = deserialize(this.#buf.subarray(at, at + metaLen));
    } catch (e) {
      throw new FrameError(`a frame cannot be decoded: ${(e as Error).message}`);
    }
    const columns = this.#buf.subarray(at + metaLen, this.#start + 4 + body);
    this.#start += 4 + body;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { meta, columns };
  }
}
