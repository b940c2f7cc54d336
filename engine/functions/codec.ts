/**
 * @module
 * The columnar transfer codec between the `function` step and its worker.
 *
 * A batch never crosses as an array of objects (structured clone of 1,000 objects costs
 * milliseconds; a typed array about 0.1 ms). The fixed-width columns of a batch (numbers,
 * timestamps, sequence numbers, kinds, qualities, string ids: 42 bytes a record) are packed
 * into one `ArrayBuffer` that is transferred, not copied, and ping-pongs between the ends:
 * the worker writes its reply into the buffer it received, the host keeps the buffer for
 * the next request, so a steady stream allocates no wire buffers. A message carries
 * beside it only what does not fit there: strings first seen in this batch, and the sparse
 * `obj` (string, bigint, json values) and `reason` columns.
 *
 * Device and tag names are interned in a {@linkcode StringTable} that both ends mirror
 * and that persists across batches. Each end also remembers the id it saw at each
 * position, so a stream whose records come in the same order (as polls do) resolves names
 * with one string comparison each. When the worker returns the names of the request in
 * the same order, it says so (`names`) and the host reuses the request's name columns.
 * The protocol is strictly request/response, so either end may add strings: they ride
 * along with the message that needs them.
 */

import { Batch, type DataRecord, QUALITY_NAMES, type Value, ValueKind } from "../record.ts";
import {
  Columns,
  HEADER_BYTES,
  PositionCache,
  STRING_TABLE_LIMIT,
  StringTable,
  wireBytes,
  type WireExtras,
} from "./wire_layout.ts";

export {
  BYTES_PER_RECORD,
  Columns,
  HEADER_BYTES,
  STRING_TABLE_LIMIT,
  StringTable,
  wireBytes,
  type WireExtras,
} from "./wire_layout.ts";

const F_NAMES = 1;
const F_RESET = 2;

const K_NUMBER = ValueKind.number;
const K_BOOLEAN = ValueKind.boolean;
const K_NULL = ValueKind.null;
const K_STRING = ValueKind.string;
const K_BIGINT = ValueKind.bigint;
const K_JSON = ValueKind.json;

/**
 * One end of the wire: the shared buffer, the string table and the position cache. The
 * host encodes {@linkcode Batch}es and decodes replies into batches; the worker decodes
 * requests into {@linkcode DataRecord}s and encodes what the user function returns.
 *
 * Encoding writes the records into the shared buffer and returns the extras to send with
 * the message (undefined when there are none); decoding reads the shared buffer and the
 * extras that came with the message.
 */
export class WireEnd {
  #sab: SharedArrayBuffer | undefined;
  #hdr: Float64Array<ArrayBufferLike> = new Float64Array(0);
  #newBuffer = false;
  #reset = false;
  #seen = new PositionCache();
  #seenN = 0;
  readonly strings = new StringTable();

  /** An end that owns a new buffer for `capacity` records (the host). */
  static withCapacity(capacity: number): WireEnd {
    const w = new WireEnd();
    w.#use(new SharedArrayBuffer(wireBytes(capacity)));
    w.#newBuffer = true;
    return w;
  }

  /** The `now` written by the last encode (the host's clock). */
  get now(): number {
    return this.#hdr[2] ?? 0;
  }

