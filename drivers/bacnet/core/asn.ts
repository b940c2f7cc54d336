/**
 * @module
 * BACnet ASN.1 tag encoding (ASHRAE 135 clause 20.2): application and context tags, opening
 * and closing tags, and the primitive values. Pure functions over bytes: a {@linkcode Writer}
 * that grows a buffer and a {@linkcode Reader} that walks one, throwing `RangeError` on
 * truncated or malformed input (callers turn that into a protocol error).
 */

/** Application tag numbers. */
export const AppTag = {
  null: 0,
  boolean: 1,
  unsigned: 2,
  signed: 3,
  real: 4,
  double: 5,
  octetString: 6,
  characterString: 7,
  bitString: 8,
  enumerated: 9,
  date: 10,
  time: 11,
  objectId: 12,
} as const;

/** A decoded application value, its type kept so that it can be written back as it was. */
export type AppValue =
  | { type: "null" }
  | { type: "boolean"; value: boolean }
  | { type: "unsigned" | "signed" | "enumerated"; value: number }
  | { type: "real" | "double"; value: number }
  | { type: "octetString"; value: Uint8Array }
  | { type: "characterString"; value: string }
  | { type: "bitString"; value: boolean[] }
  | { type: "date" | "time"; value: number[] }
  | { type: "objectId"; value: ObjectId };

/** An object identifier: type and instance. */
export interface ObjectId {
  type: number;
  instance: number;
}

/** A growable byte buffer with BACnet encoders. */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  length = 0;

  constructor(capacity = 64) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.grow(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.grow(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** The written bytes (a view; copy before reuse of the writer). */
  done(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A tag header: number, class (context when true), length/value/type. */
  tag(num: number, context: boolean, lvt: number): this {
    let first = context ? 0x08 : 0;
    const ext = num > 14;
    first |= ext ? 0xf0 : num << 4;
    if (lvt <= 4) {
      this.u8(first | lvt);
      if (ext) this.u8(num);
    } else {
      this.u8(first | 5);
      if (ext) this.u8(num);
      if (lvt <= 253) this.u8(lvt);
      else if (lvt <= 65535) this.u8(254).u16(lvt);
      else {
        this.u8(255).u16(lvt >>> 16).u16(lvt & 0xffff);
      }
    }
    return this;
  }

  opening(num: number): this {
    return num > 14 ? this.u8(0xfe).u8(num) : this.u8((num << 4) | 0x0e);
  }

  closing(num: number): this {
    return num > 14 ? this.u8(0xff).u8(num) : this.u8((num << 4) | 0x0f);
  }

  private uintBytes(v: number): number {
    return v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4;
  }

  private uintBody(v: number, n: number): this {
    for (let i = n - 1; i >= 0; i--) this.u8(Math.floor(v / 2 ** (8 * i)) & 0xff);
    return this;
  }

  /** An unsigned (or enumerated) value under an application or context tag. */
  uint(num: number, context: boolean, v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new RangeError(`Cannot encode ${v} as a BACnet unsigned integer`);
    }
    const n = this.uintBytes(v);
    return this.tag(num, context, n).uintBody(v, n);
  }

  sint(num: number, context: boolean, v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new RangeError(`Cannot encode ${v} as a BACnet signed integer`);
    }
    const n = v >= -0x80 && v < 0x80
      ? 1
      : v >= -0x8000 && v < 0x8000
      ? 2
      : v >= -0x800000 && v < 0x800000
      ? 3
      : 4;
    this.tag(num, context, n);
    const u = v < 0 ? v + 2 ** (8 * n) : v;
    return this.uintBody(u, n);
  }

  objectId(num: number, context: boolean, id: ObjectId): this {
    this.tag(num, context, 4);
    this.grow(4);
    this.view.setUint32(this.length, ((id.type & 0x3ff) << 22 | (id.instance & 0x3fffff)) >>> 0);
    this.length += 4;
    return this;
  }

  real(num: number, context: boolean, v: number): this {
    this.tag(num, context, 4);
    this.grow(4);
    this.view.setFloat32(this.length, v);
    this.length += 4;
    return this;
  }

  double(num: number, context: boolean, v: number): this {
    this.tag(num, context, 8);
    this.grow(8);
    this.view.setFloat64(this.length, v);
    this.length += 8;
    return this;
  }

  charString(num: number, context: boolean, s: string): this {
    const b = new TextEncoder().encode(s);
    this.tag(num, context, b.length + 1).u8(0); // 0: UTF-8
    return this.bytes(b);
  }

  bitString(num: number, context: boolean, bits: boolean[]): this {
    const n = Math.ceil(bits.length / 8);
    this.tag(num, context, n + 1).u8(n * 8 - bits.length);
    for (let i = 0; i < n; i++) {
      let b = 0;
      for (let j = 0; j < 8; j++) if (bits[i * 8 + j]) b |= 0x80 >> j;
      this.u8(b);
    }
    return this;
  }

  boolean(num: number, context: boolean, v: boolean): this {
    // An application boolean carries its value in the length field; a context one has a byte.
    return context
      ? this.tag(num, true, 1).u8(v ? 1 : 0)
      : this.tag(AppTag.boolean, false, v ? 1 : 0);
  }

  /** Any application value. */
  app(v: AppValue): this {
    switch (v.type) {
      case "null":
        return this.tag(AppTag.null, false, 0);
      case "boolean":
        return this.boolean(AppTag.boolean, false, v.value);
      case "unsigned":
        return this.uint(AppTag.unsigned, false, v.value);
      case "signed":
        return this.sint(AppTag.signed, false, v.value);
      case "enumerated":
        return this.uint(AppTag.enumerated, false, v.value);
      case "real":
        return this.real(AppTag.real, false, v.value);
      case "double":
        return this.double(AppTag.double, false, v.value);
      case "octetString":
        return this.tag(AppTag.octetString, false, v.value.length).bytes(v.value);
      case "characterString":
        return this.charString(AppTag.characterString, false, v.value);
      case "bitString":
        return this.bitString(AppTag.bitString, false, v.value);
      case "date":
      case "time":
        this.tag(v.type === "date" ? AppTag.date : AppTag.time, false, 4);
        for (let i = 0; i < 4; i++) this.u8(v.value[i] ?? 255);
        return this;
      case "objectId":
        return this.objectId(AppTag.objectId, false, v.value);
    }
  }
}

