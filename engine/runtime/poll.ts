/**
 * @module
 * One poll group at run time: reads its compiled plan from the device, turns the results
 * into a batch (scaling applied, bad quality with the reason for tags that failed), and logs
 * read problems once when they appear and once when they clear — never once per poll.
 */

import type { Clock } from "../clock.ts";
import type { ReadPlan, TagConfig } from "../driver.ts";
import type { PollConfig } from "../flow/types.ts";
import type { Logger } from "../log.ts";
import { Batch, Quality, type SequenceCounter, type Value } from "../record.ts";
import { scaleValue } from "../scaling.ts";
import type { DeviceRuntime } from "./device.ts";
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
    this.#log = o.log.child({ poll: config.name, device: device.name });
    this.#clock = o.clock;
    this.#seq = o.seq;
  }

  /** Reads once and returns the batch of records. Never throws. */
  async read(): Promise<Batch> {
    const results = await this.device.read(this.plan);
    const now = this.#clock.now();
    const tags = this.plan.tags;
    const batch = new Batch(tags.length);
    const dev = this.device.name;
    let failing: Set<string> | undefined;
    // One counter lookup a poll, not one a record.
    const seq0 = this.#seq.take(dev, tags.length);
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      const r = results[i];
      const seq = seq0 + i;
      if (r?.ok) {
        let v: Value = r.value;
        if (tag.scale) v = scaleValue(v, tag.scale);
        batch.add(dev, tag.name, v, Quality.good, undefined, r.sourceTs ?? now, now, seq);
      } else {
        const reason = r ? r.error.message : `Driver returned no result for "${tag.name}"`;
        (failing ??= new Set()).add(reason);
        batch.add(dev, tag.name, null, Quality.bad, reason, now, now, seq);
      }
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
    // While the device is down, its connection state change is the one line to log.
    if (this.device.health().state === "connected") {
      for (const r of failing) {
        if (!this.#failing.has(r)) this.#log.warn("Read failed", { error: r });
      }
    }
    this.#failing = failing;
  }
}