  #use(sab: SharedArrayBuffer): void {
    this.#sab = sab;
    this.#hdr = new Float64Array(sab, 0, 4);
  }

  /** Columns for `n` outgoing records, growing the buffer when needed. */
  #out(n: number): Columns {
    const need = wireBytes(n);
    const cur = this.#sab;
    if (!cur || cur.byteLength < need) {
      this.#use(new SharedArrayBuffer(Math.max(need, 2 * (cur?.byteLength ?? 0))));
      this.#newBuffer = true;
    }
    return new Columns(this.#sab!, n);
  }

  /** Applies the extras of a received message; returns the columns of its records. */
  #in(x: WireExtras | undefined): Columns {
    if (x?.buf) this.#use(x.buf);
    if (!this.#sab) throw new RangeError("Cannot decode records: no shared buffer received yet");
    if (this.#hdr[1]! & F_RESET) {
      this.strings.clear();
      this.#seenN = 0;
    }
    if (x?.strs) this.strings.receive(x.strs);
    return new Columns(this.#sab, this.#hdr[0]!);
  }

  /** Writes the header and collects the extras of an outgoing message. */
  #finish(
    n: number,
    flags: number,
    objI: number[] | undefined,
    objV: Value[] | undefined,
    reasonI: number[] | undefined,
    reasonV: string[] | undefined,
  ): WireExtras | undefined {
    const h = this.#hdr;
    h[0] = n;
    h[1] = flags;
    let x: WireExtras | undefined;
    if (this.#newBuffer) {
      x = { buf: this.#sab! };
      this.#newBuffer = false;
    }
    const strs = this.strings.takePending();
    if (strs) (x ??= {}).strs = strs;
    if (objI) ((x ??= {}).objI = objI), (x.objV = objV);
    if (reasonI) ((x ??= {}).reasonI = reasonI), (x.reasonV = reasonV);
    return x;
  }

  /** Encodes the records of a batch (host side); `now` is what `ctx.now()` returns. */
  encodeBatch(batch: Batch, now: number): WireExtras | undefined {
    const n = batch.length;
    const st = this.strings;
    let flags = 0;
    if (st.size > STRING_TABLE_LIMIT) {
      st.clear();
      flags |= F_RESET;
    }
    const c = this.#out(n);
    this.#hdr[2] = now;
    c.num.set(batch.num.subarray(0, n));
    c.sourceTs.set(batch.sourceTs.subarray(0, n));
    c.gatewayTs.set(batch.gatewayTs.subarray(0, n));
    c.seq.set(batch.seq.subarray(0, n));
    c.kind.set(batch.kind.subarray(0, n));
    c.quality.set(batch.quality.subarray(0, n));
    const seen = this.#seen;
    seen.ensure(n);
    const list = st.list, dev = c.dev, tag = c.tag, kind = c.kind;
    const seenDev = seen.dev, seenTag = seen.tag;
    const devices = batch.device, tags = batch.tag, reasons = batch.reason, obj = batch.obj;
    let objI: number[] | undefined, objV: Value[] | undefined;
    let reasonI: number[] | undefined, reasonV: string[] | undefined;
    for (let i = 0; i < n; i++) {
      const d = devices[i]!, t = tags[i]!;
      let id = seenDev[i]!;
      if (list[id] !== d) seenDev[i] = id = st.intern(d);
      dev[i] = id;
      id = seenTag[i]!;
      if (list[id] !== t) seenTag[i] = id = st.intern(t);
      tag[i] = id;
      const k = kind[i]!;
      if (k !== K_NUMBER && k !== K_BOOLEAN && k !== K_NULL) {
        (objI ??= []).push(i);
        (objV ??= []).push(obj[i] as Value);
      }
    }
    if (reasons.length > 0) {
      for (let i = 0; i < n; i++) {
        const r = reasons[i];
        if (r !== undefined) {
          (reasonI ??= []).push(i);
          (reasonV ??= []).push(r);
        }
      }
    }
    return this.#finish(n, flags, objI, objV, reasonI, reasonV);
  }

  /**
   * Decodes a reply into a new batch (host side). `request` is the batch the reply
   * answers: its name columns are reused when the reply says they did not change.
   */
  decodeBatch(x: WireExtras | undefined, request?: Batch): Batch {
    const c = this.#in(x);
    const n = c.n;
    const b = new Batch(1);
    const own = new ArrayBuffer(34 * n);
    new Uint8Array(own).set(new Uint8Array(this.#sab!, HEADER_BYTES, 34 * n));
    b.num = new Float64Array(own, 0, n);
    b.sourceTs = new Float64Array(own, 8 * n, n);
    b.gatewayTs = new Float64Array(own, 16 * n, n);
    b.seq = new Float64Array(own, 24 * n, n);
    b.kind = new Uint8Array(own, 32 * n, n);
    b.quality = new Uint8Array(own, 33 * n, n);
    if (this.#hdr[1]! & F_NAMES && request && request.length === n) {
      b.device = request.device.slice(0, n);
      b.tag = request.tag.slice(0, n);
    } else {
      const list = this.strings.list, dev = c.dev, tag = c.tag;
      const devices = new Array<string>(n), tags = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        devices[i] = list[dev[i]!]!;
        tags[i] = list[tag[i]!]!;
      }
      b.device = devices;
      b.tag = tags;
    }
    if (x?.objI) { for (let j = 0; j < x.objI.length; j++) b.obj[x.objI[j]!] = x.objV![j]; }
    if (x?.reasonI) {
      for (let j = 0; j < x.reasonI.length; j++) b.reason[x.reasonI[j]!] = x.reasonV![j];
    }
    b.length = n;
    return b;
  }

  /** Decodes a request into record objects (worker side). */
  decodeRecords(x: WireExtras | undefined): DataRecord[] {
    const c = this.#in(x);
    const n = c.n;
    const list = this.strings.list;
    const { num, sourceTs, gatewayTs, seq, dev, tag, kind, quality } = c;
    this.#seen.ensure(n);
    this.#seen.dev.set(dev);
    this.#seen.tag.set(tag);
    this.#seenN = n;
    const objI = x?.objI, objV = x?.objV, reasonI = x?.reasonI, reasonV = x?.reasonV;
    let oj = 0, rj = 0;
    let nextObj = objI ? objI[0]! : -1, nextReason = reasonI ? reasonI[0]! : -1;
    const out = new Array<DataRecord>(n);
    for (let i = 0; i < n; i++) {
      const k = kind[i]!;
      let value: Value;
      if (k === K_NUMBER) value = num[i]!;
      else if (k === K_BOOLEAN) value = num[i] !== 0;
      else if (i === nextObj) {
        value = objV![oj++]!;
        nextObj = oj < objI!.length ? objI![oj]! : -1;
      } else value = null;
      const r: DataRecord = {
        device: list[dev[i]!]!,
        tag: list[tag[i]!]!,
        value,
        quality: QUALITY_NAMES[quality[i]!]!,
        sourceTs: sourceTs[i]!,
        gatewayTs: gatewayTs[i]!,
        seq: seq[i]!,
      };
      if (i === nextReason) {
        r.reason = reasonV![rj++]!;
        nextReason = rj < reasonI!.length ? reasonI![rj]! : -1;
      }
      out[i] = r;
    }
    return out;
  }

  /**
   * Encodes what a user function returned (worker side). Throws a `TypeError` naming the
   * record and field when a record is malformed.
   */
  encodeRecords(records: readonly DataRecord[]): WireExtras | undefined {
    if (!Array.isArray(records)) {
      throw new TypeError(
        `Cannot use the returned value: expected an array of records, got ${describe(records)}`,
      );
    }
    const n = records.length;
    const st = this.strings, list = st.list;
    const seenN = this.#seenN, seenDev = this.#seen.dev, seenTag = this.#seen.tag;
    // The request's columns may be overwritten: they have been decoded into objects.
    const c = this.#out(n);
    const { num, sourceTs, gatewayTs, seq, dev, tag, kind, quality } = c;
    let same = n === seenN;
    let objI: number[] | undefined, objV: Value[] | undefined;
    let reasonI: number[] | undefined, reasonV: string[] | undefined;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (typeof r !== "object" || r === null) bad(i, "", r, "an object");
      const d = r.device, t = r.tag, v = r.value, qn = r.quality;
      const s = r.sourceTs, g = r.gatewayTs, sq = r.seq, reason = r.reason;
      // Quality names are internalized constants: these are pointer comparisons.
      const q = qn === "good" ? 0 : qn === "bad" ? 2 : qn === "uncertain" ? 1 : -1;
      if (
        typeof d !== "string" || typeof t !== "string" || q < 0 || typeof s !== "number" ||
        typeof g !== "number" || typeof sq !== "number"
      ) badRecord(i, r);
      let id = i < seenN ? seenDev[i]! : -1;
      if (list[id] !== d) (id = st.intern(d)), (same = false);
      dev[i] = id;
      id = i < seenN ? seenTag[i]! : -1;
      if (list[id] !== t) (id = st.intern(t)), (same = false);
      tag[i] = id;
      quality[i] = q;
      sourceTs[i] = s;
      gatewayTs[i] = g;
      seq[i] = sq;
      if (typeof v === "number") {
        num[i] = v;
        kind[i] = K_NUMBER;
      } else if (typeof v === "boolean") {
        num[i] = v ? 1 : 0;
        kind[i] = K_BOOLEAN;
      } else if (v === null) {
        num[i] = NaN;
        kind[i] = K_NULL;
      } else {
        const tv = typeof v;
        if (tv !== "string" && tv !== "bigint" && tv !== "object") {
          bad(i, "value", v, "a number, boolean, string, bigint, null, array or object");
        }
        num[i] = NaN;
        kind[i] = tv === "string" ? K_STRING : tv === "bigint" ? K_BIGINT : K_JSON;
        (objI ??= []).push(i);
        (objV ??= []).push(v);
      }
      if (reason !== undefined) {
        if (typeof reason !== "string") bad(i, "reason", reason, "a string");
        (reasonI ??= []).push(i);
        (reasonV ??= []).push(reason);
      }
    }
    return this.#finish(n, same ? F_NAMES : 0, objI, objV, reasonI, reasonV);
  }

  /**
   * Extras that must reach the other end even with a reply that carries no records (a
   * grown buffer, new strings), or undefined.
   */
  pending(): WireExtras | undefined {
    let x: WireExtras | undefined;
    if (this.#newBuffer) {
      x = { buf: this.#sab! };
      this.#newBuffer = false;
    }
    const strs = this.strings.takePending();
    if (strs) (x ??= {}).strs = strs;
    return x;
  }

  /** Applies extras that came with a reply that carries no records. */
  accept(x: WireExtras | undefined): void {
    if (x?.buf) this.#use(x.buf);
    if (x?.strs) this.strings.receive(x.strs);
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "object") return "an object";
  if (typeof v === "function") return "a function";
  return `${typeof v} ${String(v)}`;
}

/** Names the first malformed field of a returned record. */
function badRecord(i: number, r: DataRecord): never {
  for (const f of ["device", "tag"] as const) {
    if (typeof r[f] !== "string") bad(i, f, r[f], "a string");
  }
  if (!(QUALITY_NAMES as readonly unknown[]).includes(r.quality)) {
    bad(i, "quality", r.quality, `one of ${QUALITY_NAMES.join(", ")}`);
  }
  for (const f of ["sourceTs", "gatewayTs", "seq"] as const) {
    if (typeof r[f] !== "number") bad(i, f, r[f], "a number");
  }
  bad(i, "", r, "a record");
}

function bad(i: number, field: string, v: unknown, expected: string): never {
  const what = field ? `"${field}" of returned record ${i}` : `returned record ${i}`;
  throw new TypeError(`Cannot use ${what}: expected ${expected}, got ${describe(v)}`);
}