/** A decoded tag header. */
export interface Tag {
  num: number;
  context: boolean;
  opening: boolean;
  closing: boolean;
  /** Length of the body (or the boolean value of an application boolean). */
  lvt: number;
}

/** A cursor over a BACnet buffer. */
export class Reader {
  pos: number;
  readonly view: DataView;

  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get more(): boolean {
    return this.pos < this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new RangeError(`Truncated BACnet data at byte ${this.pos}`);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    return (this.u8() << 8) | this.u8();
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.end) {
      throw new RangeError(`Truncated BACnet data: ${n} bytes wanted at byte ${this.pos}`);
    }
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** The next tag header, without consuming it. */
  peek(): Tag {
    const at = this.pos;
    try {
      return this.tag();
    } finally {
      this.pos = at;
    }
  }

  tag(): Tag {
    const first = this.u8();
    let num = first >> 4;
    const context = (first & 0x08) !== 0;
    if (num === 15) num = this.u8();
    const low = first & 0x07;
    if (context && low === 6) return { num, context, opening: true, closing: false, lvt: 0 };
    if (context && low === 7) return { num, context, opening: false, closing: true, lvt: 0 };
    let lvt = low;
    if (low === 5) {
      lvt = this.u8();
      if (lvt === 254) lvt = this.u16();
      else if (lvt === 255) lvt = this.u16() * 65536 + this.u16();
    }
    return { num, context, opening: false, closing: false, lvt };
  }

  /** True when the next tag is context tag `num` (or its opening/closing, as asked). */
  isContext(num: number, kind: "primitive" | "opening" | "closing" = "primitive"): boolean {
    if (!this.more) return false;
    const t = this.peek();
    return t.context && t.num === num &&
      (kind === "opening" ? t.opening : kind === "closing" ? t.closing : !t.opening && !t.closing);
  }

  uintBody(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.u8();
    return v;
  }

  sintBody(n: number): number {
    const u = this.uintBody(n);
    return n > 0 && u >= 2 ** (8 * n - 1) ? u - 2 ** (8 * n) : u;
  }

  objectIdBody(): ObjectId {
    const v = this.view.getUint32(this.take(4).byteOffset - this.buf.byteOffset);
    return { type: v >>> 22, instance: v & 0x3fffff };
  }

