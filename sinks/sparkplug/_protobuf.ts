/**
 * @module
 * A minimal protocol-buffers wire writer and reader: just what the Sparkplug B payload needs
 * (varints, fixed32 floats, fixed64 doubles, length-delimited strings, bytes and embedded
 * messages). Sparkplug's integer fields are all unsigned (`uint32`, `uint64`), so there is no
 * zigzag; a negative number written to a varint is its 64-bit two's complement, as
 * protobuf.js (and so Eclipse Tahu's JavaScript library) writes it.
 */

/** Protobuf wire types. */
export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const TWO_32 = 0x1_0000_0000;

/** Appends protobuf fields to a growing buffer. */
export class ProtoWriter {
  #buf = new Uint8Array(128);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
    this.#view = new DataView(b.buffer);
  }

  /**
   * Writes an unsigned varint. Numbers must be integers; a negative one (or a bigint) is
   * written as its 64-bit two's complement.
   */
  varint(v: number | bigint): void {
    this.#ensure(10);
    if (typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#buf[this.#len++] = v;
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.#buf[this.#len++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.#buf[this.#len++] = Number(x);
  }

  /** Writes a field key. */
  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** A `uint32` field: the value's low 32 bits (protobuf.js `uint32`: `v >>> 0`). */
  uint32(field: number, v: number): void {
    this.key(field, WireType.varint);
    this.varint(v >>> 0);
  }

  /** A `uint64` field (two's complement for negative values). */
  uint64(field: number, v: number | bigint): void {
    this.key(field, WireType.varint);
    this.varint(v);
  }

  /** A `bool` field. */
  bool(field: number, v: boolean): void {
    this.key(field, WireType.varint);
    this.varint(v ? 1 : 0);
  }

  /** A `float` field (IEEE 754 single, little-endian). */
  float(field: number, v: number): void {
    this.key(field, WireType.fixed32);
    this.#ensure(4);
    this.#view.setFloat32(this.#len, v, true);
    this.#len += 4;
  }

  /** A `double` field (IEEE 754 double, little-endian). */
  double(field: number, v: number): void {
    this.key(field, WireType.fixed64);
    this.#ensure(8);
    this.#view.setFloat64(this.#len, v, true);
    this.#len += 8;
  }

  /** A `bytes` field, or an embedded message already encoded. */
  bytes(field: number, b: Uint8Array): void {
    this.key(field, WireType.bytes);
    this.varint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** A `string` field (UTF-8). */
  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  /** The bytes written so far (a copy). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Reads protobuf fields from a buffer; throws RangeError on truncated input. */
export class ProtoReader {
  readonly buf: Uint8Array;
  pos = 0;
  readonly #view: DataView;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when every byte was read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Reads a varint as a number when it fits (<= 2^53 - 1), else as a bigint. */
  varint(): number | bigint {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError(`Truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if ((b & 0x80) === 0) {
        const l = lo >>> 0;
        const h = hi >>> 0;
        if (h < 0x20_0000) return h * TWO_32 + l;
        return (BigInt(h) << 32n) | BigInt(l);
      }
    }
    throw new RangeError(`Varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** Reads a varint's low 32 bits as an unsigned number. */
  uint32(): number {
    const v = this.varint();
    return typeof v === "number" ? v % TWO_32 : Number(BigInt.asUintN(32, v));
  }

  /** Reads a field key; `field` 0 means malformed. */
  key(): { field: number; wire: number } {
    const k = this.uint32();
    return { field: k >>> 3, wire: k & 7 };
  }

  /** Reads a length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const n = this.uint32();
    if (this.pos + n > this.buf.length) {
      throw new RangeError(`Field of ${n} bytes at byte ${this.pos} runs past the end`);
    }
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Reads a UTF-8 string field. */
  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  /** Reads a fixed32 float. */
  float(): number {
    this.#need(4);
    const v = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** Reads a fixed64 double. */
  double(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Skips a field of the given wire type (unknown fields and extensions). */
  skip(wire: number): void {
    if (wire === WireType.varint) this.varint();
    else if (wire === WireType.fixed64) this.#advance(8);
    else if (wire === WireType.bytes) this.bytes();
    else if (wire === WireType.fixed32) this.#advance(4);
    else throw new RangeError(`Unsupported wire type ${wire} at byte ${this.pos}`);
  }

  #need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RangeError(`Truncated field at byte ${this.pos}: ${n} bytes needed`);
    }
  }

  #advance(n: number): void {
    this.#need(n);
    this.pos += n;
  }
}
