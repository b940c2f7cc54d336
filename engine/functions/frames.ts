/**
 * @module
 * Length-prefixed frames between the `function` step (host) and its child process, over
 * the child's stdin and stdout.
 *
 * A frame is `[u32 body length][u32 meta length | V8 flag][meta][columns]` (little
 * endian). `meta` is the message object: JSON in a steady stream (0.4 µs a message), or,
 * when the message carries values JSON cannot hold (bigints, NaN, -0, nested values),
 * V8's serialization format (flag bit 31; about 30 µs, so only then). `columns` is the
 * used part of the sender's wire buffer (`codec.ts`), empty when the message carries no
 * records.
 *
 * Both ends reuse their buffers: writing a frame allocates nothing once the buffer has
 * grown to the largest frame, and the reader reads straight into its own buffer
 * ({@linkcode FrameReader.space}). Allocating a 42 KB array per frame cost about 60 µs.
 * The reader refuses a frame longer than its limit before reading its body: a child cannot
 * make the host buffer or decode more than that.
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

const V8_FLAG = 0x8000_0000;
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** Encodes frames into one buffer that it reuses: a frame is valid until the next one. */
export class FrameWriter {
  #buf = new Uint8Array(64 * 1024);

  /**
   * Encodes a frame; `v8` when the meta holds values JSON cannot (see the module comment).
   * The result is a view of the writer's buffer, valid until the next call.
   */
  encode(meta: unknown, columns?: Uint8Array, v8 = false): Uint8Array {
    const c = columns?.byteLength ?? 0;
    if (v8) {
      const m = serialize(meta);
      const out = this.#room(8 + m.byteLength + c);
      out.set(m, 8);
      return this.#finish(out, m.byteLength, c, columns, V8_FLAG);
    }
    const text = JSON.stringify(meta);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const out = this.#room(8 + 3 * text.length + c);
    const m = enc.encodeInto(text, out.subarray(8)).written;
    return this.#finish(out, m, c, columns, 0);
  }

  #room(n: number): Uint8Array {
    if (this.#buf.byteLength < n) this.#buf = new Uint8Array(Math.max(n, 2 * this.#buf.length));
    return this.#buf;
  }

  #finish(
    out: Uint8Array,
    m: number,
    c: number,
    columns: Uint8Array | undefined,
    flag: number,
  ): Uint8Array {
    const dv = new DataView(out.buffer, out.byteOffset);
    dv.setUint32(0, 4 + m + c, true);
    dv.setUint32(4, (m | flag) >>> 0, true);
    if (columns) out.set(columns, 8 + m);
    return out.subarray(0, 8 + m + c);
  }
}

/**
 * Splits a byte stream into frames. Read into {@linkcode FrameReader.space} and
 * {@linkcode FrameReader.commit} what was read (or {@linkcode FrameReader.push} a chunk);
 * complete frames come out of {@linkcode FrameReader.next}.
 */
export class FrameReader {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** @param maxBody the largest frame body accepted, in bytes; may be changed between frames */
  constructor(public maxBody: number) {}

  /**
   * A view to read into: at least `min` bytes, more when a frame's header says more are
   * coming. Valid until the next call of any method.
   */
  space(min = 16 * 1024): Uint8Array {
    let want = min;
    if (this.#end - this.#start >= 8) {
      const body = new DataView(this.#buf.buffer, this.#start, 4).getUint32(0, true);
      if (body <= this.maxBody) want = Math.max(min, 4 + body - (this.#end - this.#start));
    }
    this.#reserve(want);
    return this.#buf.subarray(this.#end);
  }

  /** Counts `n` bytes read into the last {@linkcode FrameReader.space}. */
  commit(n: number): void {
    this.#end += n;
  }

  /**
   * Takes back the view a BYOB read returned for the last {@linkcode FrameReader.space}
   * (the read transferred the buffer) and counts its bytes.
   */
  filled(view: Uint8Array): void {
    this.#buf = new Uint8Array(view.buffer as ArrayBuffer);
    this.#end += view.byteLength;
  }

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    this.#reserve(chunk.byteLength);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.byteLength;
  }

  #reserve(n: number): void {
    if (this.#end + n <= this.#buf.byteLength) return;
    const live = this.#end - this.#start;
    if (live + n > this.#buf.byteLength) {
      const grown = new Uint8Array(Math.max(live + n, 2 * this.#buf.byteLength));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    } else {
      this.#buf.copyWithin(0, this.#start, this.#end);
    }
    this.#start = 0;
    this.#end = live;
  }

  /**
   * The next complete frame, or undefined when more bytes are needed. Throws
   * {@linkcode FrameError} when the stream is not made of valid frames. The columns are a
   * view valid until the next call of any method.
   */
  next(): Frame | undefined {
    const avail = this.#end - this.#start;
    if (avail < 8) return undefined;
    const dv = new DataView(this.#buf.buffer, this.#start, 8);
    const body = dv.getUint32(0, true), word = dv.getUint32(4, true);
    const v8 = (word & V8_FLAG) !== 0, metaLen = word & ~V8_FLAG;
    if (body > this.maxBody) {
      throw new FrameError(`a frame of ${body} bytes, over the limit of ${this.maxBody}`);
    }
    if (metaLen + 4 > body) {
      throw new FrameError(`a frame whose metadata (${metaLen} bytes) overruns its body (${body})`);
    }
    if (avail < 4 + body) return undefined;
    const at = this.#start + 8;
    const bytes = this.#buf.subarray(at, at + metaLen);
    let meta: unknown;
    try {
      meta = v8 ? deserialize(bytes) : JSON.parse(dec.decode(bytes));
    } catch (e) {
      throw new FrameError(`a frame that cannot be decoded: ${(e as Error).message}`);
    }
    const columns = this.#buf.subarray(at + metaLen, this.#start + 4 + body);
    this.#start += 4 + body;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { meta, columns };
  }
}
