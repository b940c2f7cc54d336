/**
 * @module
 * The record model. A record is one value of one tag: device, tag, value, quality (with a
 * reason when not good), source and gateway timestamps, and a per-source sequence number.
 *
 * Records move through the graph in {@linkcode Batch}es stored column by column
 * (struct of arrays): numeric values, qualities, timestamps and sequence numbers sit in
 * typed arrays. That is what lets a batch of 1,000 records cross into a function worker
 * as a handful of typed arrays instead of 1,000 cloned objects, and lets built-in steps
 * run tight loops without allocating.
 */

/** Quality of a value, ordered from best to worst. */
export const Quality = { good: 0, uncertain: 1, bad: 2 } as const;
/** Numeric quality code. */
export type QualityCode = (typeof Quality)[keyof typeof Quality];
/** Quality names, indexed by code. */
export const QUALITY_NAMES = ["good", "uncertain", "bad"] as const;
/** A quality name. */
export type QualityName = (typeof QUALITY_NAMES)[number];

/** How a value is stored: numbers and booleans live in the `num` column, others in `obj`. */
export const StorageKind = {
  number: 0,
  boolean: 1,
  string: 2,
  bigint: 3,
  json: 4,
  null: 5,
} as const;
/** Numeric value-kind code. */
export type StorageKindCode = (typeof StorageKind)[keyof typeof StorageKind];

/** A value as a tag carries it. */
export type Value = number | boolean | string | bigint | null | Value[] | { [k: string]: Value };

/** One record as an object: what sinks, APIs and user functions see. */
export interface DataRecord {
  device: string;
  tag: string;
  value: Value;
  quality: QualityName;
  /** Why the quality is not good; absent when good. */
  reason?: string;
  /** When the source says the value was taken (ms since epoch). */
  sourceTs: number;
  /** When the gateway received it (ms since epoch). */
  gatewayTs: number;
  /** Sequence number, strictly increasing per source (device or step). */
  seq: number;
}

/** Bytes per record of the typed columns: 4 x Float64 + 2 x Uint8. */
const ROW_BYTES = 34;

/**
 * A batch of records, column by column. Columns may be longer than `length`: only the
 * first `length` entries count. `obj` holds the values whose kind is not number or
 * boolean, and `reason` the reasons of records that are not good; both are sparse and may
 * be shorter than `length` (a missing entry is `undefined`). The typed columns are views of
 * one ArrayBuffer: a batch costs one buffer allocation, not six.
 */
export class Batch {
  length = 0;
  device: string[];
  tag: string[];
  num: Float64Array;
  kind: Uint8Array;
  obj: (Value | undefined)[];
  quality: Uint8Array;
  reason: (string | undefined)[];
  sourceTs: Float64Array;
  gatewayTs: Float64Array;
  seq: Float64Array;

  constructor(capacity = 16) {
    this.device = [];
    this.tag = [];
    this.obj = [];
    this.reason = [];
    const c = Math.max(1, capacity);
    const buf = new ArrayBuffer(c * ROW_BYTES);
    this.num = new Float64Array(buf, 0, c);
    this.sourceTs = new Float64Array(buf, 8 * c, c);
    this.gatewayTs = new Float64Array(buf, 16 * c, c);
    this.seq = new Float64Array(buf, 24 * c, c);
    this.kind = new Uint8Array(buf, 32 * c, c);
    this.quality = new Uint8Array(buf, 33 * c, c);
  }

  /**
   * A batch of `tag.length` records of one device, its tag column a copy of `tag` (a poll's
   * names, built once), the other columns zero: good quality, value 0.
   */
  static withNames(device: string, tag: readonly string[]): Batch {
    const b = new Batch(tag.length);
    b.device = new Array<string>(tag.length).fill(device);
    b.tag = tag.slice();
    b.length = tag.length;
    return b;
  }

  /** Builds a batch from record objects. */
  static from(records: Iterable<DataRecord>): Batch {
    const b = new Batch();
    for (const r of records) b.push(r);
    return b;
  }

  /** Capacity of the typed columns. */
  get capacity(): number {
    return this.num.length;
  }

  private ensure(n: number): void {
    const c = this.num.length;
    if (n <= c) return;
    let cap = c * 2;
    while (cap < n) cap *= 2;
    const buf = new ArrayBuffer(cap * ROW_BYTES);
    const f64 = (at: number, old: Float64Array) => {
      const a = new Float64Array(buf, at * cap, cap);
      a.set(old);
      return a;
    };
    const u8 = (at: number, old: Uint8Array) => {
      const a = new Uint8Array(buf, at * cap, cap);
      a.set(old);
      return a;
    };
    this.num = f64(0, this.num);
    this.sourceTs = f64(8, this.sourceTs);
    this.gatewayTs = f64(16, this.gatewayTs);
    this.seq = f64(24, this.seq);
    this.kind = u8(32, this.kind);
    this.quality = u8(33, this.quality);
  }

  /** Sets the value of record `i`, choosing the right column. */
  setValue(i: number, v: Value): void {
    switch (typeof v) {
      case "number":
        this.num[i] = v;
        this.kind[i] = StorageKind.number;
        if (i < this.obj.length) this.obj[i] = undefined;
        return;
      case "boolean":
        this.num[i] = v ? 1 : 0;
        this.kind[i] = StorageKind.boolean;
        if (i < this.obj.length) this.obj[i] = undefined;
        return;
      case "string":
        this.kind[i] = StorageKind.string;
        break;
      case "bigint":
        this.kind[i] = StorageKind.bigint;
        break;
      default:
        this.kind[i] = v === null ? StorageKind.null : StorageKind.json;
    }
    this.num[i] = NaN;
    this.obj[i] = v;
  }

