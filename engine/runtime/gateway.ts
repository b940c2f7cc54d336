/**
 * @module
 * The running gateway: devices, polls, steps and sinks of a validated flow set, each
 * addressable by name (so that a later revision can be applied as a diff). Polls feed
 * batches into the graph, on a schedule or, for `subscribe:` polls, as the device pushes; every step and sink consumes through its own bounded, ordered
 * queue, so a slow consumer never delays polling and one device never delays another.
 *
 * Stopping is orderly: schedules stop and subscriptions close, running polls finish, queues
 * drain, sinks flush and
 * close, connections close, virtual devices stop.
 */

import { type Clock, systemClock } from "../clock.ts";
import type { DriverModule, SimulatedDevice } from "../driver.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import type { FlowSet, PollConfig } from "../flow/types.ts";
import { type Logger, nullLogger } from "../log.ts";
import { Batch, type DataRecord, Quality, SequenceCounter, type Value } from "../record.ts";
import type { SchemaSources } from "../flow/schema.ts";
import type { Catalog, Sink } from "../sink.ts";
import type { Step } from "../step.ts";
import { type DeviceHealth, DeviceRuntime } from "./device.ts";
import { DropLog } from "./drop_log.ts";
import { compileGraph, type FlowGraph } from "./graph.ts";
import { PollRunner } from "./poll.ts";
import { SubscriptionRunner, type SubscriptionStats } from "./subscribed_poll.ts";
import { phaseFor, runSchedule } from "./scheduler.ts";
import { type QueueStats, SerialQueue } from "./serial_queue.ts";

/** Options of a {@linkcode Gateway}. */
export interface GatewayOptions {
  sources: SchemaSources;
  log?: Logger;
  clock?: Clock;
  /** Start each device's virtual device and connect to it instead of the real one. */
  simulate?: boolean;
  /** Where sinks keep their files. */
  dataDir?: string;
  /** Batches a step or sink may have waiting before the oldest is dropped. */
  queueCapacity?: number;
}

/** A listener of every batch a node emits. */
export type Tap = (node: string, batch: Batch) => void;

interface ConsumerRuntime {
  kind: "step" | "sink";
  queue: SerialQueue<Batch>;
  step?: Step;
  sink?: Sink;
  errors: number;
  lastErrorLog: number;
  /** Records dropped from `queue` when full, logged apart from errors (never rate-limited away). */
  drops: DropLog;
}

/** A record a trigger's function emits: quality defaults to good, source time to now. */
export type EmittedRecord =
  & Pick<DataRecord, "device" | "tag" | "value">
  & Partial<Pick<DataRecord, "quality" | "reason" | "sourceTs">>;

/** A running set of flows. */
export class Gateway {
  readonly flows: FlowSet;
  readonly graph: FlowGraph;
  readonly devices = new Map<string, DeviceRuntime>();
  readonly polls = new Map<string, PollRunner>();
  /** The `subscribe:` polls. */
  readonly subscriptions = new Map<string, SubscriptionRunner>();
  readonly consumers = new Map<string, ConsumerRuntime>();
  #o: GatewayOptions;
  #log: Logger;
  #clock: Clock;
  #seq = new SequenceCounter();
  #abort = new AbortController();
  #schedules: Promise<void>[] = [];
  #sims: SimulatedDevice[] = [];
  #taps = new Set<Tap>();
  #started = false;

  constructor(flows: FlowSet, options: GatewayOptions) {
    this.flows = flows;
    this.graph = compileGraph(flows);
    this.#o = options;
    this.#log = options.log ?? nullLogger;
    this.#clock = options.clock ?? systemClock;
  }

  /** Listens to every batch every node emits (the live-data feed). Returns an unsubscriber. */
  tap(fn: Tap): () => void {
    this.#taps.add(fn);
    return () => this.#taps.delete(fn);
  }

