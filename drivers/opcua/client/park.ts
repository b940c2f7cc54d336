/**
 * @module
 * Subscriptions kept across a lost connection. node-opcua repairs a broken connection by
 * itself (a new secure channel, then ActivateSession of the same session; when the server no
 * longer has it, a new session with TransferSubscriptions, and the subscriptions created again
 * when the transfer is refused), and republishes what the server still holds. The engine,
 * meanwhile, closes a device's subscriptions when the connection is lost and subscribes the
 * same plans again after the next connect. So a subscription closed while the connection is
 * lost is parked here, not deleted: its values go to a buffer, and the engine's next
 * `subscribe()` of the same plan and options takes it back (the buffer first, in order; then
 * the last value of every tag that did not change while away, so that no tag stays bad).
 * A sample that arrives twice (the same value and source timestamp, republished by the
 * server after a resume) is passed on once.
 * A parked subscription nobody takes back within {@linkcode SWEEP_MS} of the resume is
 * deleted on the server.
 */

import type { ReadPlan, ReadSink, Subscription, Value } from "../../../engine/plugin.ts";
import type { BifrostError } from "../../../engine/plugin.ts";

/** How long a parked subscription waits to be taken back after a resume, ms. */
export const SWEEP_MS = 10_000;

/** Most values buffered per parked subscription (the oldest go first beyond it). */
const MAX_BUFFER = 100_000;

type Pushed =
  | { i: number; v: Value; ts: number; u: string | undefined }
  | { i: number; e: BifrostError };

/**
 * A sink between a subscription's monitored items and the engine's sink: forwards while
 * attached, buffers while parked, and remembers each data tag's last value.
 */
export class Relay implements ReadSink {
  #target: ReadSink | undefined;
  #buffer: Pushed[] = [];
  // Each data tag's last value, in columns by tag index (a 50,000-item subscription keeps
  // no object per tag: measured +0.9 kB RSS per monitored item with a Map of objects).
  #has: Uint8Array;
  #lastV: Value[];
  #lastTs: Float64Array;
  #lastU: (string | undefined)[];
  #events: ReadonlySet<number>;

  constructor(target: ReadSink, events: ReadonlySet<number>, size: number) {
    this.#target = target;
    this.#events = events;
    this.#has = new Uint8Array(size);
    this.#lastV = new Array<Value>(size).fill(null);
    this.#lastTs = new Float64Array(size);
    this.#lastU = new Array<string | undefined>(size).fill(undefined);
  }

  value(i: number, v: Value, ts: number, u?: string): void {
    if (!this.#events.has(i) && i >= 0 && i < this.#has.length) {
      // The same sample twice (republished after a resume, and received before it): once.
      if (
        this.#has[i] === 1 && this.#lastTs[i] === ts && this.#lastU[i] === u &&
        same(this.#lastV[i]!, v)
      ) return;
      this.#has[i] = 1;
      this.#lastV[i] = v;
      this.#lastTs[i] = ts;
      this.#lastU[i] = u;
    }
    if (this.#target) this.#target.value(i, v, ts, u);
    else this.#push({ i, v, ts, u });
  }

  fail(i: number, e: BifrostError): void {
    if (i >= 0 && i < this.#has.length) {
      this.#has[i] = 0;
      this.#lastV[i] = null;
    }
    if (this.#target) this.#target.fail(i, e);
    else this.#push({ i, e });
  }

  #push(p: Pushed) {
    if (this.#buffer.length >= MAX_BUFFER) this.#buffer.shift();
    this.#buffer.push(p);
  }

  /** Values from now on are buffered. */
  detach(): void {
    this.#target = undefined;
  }

  /** Sends to `target` from now on: what came while parked first, then unchanged tags' last values. */
  attach(target: ReadSink): void {
    const moved = new Set(this.#buffer.map((p) => p.i));
    for (let i = 0; i < this.#has.length; i++) {
      if (this.#has[i] === 1 && !moved.has(i)) {
        target.value(i, this.#lastV[i]!, this.#lastTs[i]!, this.#lastU[i]);
      }
    }
    for (const p of this.#buffer.splice(0)) {
      if ("e" in p) target.fail(p.i, p.e);
      else target.value(p.i, p.v, p.ts, p.u);
    }
    this.#target = target;
  }
}

const same = (a: Value, b: Value) =>
  Object.is(a, b) ||
  (typeof a === "object" && typeof b === "object" &&
    JSON.stringify(a, big) === JSON.stringify(b, big));
const big = (_: string, x: unknown) => typeof x === "bigint" ? `${x}n` : x;

/** A subscription that can be parked and taken back. */
export interface Parkable extends Subscription {
  /** The connection (object) it lives on. */
  readonly conn: object;
  /** The flow's `subscribe:` options it was made with (JSON). */
  readonly options: string;
  readonly relay: Relay;
  /** Deleted (nothing to take back). */
  readonly closed: boolean;
  /** Deletes it on the server (for good). */
  terminate(): Promise<void>;
}

/** The parked subscriptions of one driver, by plan. */
export class SubscriptionPark {
  #parked = new Map<ReadPlan, Parkable>();
  #sweep: ReturnType<typeof setTimeout> | undefined;

  get size(): number {
    return this.#parked.size;
  }

  /** Parks `s` (its values are buffered until taken back). */
  put(plan: ReadPlan, s: Parkable): void {
    s.relay.detach();
    const old = this.#parked.get(plan);
    this.#parked.set(plan, s);
    if (old && old !== s) void old.terminate();
  }

  /** The parked subscription of `plan` on `conn` with these options, taken out of the park. */
  take(plan: ReadPlan, conn: object, options: Record<string, unknown>): Parkable | undefined {
    const s = this.#parked.get(plan);
    if (!s || s.conn !== conn || s.options !== JSON.stringify(options)) return undefined;
    this.#parked.delete(plan);
    return s.closed ? undefined : s;
  }

  /** Deletes, after {@linkcode SWEEP_MS}, what is not taken back by then. */
  sweepLater(ms = SWEEP_MS): void {
    clearTimeout(this.#sweep);
    this.#sweep = setTimeout(() => void this.sweep(), ms);
  }

  /** Deletes every parked subscription on the server. */
  async sweep(): Promise<void> {
    clearTimeout(this.#sweep);
    const all = [...this.#parked.values()];
    this.#parked.clear();
    await Promise.all(all.map((s) => s.terminate().catch(() => {})));
  }

  /** Forgets every parked subscription (its connection is closed with them). */
  clear(): void {
    clearTimeout(this.#sweep);
    this.#parked.clear();
  }
}
