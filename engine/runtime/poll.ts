/**
 * @module
 * One poll group at run time: reads its compiled plan from the device, turns the results
 * into a batch (scaling applied, bad quality with the reason for tags that failed), and logs
 * read problems once when they appear and once when they clear — never once per poll.
 */

import type { Clock } from "../clock.ts";
import { noResultMessage, type ReadPlan, type TagConfig, type TagScaling } from "../driver.ts";
import type { BifrostError } from "../errors.ts";
import type { PollConfig } from "../flow/types.ts";
import type { Logger } from "../log.ts";
import { Batch, Quality, type SequenceCounter, type Value } from "../record.ts";
import { scaleValue } from "../scaling.ts";
import { CountingSink, type DeviceRuntime } from "./device.ts";
import { ScheduleStats } from "./scheduler.ts";

/** A poll group bound to its device. */
export class PollRunner {
  readonly config: PollConfig;
  readonly device: DeviceRuntime;
  readonly plan: ReadPlan;
  readonly stats = new ScheduleStats();
  #failing = new Set<string>();
  #log: Logger;
  #clock: Clock;
  #seq: SequenceCounter;
  /** The tag column of every batch, in plan order. */
  #names: string[];
  /** Each tag's scaling, when any tag has one. */
  #scales: (TagScaling | undefined)[] | undefined;

  constructor(
    config: PollConfig,
    device: DeviceRuntime,
    o: { log: Logger; clock: Clock; seq: SequenceCounter },
  ) {
    this.config = config;
    this.device = device;
    const all = [...device.config.tags.values()];
    const tags: TagConfig[] = config.tags === "*"
      ? all
      : config.tags.map((t) => device.config.tags.get(t)!);
    this.plan = device.plan(tags);
    this.#names = this.plan.tags.map((t) => t.name);
    const scales = this.plan.tags.map((t) => t.scale);
    this.#scales = scales.some((s) => s !== undefined) ? scales : undefined;
    this.#log = o.log.child({ poll: config.name, device: device.name });
    this.#clock = o.clock;
    this.#seq = o.seq;
  }

  /** Reads once and returns the batch of records. Never throws. */
  async read(): Promise<Batch> {
    const n = this.plan.tags.length;
    const batch = Batch.withNames(this.device.name, this.#names);
    // Unset until the driver reports the tag: what is still unset afterwards is bad.
    batch.quality.fill(UNSET);
    const target = new PollTarget(batch, this.#scales);
    await this.device.readInto(this.plan, target);
    const now = this.#clock.now();
    batch.gatewayTs.fill(now);
    // One counter lookup a poll, not one a record.
    const seq0 = this.#seq.take(this.device.name, n);
    const seq = batch.seq;
    const quality = batch.quality;
    let failing = target.failing;
    for (let i = 0; i < n; i++) {
      seq[i] = seq0 + i;
      // Good and uncertain values are kept (uncertain with the driver's reason).
      if (quality[i] === Quality.good || quality[i] === Quality.uncertain) continue;
      if (quality[i] === UNSET) {
        const reason = noResultMessage(this.#names[i]!);
        (failing ??= new Set()).add(reason);
        batch.quality[i] = Quality.bad;
        batch.reason[i] = reason;
      }
      batch.setValue(i, null);
      batch.sourceTs[i] = now;
    }
    this.#logTransitions(failing);
    return batch;
  }

  #logTransitions(failing: Set<string> | undefined): void {
    if (failing === undefined) {
      if (this.#failing.size > 0) {
        this.#log.info("Reads recovered");
        this.#failing = new Set();
      }
      return;
    }
    // While the device is down or not answering, its state change is the one line to log.
    const h = this.device.health();
    if (h.state === "connected" && h.answering) {
      for (const r of failing) {
        if (!this.#failing.has(r)) this.#log.warn("Read failed", { error: r });
      }
    }
    this.#failing = failing;
  }
}

/** Quality of a record the driver has not reported yet. */
const UNSET = 255;

/** Writes a driver's outcomes straight into a poll's batch (scaling applied). */
class PollTarget extends CountingSink {
  /** Reasons of the failed tags, when any failed. */
  failing: Set<string> | undefined;

  constructor(
    readonly batch: Batch,
    readonly scales: readonly (TagScaling | undefined)[] | undefined,
  ) {
    super();
  }

  value(i: number, value: Value, sourceTs: number, uncertain?: string): void {
    const b = this.batch;
    const scale = this.scales?.[i];
    b.setValue(i, scale ? scaleValue(value, scale) : value);
    if (uncertain === undefined) {
      b.quality[i] = Quality.good;
      if (i < b.reason.length) b.reason[i] = undefined;
    } else {
      b.quality[i] = Quality.uncertain;
      b.reason[i] = uncertain;
    }
    b.sourceTs[i] = sourceTs;
  }

  protected failed(i: number, error: BifrostError): void {
    const b = this.batch;
    b.quality[i] = Quality.bad;
    b.reason[i] = error.message;
    (this.failing ??= new Set()).add(error.message);
  }
}