  #driver(name: string): DriverModule {
    const m = this.#o.sources.drivers.find((d) => d.name === name);
    if (!m) throw new BifrostError("CONFIG_INVALID", `Unknown driver "${name}"`);
    return m;
  }

  /** Starts everything. Throws (after undoing what started) if a sink or step cannot start. */
  async start(): Promise<void> {
    if (this.#started) throw new Error("Gateway already started");
    this.#started = true;
    try {
      await this.#startDevices();
      await this.#startConsumers();
    } catch (e) {
      await this.stop();
      throw e;
    }
    for (const p of this.flows.polls.values()) this.#startPoll(p);
    this.#log.info("Gateway started", {
      devices: this.devices.size,
      polls: this.polls.size,
      subscriptions: this.subscriptions.size,
      steps: this.flows.steps.size,
      sinks: this.flows.sinks.size,
    });
  }

  async #startDevices(): Promise<void> {
    // Each device's fastest interval poll, which its driver may tune its connection to.
    const fastest = new Map<string, number>();
    for (const p of this.flows.polls.values()) {
      if (p.everyMs === undefined) continue;
      fastest.set(p.device, Math.min(fastest.get(p.device) ?? Infinity, p.everyMs));
    }
    for (const d of this.flows.devices.values()) {
      const module = this.#driver(d.driver);
      let config = d;
      if (this.#o.simulate) {
        if (!module.simulate) {
          throw new BifrostError(
            "CONFIG_INVALID",
            `Cannot simulate device "${d.name}": driver "${d.driver}" has no virtual device`,
          );
        }
        const sim = await module.simulate(d);
        this.#sims.push(sim);
        config = { ...d, config: { ...d.config, ...sim.connection } };
        this.#log.info("Virtual device started", { device: d.name, ...sim.connection });
      }
      const everyMs = fastest.get(d.name);
      const rt = new DeviceRuntime(config, module, {
        log: this.#log,
        clock: this.#clock,
        ...(everyMs === undefined ? {} : { pollEveryMs: everyMs }),
      });
      this.devices.set(d.name, rt);
      rt.start();
    }
  }

  async #startConsumers(): Promise<void> {
    const capacity = this.#o.queueCapacity ?? 1000;
    const dataDir = this.#o.dataDir ?? "data";
    const catalog = () => this.catalog();
    for (const s of this.flows.sinks.values()) {
      const m = this.#o.sources.sinks.find((x) => x.name === s.use);
      if (!m) throw new BifrostError("CONFIG_INVALID", `Unknown sink "${s.use}"`);
      const sink = m.create(s.config, {
        name: s.name,
        log: this.#log.child({ sink: s.name }),
        clock: this.#clock,
        dataDir,
        // Built when a sink asks (Sparkplug's births): 100k tags make ~7 MB of objects.
        get catalog() {
          return catalog();
        },
        writeTag: (device, tag, value) => this.write(device, tag, value),
      });
      await sink.open();
      this.#addConsumer(s.name, "sink", capacity, { sink });
    }
    for (const name of this.graph.stepOrder) {
      const s = this.flows.steps.get(name)!;
      const m = this.#o.sources.steps.find((x) => x.name === s.use);
      if (!m) throw new BifrostError("CONFIG_INVALID", `Unknown step "${s.use}"`);
      const c = this.#addConsumer(name, "step", capacity, {});
      const step = await m.create(s.config, {
        name,
        log: this.#log.child({ step: name }),
        clock: this.#clock,
        flowDir: this.flows.dir,
        countError: () => c.errors++,
      });
      await step.start?.();
      c.step = step;
    }
  }

  #addConsumer(
    name: string,
    kind: "step" | "sink",
    capacity: number,
    parts: { step?: Step; sink?: Sink },
  ): ConsumerRuntime {
    const c: ConsumerRuntime = {
      kind,
      ...parts,
      errors: 0,
      lastErrorLog: -Infinity,
      drops: new DropLog(this.#clock, (records, batches, total) =>
        this.#log.warn(
          `${kind} "${name}" is overloaded; dropped its oldest waiting batches`,
          { records, batches, totalDropped: total },
        )),
      queue: new SerialQueue<Batch>(
        (b) => {
          if (c.drops.pending) c.drops.flush(false);
          return kind === "step" ? this.#runStep(name, c, b) : this.#runSink(name, c, b);
        },
        capacity,
        (b) => c.drops.add(b.length),
      ),
    };
    this.consumers.set(name, c);
    return c;
  }

  #rateLimited(c: ConsumerRuntime, msg: string, count: number, error?: string): void {
    const now = this.#clock.monotonic();
    if (now - c.lastErrorLog < 10_000) return;
    c.lastErrorLog = now;
    this.#log.warn(msg, error === undefined ? { count } : { count, error });
  }

  async #runStep(name: string, c: ConsumerRuntime, batch: Batch): Promise<void> {
    let out: Batch;
    try {
      out = await c.step!.process(batch);
    } catch (e) {
      // A failing step marks its batch bad and passes it on: nothing vanishes silently.
      c.errors++;
      const reason = `step "${name}" failed: ${errorMessage(e)}`;
      this.#rateLimited(c, `Step failed; its batch passes on marked bad`, c.errors, reason);
      for (let i = 0; i < batch.length; i++) {
        batch.quality[i] = Quality.bad;
        batch.reason[i] = reason;
      }
      out = batch;
    }
    if (out.length > 0) this.#emit(name, out);
  }

  async #runSink(name: string, c: ConsumerRuntime, batch: Batch): Promise<void> {
    try {
      await c.sink!.write(batch);
    } catch (e) {
      c.errors++;
      this.#rateLimited(c, `Sink "${name}" failed to write`, c.errors, errorMessage(e));
    }
  }

  /** Hands a node's output to its consumers (steps get their own copy when shared). */
  #emit(node: string, batch: Batch): void {
    for (const t of this.#taps) {
      try {
        t(node, batch);
      } catch (e) {
        this.#log.error("Live-data listener failed", { error: errorMessage(e) });
      }
    }
    const consumers = this.graph.consumers.get(node) ?? [];
    const shared = consumers.length > 1;
    for (const name of consumers) {
      const c = this.consumers.get(name);
      if (!c) continue;
      c.queue.push(shared && c.kind === "step" ? batch.clone() : batch);
    }
  }

  #startPoll(p: PollConfig): void {
    const device = this.devices.get(p.device)!;
    if (p.subscribe !== undefined) {
      const sub = new SubscriptionRunner(p, device, {
        log: this.#log,
        clock: this.#clock,
        seq: this.#seq,
        emit: (batch) => this.#emit(p.name, batch),
      });
      this.subscriptions.set(p.name, sub);
      sub.start();
      return;
    }
    const runner = new PollRunner(p, device, {
      log: this.#log,
      clock: this.#clock,
      seq: this.#seq,
    });
    this.polls.set(p.name, runner);
    const schedule = p.cron !== undefined
      ? { cron: p.cron }
      // Phases spread over the whole interval: a thousand 1 s polls must not all land in the
      // same quarter second (the first poll of each runs at start regardless).
      : { everyMs: p.everyMs!, phaseMs: phaseFor(p.name, p.everyMs!) };
    const task = async () => this.#emit(p.name, await runner.read());
    this.#schedules.push(
      runSchedule(schedule, this.#clock, this.#abort.signal, task, runner.stats),
    );
  }

  /**
   * Records a trigger's function emitted (`ctx.emit`), into the graph under the trigger's
   * name: sequence numbers per trigger and timestamps as polled records get (the source
   * time, when the function gave none, is the gateway's). Returns how many went in.
   */
  inject(trigger: string, records: readonly EmittedRecord[]): number {
    if (this.graph.kinds.get(trigger) !== "trigger") {
      throw new BifrostError("NOT_FOUND", `Cannot emit records: no trigger "${trigger}"`);
    }
    if (records.length === 0) return 0;
    const now = this.#clock.now();
    const first = this.#seq.take(trigger, records.length);
    const b = new Batch(records.length);
    records.forEach((r, i) =>
      b.add(
        r.device,
        r.tag,
        r.value,
        Quality[r.quality ?? "good"],
        r.reason,
        r.sourceTs ?? now,
        now,
        first + i,
      )
    );
    this.#emit(trigger, b);
    return records.length;
  }

  /** Writes a value to a device tag. */
  async write(device: string, tag: string, value: Value): Promise<void> {
    const d = this.devices.get(device);
    if (!d) throw new BifrostError("NOT_FOUND", `Cannot write: unknown device "${device}"`);
    const t = d.config.tags.get(tag);
    if (!t) {
      throw new BifrostError("NOT_FOUND", `Cannot write: unknown tag "${tag}" on "${device}"`);
    }
    await d.write(t, value);
  }

  /** Every device and its tags. */
  catalog(): Catalog {
    return new Map([...this.flows.devices].map(([name, d]) => [
      name,
      [...d.tags.values()].map((t) => ({
        name: t.name,
        type: t.type,
        ...(t.kind === undefined ? {} : { kind: t.kind }),
        writable: t.writable,
        ...(t.unit === undefined ? {} : { unit: t.unit }),
        ...(t.description === undefined ? {} : { description: t.description }),
      })),
    ]));
  }

  /** Health of every device. */
  health(): Record<string, DeviceHealth> {
    return Object.fromEntries([...this.devices].map(([n, d]) => [n, d.health()]));
  }

  /** Figures of every poll and consumer. */
  stats(): {
    polls: Record<string, { runs: number; skipped: number; p99LateMs: number }>;
    subscriptions: Record<string, SubscriptionStats>;
    consumers: Record<string, QueueStats & { errors: number; droppedRecords: number }>;
  } {
    return {
      polls: Object.fromEntries([...this.polls].map(([n, p]) => [n, {
        runs: p.stats.runs,
        skipped: p.stats.skipped,
        p99LateMs: p.stats.latenessPercentile(99),
      }])),
      subscriptions: Object.fromEntries(
        [...this.subscriptions].map(([n, s]) => [n, { ...s.stats }]),
      ),
      consumers: Object.fromEntries(
        [...this.consumers].map(([n, c]) => [n, {
          ...c.queue.stats(),
          errors: c.errors,
          droppedRecords: c.drops.total,
        }]),
      ),
    };
  }

  /**
   * The sequence numbers the polls stamped so far, per device: `[first, last]`, inclusive
   * and without gaps (a poll reserves its numbers only once its read is done). What a
   * device produced is exactly that range: sinks are checked against it for losses.
   */
  sequences(): Record<string, [number, number]> {
    return this.#seq.ranges();
  }

  /** Records the polls produced so far, over all devices. */
  recordsProduced(): number {
    return this.#seq.issued();
  }

  /** Stops polling, drains the graph, flushes and closes everything. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#schedules);
    // Closed before the queues drain: what was pushed until then reaches the sinks.
    await Promise.all([...this.subscriptions.values()].map((s) => s.close()));
    // Drain in graph order: upstream steps first so their output reaches the sinks.
    for (const name of this.graph.stepOrder) await this.consumers.get(name)?.queue.idle();
    for (const [, c] of this.consumers) if (c.kind === "sink") await c.queue.idle();
    for (const [name, c] of this.consumers) {
      c.drops.flush();
      try {
        if (c.step) await c.step.close?.();
        if (c.sink) {
          await c.sink.flush();
          await c.sink.close();
        }
      } catch (e) {
        this.#log.error("Failed to close", { node: name, error: errorMessage(e) });
      }
    }
    await Promise.all([...this.devices.values()].map((d) => d.stop()));
    await Promise.all(this.#sims.map((s) => s.close().catch(() => {})));
    this.#log.info("Gateway stopped");
  }
}