  /** Context tag `num` holding an unsigned; throws when absent. */
  ctxUint(num: number): number {
    const t = this.tag();
    if (!t.context || t.num !== num || t.opening || t.closing) {
      throw new RangeError(`Expected context tag ${num} at byte ${this.pos}`);
    }
    return this.uintBody(t.lvt);
  }

  ctxObjectId(num: number): ObjectId {
    const t = this.tag();
    if (!t.context || t.num !== num || t.lvt !== 4) {
      throw new RangeError(`Expected object identifier (context ${num}) at byte ${this.pos}`);
    }
    return this.objectIdBody();
  }

  expectOpening(num: number): void {
    const t = this.tag();
    if (!t.opening || t.num !== num) {
      throw new RangeError(`Expected opening tag ${num} at byte ${this.pos}`);
    }
  }

  expectClosing(num: number): void {
    const t = this.tag();
    if (!t.closing || t.num !== num) {
      throw new RangeError(`Expected closing tag ${num} at byte ${this.pos}`);
    }
  }

  /** One application-tagged value. */
  app(): AppValue {
    const t = this.tag();
    if (t.context || t.opening || t.closing) {
      throw new RangeError(`Expected an application tag at byte ${this.pos}`);
    }
    return this.appBody(t.num, t.lvt);
  }

  appBody(num: number, len: number): AppValue {
    switch (num) {
      case AppTag.null:
        return { type: "null" };
      case AppTag.boolean:
        return { type: "boolean", value: len !== 0 };
      case AppTag.unsigned:
        return { type: "unsigned", value: this.uintBody(len) };
      case AppTag.signed:
        return { type: "signed", value: this.sintBody(len) };
      case AppTag.real: {
        const b = this.take(4);
        return { type: "real", value: new DataView(b.buffer, b.byteOffset, 4).getFloat32(0) };
      }
      case AppTag.double: {
        const b = this.take(8);
        return { type: "double", value: new DataView(b.buffer, b.byteOffset, 8).getFloat64(0) };
      }
      case AppTag.octetString:
        return { type: "octetString", value: this.take(len).slice() };
      case AppTag.characterString: {
        const b = this.take(len);
        const set = b[0];
        const body = b.subarray(1);
        // 0 UTF-8 (ANSI X3.4), 4 UCS-2, 5 ISO 8859-1.
        const s = set === 4
          ? new TextDecoder("utf-16be").decode(body)
          : set === 5
          ? new TextDecoder("latin1").decode(body)
          : new TextDecoder().decode(body);
        return { type: "characterString", value: s };
      }
      case AppTag.bitString: {
        const b = this.take(len);
        const unused = b[0] ?? 0;
        const bits: boolean[] = [];
        for (let i = 1; i < b.length; i++) {
          for (let j = 0; j < 8; j++) bits.push((b[i]! & (0x80 >> j)) !== 0);
        }
        bits.length = Math.max(0, bits.length - unused);
        return { type: "bitString", value: bits };
      }
      case AppTag.enumerated:
        return { type: "enumerated", value: this.uintBody(len) };
      case AppTag.date:
      case AppTag.time:
        return { type: num === AppTag.date ? "date" : "time", value: [...this.take(4)] };
      case AppTag.objectId:
        return { type: "objectId", value: this.objectIdBody() };
      default:
        this.take(len);
        throw new RangeError(`Unknown BACnet application tag ${num}`);
    }
  }

  /**
   * Every value up to closing tag `num` (consumed): application values, and constructed
   * (context-tagged) data skipped as a raw list. Used for property values.
   */
  valuesUntilClosing(num: number): AppValue[] {
    const out: AppValue[] = [];
    for (;;) {
      const t = this.peek();
      if (t.closing && t.num === num) {
        this.tag();
        return out;
      }
      if (t.context) {
        this.skipContext();
        continue;
      }
      out.push(this.app());
    }
  }

  /** Skips one context-tagged element (primitive or constructed). */
  skipContext(): void {
    const t = this.tag();
    if (t.opening) {
      for (;;) {
        const n = this.peek();
        if (n.closing && n.num === t.num) {
          this.tag();
          return;
        }
        if (n.context) this.skipContext();
        else this.app();
      }
    }
    if (!t.closing) this.take(t.lvt);
  }
}
