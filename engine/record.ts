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
export const ValueKind = { number: 0, boolean: 1, string: 2, bigint: 3, json: 4, null: 5 } as const;
/** Numeric value-kind code. */
export type ValueKindCode = (typeof ValueKind)[keyof typeof ValueKind];

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

function grow<T extends Float64Array | Uint8Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/**
 * A batch of records, column by column. Columns may be longer than `length`: only the
 * first `length` entries count. `obj` holds the values whose kind is not number or
 * boolean, and `reason` the reasons of records that are not good; both are sparse.
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
    const c = Math.max(1, capacity);
    this.device = [];
    this.tag = [];
    this.num = new Float64Array(c);
    this.kind = new Uint8Array(c);
    this.obj = [];
    this.quality = new Uint8Array(c);
    this.reason = [];
    this.sourceTs = new Float64Array(c);
    this.gatewayTs = new Float64Array(c);
    this.seq = new Float64Array(c);
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
    if (n <= this.num.length) return;
    let cap = this.num.length * 2;
    while (cap < n) cap *= 2;
    this.num = grow(this.num, cap);
    this.kind = grow(this.kind, cap);
    this.quality = grow(this.quality, cap);
    this.sourceTs = grow(this.sourceTs, cap);
    this.gatewayTs = grow(this.gatewayTs, cap);
    this.seq = grow(this.seq, cap);
  }

  /** Sets the value of record `i`, choosing the right column. */
  setValue(i: number, v: Value): void {
    switch (typeof v) {
      case "number":
        this.num[i] = v;
        this.kind[i] = ValueKind.number;
        this.obj[i] = undefined;
        return;
      case "boolean":
        this.num[i] = v ? 1 : 0;
        this.kind[i] = ValueKind.boolean;
        this.obj[i] = undefined;
        return;
      case "string":
        this.kind[i] = ValueKind.string;
        break;
      case "bigint":
        this.kind[i] = ValueKind.bigint;
        break;
      default:
        this.kind[i] = v === null ? ValueKind.null : ValueKind.json;
    }
    this.num[i] = NaN;
    this.obj[i] = v;
  }

  /** The value of record `i`. */
  value(i: number): Value {
    const k = this.kind[i];
    if (k === ValueKind.number) return this.num[i]!;
    if (k === ValueKind.boolean) return this.num[i] !== 0;
    if (k === ValueKind.null) return null;
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
    this.reason[i] = reason;
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
    this.obj[j] = src.obj[i];
    this.quality[j] = src.quality[i]!;
    this.reason[j] = src.reason[i];
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
}
