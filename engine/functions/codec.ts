/**
 * @module
 * The columnar transfer codec between the `function` step and its worker.
 *
 * A batch never crosses as an array of objects (structured clone of 1,000 objects costs
 * milliseconds; a typed array about 0.1 ms). The fixed-width columns of a batch (numbers,
 * timestamps, sequence numbers, kinds, qualities, string ids: 42 bytes a record) are
 * written into one `SharedArrayBuffer` that both ends hold: the worker writes its reply
 * where it read the request, so a steady stream allocates no wire buffers and a message
 * is a bare batch id. A message carries beside it only what does not fit there: strings
 * first seen, the sparse `obj` (string, bigint, json values) and `reason` columns, and a
 * new buffer when one end had to grow it.
 *
 * Device and tag names are interned in a {@linkcode StringTable} that both ends mirror
 * and that persists across batches. Each end also remembers the names of the last request
 * position by position ({@linkcode Names}). When every name of a request is the one at
 * the same position in the previous request (one pointer comparison each: a driver's
 * polls hand the same string objects), the request says so (`F_NAMES`) and carries no
 * ids; the worker reuses the strings it resolved before. When the records a function
 * returns keep the names of the request, the reply says so and the host copies the
 * request's names. The protocol is strictly request/response, so either end may add
 * strings: they ride along with the message that needs them.
 *
 * Hot loops avoid allocation and keep object shapes stable: views of the buffer are kept
 * while the record count stays the same, and the worker builds every record from one of
 * two object literals (without and with `reason`), so that records stay monomorphic and a
 * good record has no `reason` key at all (as {@linkcode DataRecord} says).
 */