  /** The value of record `i`. */
  value(i: number): Value {
    const k = this.kind[i];
    if (k === StorageKind.number) return this.num[i]!;
    if (k === StorageKind.boolean) return this.num[i] !== 0;
    if (k === StorageKind.null) return null;
    return this.obj[i] as Value;
  }

  /** Appends one record given field by field; returns its index. */
  add(
    device: string,
    tag: string,
    value: Value,
    quality: QualityCode,
    reason: string | undefined,
    sourceTs: number,
    gatewayTs: number,
    seq: number,
  ): number {
    const i = this.length;
    this.ensure(i + 1);
    this.device[i] = device;
    this.tag[i] = tag;
    this.setValue(i, value);
    this.quality[i] = quality;
    if (reason !== undefined || i < this.reason.length) this.reason[i] = reason;
    this.sourceTs[i] = sourceTs;
    this.gatewayTs[i] = gatewayTs;
    this.seq[i] = seq;
    this.length = i + 1;
    return i;
  }

  /** Appends a record object. */
  push(r: DataRecord): number {
    return this.add(
      r.device,
      r.tag,
      r.value,
      Quality[r.quality],
      r.reason,
      r.sourceTs,
      r.gatewayTs,
      r.seq,
    );
  }

  /** Appends record `i` of another batch. */
  copyFrom(src: Batch, i: number): number {
    const j = this.length;
    this.ensure(j + 1);
    this.device[j] = src.device[i]!;
    this.tag[j] = src.tag[i]!;
    this.num[j] = src.num[i]!;
    this.kind[j] = src.kind[i]!;
    const obj = src.obj[i];
    if (obj !== undefined || j < this.obj.length) this.obj[j] = obj;
    this.quality[j] = src.quality[i]!;
    const reason = src.reason[i];
    if (reason !== undefined || j < this.reason.length) this.reason[j] = reason;
    this.sourceTs[j] = src.sourceTs[i]!;
    this.gatewayTs[j] = src.gatewayTs[i]!;
    this.seq[j] = src.seq[i]!;
    this.length = j + 1;
    return j;
  }

  /** Record `i` as an object. */
  get(i: number): DataRecord {
    if (i < 0 || i >= this.length) {
      throw new RangeError(`Cannot get record ${i}: batch has ${this.length} records`);
    }
    const r: DataRecord = {
      device: this.device[i]!,
      tag: this.tag[i]!,
      value: this.value(i),
      quality: QUALITY_NAMES[this.quality[i]!]!,
      sourceTs: this.sourceTs[i]!,
      gatewayTs: this.gatewayTs[i]!,
      seq: this.seq[i]!,
    };
    const reason = this.reason[i];
    if (reason !== undefined) r.reason = reason;
    return r;
  }

  /** All records as objects. */
  toArray(): DataRecord[] {
    const out = new Array<DataRecord>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<DataRecord> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /** A new batch with the records whose index passes `keep`. */
  select(keep: (i: number) => boolean): Batch {
    const out = new Batch(this.length);
    for (let i = 0; i < this.length; i++) if (keep(i)) out.copyFrom(this, i);
    return out;
  }

  /** A deep-enough copy: columns are copied, values are shared (they are immutable). */
  clone(): Batch {
    const out = new Batch(this.length);
    for (let i = 0; i < this.length; i++) out.copyFrom(this, i);
    return out;
  }

  /** Appends every record of `other`. */
  append(other: Batch): this {
    for (let i = 0; i < other.length; i++) this.copyFrom(other, i);
    return this;
  }

  /** Concatenates batches into one. */
  static concat(batches: readonly Batch[]): Batch {
    let n = 0;
    for (const b of batches) n += b.length;
    const out = new Batch(n);
    for (const b of batches) out.append(b);
    return out;
  }
}

/**
 * Hands out strictly increasing sequence numbers per source. Numbers start at the
 * wall-clock millisecond of creation times 1,000 so that a restarted gateway continues
 * above the numbers it used before (for up to 1,000 records a millisecond on average),
 * which is what lets sinks detect gaps and duplicates across restarts.
 */
export class SequenceCounter {
  #next = new Map<string, number>();
  #base: number;

  constructor(now: number = Date.now()) {
    this.#base = now * 1000;
  }

  /** The next number for `source`. */
  next(source: string): number {
    return this.take(source, 1);
  }

  /** Reserves `count` consecutive numbers for `source`; returns the first. */
  take(source: string, count: number): number {
    const n = this.#next.get(source) ?? this.#base;
    this.#next.set(source, n + count);
    return n;
  }

  /**
   * The numbers handed out so far, per source: `[first, last]` (inclusive). Every number in
   * between was handed out once, so `last - first + 1` records came from that source.
   */
  ranges(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const [source, next] of this.#next) out[source] = [this.#base, next - 1];
    return out;
  }

  /** How many numbers were handed out, over all sources. */
  issued(): number {
    let n = 0;
    for (const next of this.#next.values()) n += next - this.#base;
    return n;
  }
}
