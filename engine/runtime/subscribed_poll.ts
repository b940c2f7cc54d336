/**
 * @module
 * A `subscribe:` poll at run time: the device pushes its tags' values and this runner turns
 * them into batches exactly as {@linkcode PollRunner} turns a read into one: sequence numbers
 * from the device's counter, the gateway timestamp, the tag's scaling, bad quality with the
 * reason, emitted under the poll's name into the same graph. Values pushed in the same turn
 * of the event loop (one notification of many values) make one batch, without a timer. A
 * device that goes down makes a batch of every tag bad with the reason (see
 * `DeviceSubscriptions`). Problems are logged when they appear and when they clear.
 */

import type { Clock } from "../clock.ts";
import type { ReadPlan, ReadSink, TagConfig, TagScaling } from "../driver.ts";
import { BifrostError } from "../errors.ts";
import type { PollConfig } from "../flow/types.ts";
import type { Logger } from "../log.ts";
import { Batch, Quality, type SequenceCounter, type Value } from "../record.ts";
import { scaleValue } from "../scaling.ts";
import type { DeviceRuntime } from "./device.ts";
import type { SubscriptionTarget } from "./subscriptions.ts";

/** Figures of a subscribed poll. */
export interface SubscriptionStats {
  /** Values (and failures) pushed. */
  pushes: number;
  /** Batches emitted. */
  batches: number;
}

/** Options of a {@linkcode SubscriptionRunner}. */
export interface SubscriptionRunnerOptions {
  log: Logger;
  clock: Clock;
  seq: SequenceCounter;
  /** Hands a batch to the graph (under the poll's name). */
  emit: (batch: Batch) => void;
}

/** A subscribed poll bound to its device. */
export class SubscriptionRunner implements SubscriptionTarget {
  readonly config: PollConfig;
  readonly device: DeviceRuntime;
  readonly plan: ReadPlan;
  readonly options: Record<string, unknown>;
  readonly stats: SubscriptionStats = { pushes: 0, batches: 0 };
  readonly sink: ReadSink;
  #o: SubscriptionRunnerOptions;
  #log: Logger;
  #names: string[];
  #scales: (TagScaling | undefined)[];
  // Pushes waiting for the end of the turn, as parallel columns.
  #index: number[] = [];
  #value: Value[] = [];
  #ts: number[] = [];
  /** Per push: the error of a bad value, the reason of an uncertain one, or nothing. */
  #error: (BifrostError | string | undefined)[] = [];
  #scheduled = false;
  #closed = false;
  /** The reason of each failing tag (by plan index), and how many tags fail for each. */
  #failing = new Map<number, string>();
  #reasons = new Map<string, number>();

  constructor(config: PollConfig, device: DeviceRuntime, o: SubscriptionRunnerOptions) {
    this.config = config;
    this.device = device;
    this.options = config.subscribe ?? {};
    const tags: TagConfig[] = config.tags === "*"
      ? [...device.config.tags.values()]
      : config.tags.map((t) => device.config.tags.get(t)!);
    this.plan = device.plan(tags);
    this.#names = this.plan.tags.map((t) => t.name);
    this.#scales = this.plan.tags.map((t) => t.scale);
    this.#o = o;
    this.#log = o.log.child({ poll: config.name, device: device.name });
    const push = (i: number, v: Value, ts: number, e: BifrostError | string | undefined) =>
      this.#push(i, v, ts, e);
    const clock = o.clock;
    this.sink = {
      value(index, value, sourceTs, uncertain) {
        push(index, value, sourceTs, uncertain);
      },
      fail(index, error) {
        push(index, null, clock.now(), error);
      },
    };
  }

  /** Subscribes through the device (now if connected, else when it connects). */
  start(): void {
    this.device.subscribe(this);
  }

  /** Every tag is bad for `error`. */
  down(error: BifrostError): void {
    const now = this.#o.clock.now();
    for (let i = 0; i < this.#names.length; i++) this.#push(i, null, now, error);
  }

  /** Closes the subscription and emits what was pushed before. Nothing is emitted after. */
  async close(): Promise<void> {
    await this.device.unsubscribe(this);
    this.flush();
    this.#closed = true;
  }

  /** `e`: why the tag is bad, or (a string) why its value is uncertain. */
  #push(i: number, v: Value, ts: number, e: BifrostError | string | undefined): void {
    if (this.#closed || i < 0 || i >= this.#names.length) return;
    this.stats.pushes++;
    this.#index.push(i);
    this.#value.push(v);
    this.#ts.push(ts);
    this.#error.push(e);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Emits the values pushed so far as one batch (called at the end of each turn). */
  flush(): void {
    this.#scheduled = false;
    const n = this.#index.length;
    if (n === 0 || this.#closed) return;
    const index = this.#index;
    const batch = Batch.withNames(this.device.name, index.map((i) => this.#names[i]!));
    const now = this.#o.clock.now();
    batch.gatewayTs.fill(now);
    const seq0 = this.#o.seq.take(this.device.name, n);
    const wasFailing = this.#failing.size > 0;
    for (let r = 0; r < n; r++) {
      batch.seq[r] = seq0 + r;
      batch.sourceTs[r] = this.#ts[r]!;
      const error = this.#error[r];
      if (error instanceof BifrostError) {
        batch.setValue(r, null);
        batch.quality[r] = Quality.bad;
        batch.reason[r] = error.message;
        this.#tagFailed(index[r]!, error.message);
      } else {
        this.#tagRecovered(index[r]!);
        const scale = this.#scales[index[r]!];
        const v = this.#value[r]!;
        batch.setValue(r, scale ? scaleValue(v, scale) : v);
        if (error !== undefined) {
          batch.quality[r] = Quality.uncertain;
          batch.reason[r] = error;
        }
      }
    }
    this.#index = [];
    this.#value = [];
    this.#ts = [];
    this.#error = [];
    if (wasFailing && this.#failing.size === 0) this.#log.info("Subscribed values recovered");
    this.stats.batches++;
    this.#o.emit(batch);
  }

  #tagFailed(i: number, reason: string): void {
    const prev = this.#failing.get(i);
    if (prev === reason) return;
    if (prev !== undefined) this.#tagRecovered(i);
    this.#failing.set(i, reason);
    const n = (this.#reasons.get(reason) ?? 0) + 1;
    this.#reasons.set(reason, n);
    // A reason seen first; while the device is down, its state change is the line to log.
    if (n === 1 && this.device.health().state === "connected") {
      this.#log.warn("Subscribed value failed", { error: reason });
    }
  }

  #tagRecovered(i: number): void {
    const prev = this.#failing.get(i);
    if (prev === undefined) return;
    this.#failing.delete(i);
    const n = this.#reasons.get(prev)! - 1;
    if (n === 0) this.#reasons.delete(prev);
    else this.#reasons.set(prev, n);
  }
}