import { Batch, type DataRecord, QUALITY_NAMES, StorageKind, type Value } from "../record.ts";
import {
  Columns,
  FIXED_BYTES_PER_RECORD,
  HEADER_BYTES,
  Names,
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

/** The names are those of the last request, position by position: no ids were written. */
const F_NAMES = 1;
/** The sender cleared its string table: the receiver must clear its own. */
const F_RESET = 2;

const K_NUMBER = StorageKind.number;
const K_BOOLEAN = StorageKind.boolean;
const K_NULL = StorageKind.null;
const K_STRING = StorageKind.string;
const K_BIGINT = StorageKind.bigint;
const K_JSON = StorageKind.json;
const Q_NAMES: readonly string[] = QUALITY_NAMES;

/**
 * One end of the wire: the shared buffer, the string table and the names of the last
 * request. The host encodes {@linkcode Batch}es and decodes replies into batches; the
 * worker decodes requests into {@linkcode DataRecord}s and encodes what the user function
 * returns.
 *
 * Encoding writes the records into the shared buffer and returns the extras to send with
 * the message (undefined when there are none); decoding reads the shared buffer and the
 * extras that came with the message.
 */
export class WireEnd {
  #sab: SharedArrayBuffer | undefined;
  #hdr: Float64Array<SharedArrayBuffer> | undefined;
  #cols: Columns | undefined;
  #newBuffer = false;
  #names = new Names();
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
    return this.#hdr?.[2] ?? 0;
  }

  #use(sab: SharedArrayBuffer): void {
    this.#sab = sab;
    this.#hdr = new Float64Array(sab, 0, 4);
    this.#cols = undefined;
  }

  /** Views of `n` records in the current buffer. */
  #columns(n: number): Columns {
    const c = this.#cols;
    if (c !== undefined && c.n === n) return c;
    return (this.#cols = new Columns(this.#sab!, n));
  }

  /** Columns for `n` outgoing records, growing the buffer when needed. */
  #out(n: number): Columns {
    const cur = this.#sab;
    const need = wireBytes(n);
    if (!cur || cur.byteLength < need) {
      this.#use(new SharedArrayBuffer(Math.max(need, 2 * (cur?.byteLength ?? 0))));
      this.#newBuffer = true;
    }
    return this.#columns(n);
  }

  /** Applies the extras of a received message; returns the columns of its records. */
  #in(x: WireExtras | undefined): Columns {
    if (x?.buf) this.#use(x.buf);
    const h = this.#hdr;
    if (!h) throw new RangeError("Cannot decode records: no shared buffer received yet");
    if (h[1]! & F_RESET) {
      this.strings.clear();
      this.#names.clear();
    }
    if (x?.strs) this.strings.receive(x.strs);
    return this.#columns(h[0]!);
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
    const h = this.#hdr!;
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
    const st = this.strings, p = this.#names;
    let flags = 0;
    if (st.size > STRING_TABLE_LIMIT) {
      st.clear();
      p.clear();
      flags |= F_RESET;
    }
    const c = this.#out(n);
    this.#hdr![2] = now;
    p.ensure(n);
    let changed = n !== p.n;
    p.n = n;
    // Typed columns: one block copy each (a loop over twelve arrays spills registers).
    copy(c.num, batch.num, n);
    copy(c.sourceTs, batch.sourceTs, n);
    copy(c.gatewayTs, batch.gatewayTs, n);
    copy(c.seq, batch.seq, n);
    copy(c.kind, batch.kind, n);
    copy(c.quality, batch.quality, n);
    const kind = batch.kind, obj = batch.obj;
    let objI: number[] | undefined, objV: Value[] | undefined;
    for (let i = 0; i < n; i++) {
      const k = kind[i]!;
      if (k !== K_NUMBER && k !== K_BOOLEAN && k !== K_NULL) {
        (objI ??= []).push(i);
        (objV ??= []).push(obj[i] as Value);
      }
    }
    // The same object at the same position: a pointer comparison. An equal string of
    // another identity compares by content and still counts as unchanged.
    const devices = batch.device, tags = batch.tag;
    const pDev = p.dev, pTag = p.tag, devId = p.devId, tagId = p.tagId;
    for (let i = 0; i < n; i++) {
      const d = devices[i]!, t = tags[i]!;
      if (d !== pDev[i]) {
        pDev[i] = d;
        devId[i] = st.intern(d);
        changed = true;
      }
      if (t !== pTag[i]) {
        pTag[i] = t;
        tagId[i] = st.intern(t);
        changed = true;
      }
    }
    if (changed) {
      const dev = c.dev, tag = c.tag;
      for (let i = 0; i < n; i++) {
        dev[i] = devId[i]!;
        tag[i] = tagId[i]!;
      }
    } else flags |= F_NAMES;
    let reasonI: number[] | undefined, reasonV: string[] | undefined;
    const reasons = batch.reason, nr = Math.min(n, reasons.length);
    for (let i = 0; i < nr; i++) {
      const r = reasons[i];
      if (r !== undefined) {
        (reasonI ??= []).push(i);
        (reasonV ??= []).push(r);
      }
    }
    return this.#finish(n, flags, objI, objV, reasonI, reasonV);
  }

  /**
   * Decodes a reply (host side) into `into`, the batch the reply answers, and returns it:
   * a step owns its input batch and may return it mutated (see `engine/step.ts`; the
   * gateway hands a step its own copy when a batch is shared), so a steady stream
   * allocates no batch, no columns and no name arrays. The typed columns are copied out of
   * the shared buffer; names the reply kept are already in place. Without `into`, the
   * reply is decoded into a new batch.
   */
  decodeBatch(x: WireExtras | undefined, into?: Batch): Batch {
    const c = this.#in(x);
    const n = c.n;
    const same = (this.#hdr![1]! & F_NAMES) !== 0;
    const b = into ?? new Batch(n);
    if (
      b.num.length < n || b.sourceTs.length < n || b.gatewayTs.length < n ||
      b.seq.length < n || b.kind.length < n || b.quality.length < n
    ) {
      const cap = Math.max(n, 2 * b.num.length);
      b.num = new Float64Array(cap);
      b.sourceTs = new Float64Array(cap);
      b.gatewayTs = new Float64Array(cap);
      b.seq = new Float64Array(cap);
      b.kind = new Uint8Array(cap);
      b.quality = new Uint8Array(cap);
    }
    b.num.set(c.num);
    b.sourceTs.set(c.sourceTs);
    b.gatewayTs.set(c.gatewayTs);
    b.seq.set(c.seq);
    b.kind.set(c.kind);
    b.quality.set(c.quality);
    const p = this.#names;
    if (same && b === into && b.length === n) {
      // The names of the request, which is `into`: nothing to do.
    } else if (same) {
      b.device = p.dev.slice(0, n);
      b.tag = p.tag.slice(0, n);
    } else {
      const list = this.strings.list, dev = c.dev, tag = c.tag;
      const devices = b.device, tags = b.tag;
      for (let i = 0; i < n; i++) {
        devices[i] = list[dev[i]!]!;
        tags[i] = list[tag[i]!]!;
      }
      if (devices.length > n) devices.length = n;
      if (tags.length > n) tags.length = n;
    }
    const obj: (Value | undefined)[] = [], reason: (string | undefined)[] = [];
    const objI = x?.objI, reasonI = x?.reasonI;
    if (objI) { for (let j = 0; j < objI.length; j++) obj[objI[j]!] = x!.objV![j]; }
    if (reasonI) { for (let j = 0; j < reasonI.length; j++) reason[reasonI[j]!] = x!.reasonV![j]; }
    b.obj = obj;
    b.reason = reason;
    b.length = n;
    return b;
  }

  /** Decodes a request into record objects (worker side). */
  decodeRecords(x: WireExtras | undefined): DataRecord[] {
    const c = this.#in(x);
    const n = c.n;
    const p = this.#names;
    if (this.#hdr![1]! & F_NAMES) {
      if (p.n !== n) {
        throw new RangeError(
          `Cannot decode records: the request reuses the names of ${p.n} records for ${n}`,
        );
      }
    } else {
      p.ensure(n);
      const list = this.strings.list, dev = c.dev, tag = c.tag;
      const pDev = p.dev, pTag = p.tag, devId = p.devId, tagId = p.tagId;
      for (let i = 0; i < n; i++) {
        const d = dev[i]!, t = tag[i]!;
        devId[i] = d;
        tagId[i] = t;
        pDev[i] = list[d]!;
        pTag[i] = list[t]!;
      }
    }
    p.n = n;
    const pDev = p.dev, pTag = p.tag;
    const { num, sourceTs, gatewayTs, seq, kind, quality } = c;
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
      if (i !== nextReason) {
        out[i] = {
          device: pDev[i]!,
          tag: pTag[i]!,
          value,
          quality: QUALITY_NAMES[quality[i]!]!,
          sourceTs: sourceTs[i]!,
          gatewayTs: gatewayTs[i]!,
          seq: seq[i]!,
        };
      } else {
        out[i] = {
          device: pDev[i]!,
          tag: pTag[i]!,
          value,
          quality: QUALITY_NAMES[quality[i]!]!,
          sourceTs: sourceTs[i]!,
          gatewayTs: gatewayTs[i]!,
          seq: seq[i]!,
          reason: reasonV![rj++]!,
        };
        nextReason = rj < reasonI!.length ? reasonI![rj]! : -1;
      }
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
    const p = this.#names;
    // The request's columns may be overwritten: they have been decoded into objects.
    const c = this.#out(n);
    const { num, sourceTs, gatewayTs, seq, kind, quality } = c;
    const pDev = p.dev, pTag = p.tag;
    let same = n === p.n;
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
      // Names the function kept are the table's internalized strings: pointer comparisons.
      if (d !== pDev[i] || t !== pTag[i]) same = false;
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
    if (!same) this.#writeIds(records, c);
    return this.#finish(n, same ? F_NAMES : 0, objI, objV, reasonI, reasonV);
  }

  /** Writes the name ids of returned records that do not keep the request's names. */
  #writeIds(records: readonly DataRecord[], c: Columns): void {
    const p = this.#names, st = this.strings;
    const pDev = p.dev, pTag = p.tag, devId = p.devId, tagId = p.tagId, m = p.n;
    const dev = c.dev, tag = c.tag;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!, d = r.device, t = r.tag;
      dev[i] = i < m && d === pDev[i] ? devId[i]! : st.intern(d);
      tag[i] = i < m && t === pTag[i] ? tagId[i]! : st.intern(t);
    }
  }

  /**
   * Forgets the names of the last request (host side), so that the next request carries
   * every id. The host calls it after a reply that is not a success: whatever state the
   * worker was left in, the names are resent.
   */
  resync(): void {
    this.#names.clear();
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

  /**
   * The bytes of the last message this end encoded (header and columns), for a peer in
   * another process, which cannot share the buffer.
   */
  wireView(): Uint8Array {
    this.#newBuffer = false;
    const h = this.#hdr!;
    return new Uint8Array(this.#sab!, 0, sentBytes(h[0]!, h[1]!));
  }

  /** Copies the bytes of a message from a peer in another process into this end's buffer. */
  load(bytes: Uint8Array): void {
    const cur = this.#sab;
    // Room for every column of the message's records, the name ids included when they
    // were not sent; a count that does not match the bytes is for `check` to refuse.
    let need = bytes.byteLength;
    if (need >= HEADER_BYTES) {
      // The bytes sit at any offset of a frame: not aligned for a Float64Array.
      const dv = new DataView(bytes.buffer, bytes.byteOffset, 16);
      const n = dv.getFloat64(0, true), flags = dv.getFloat64(8, true);
      if (Number.isInteger(n) && n >= 0 && sentBytes(n, flags) <= need) {
        need = Math.max(need, wireBytes(n));
      }
    }
    if (!cur || cur.byteLength < need) {
      this.#use(new SharedArrayBuffer(Math.max(need, 2 * (cur?.byteLength ?? 0))));
    }
    new Uint8Array(this.#sab!).set(bytes);
  }

  /**
   * What a loaded message's header says (the peer is untrusted: `check.ts` validates it
   * before {@linkcode WireEnd.decodeBatch} reads the records): the record count, whether
   * the names are those of the last request, whether the string table was reset, whether
   * the flags are all known, how many names the last request had, and the bytes the
   * message must have had.
   */
  header(): {
    n: number;
    need: number;
    sameNames: boolean;
    reset: boolean;
    known: boolean;
    lastN: number;
  } {
    const h = this.#hdr;
    const n = h?.[0] ?? NaN, flags = h?.[1] ?? NaN;
    return {
      n,
      need: Number.isInteger(n) && n >= 0 ? sentBytes(n, flags) : Infinity,
      sameNames: (flags & F_NAMES) !== 0,
      reset: (flags & F_RESET) !== 0,
      known: Number.isInteger(flags) && (flags & ~(F_NAMES | F_RESET)) === 0,
      lastN: this.#names.n,
    };
  }

  /** Views of `n` records in the buffer; `n` must fit it (see `sentBytes`). */
  columnsOf(n: number): Columns {
    return this.#columns(n);
  }

  /** Applies extras that came with a reply that carries no records. */
  accept(x: WireExtras | undefined): void {
    if (x?.buf) this.#use(x.buf);
    if (x?.strs) this.strings.receive(x.strs);
  }
}

/**
 * Bytes of a message of `n` records for a peer in another process: without the name id
 * columns when the names are those of the last request (`F_NAMES`), as nobody reads them.
 */
function sentBytes(n: number, flags: number): number {
  return flags & F_NAMES ? HEADER_BYTES + FIXED_BYTES_PER_RECORD * n : wireBytes(n);
}

/** Copies the first `n` entries of `src` into `dst` (whose length is `n`). */
function copy<T extends Float64Array | Uint8Array>(dst: T, src: T, n: number): void {
  (dst as Float64Array).set(
    src.length === n ? src as Float64Array : src.subarray(0, n) as Float64Array,
  );
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
  if (!Q_NAMES.includes(r.quality)) {
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
