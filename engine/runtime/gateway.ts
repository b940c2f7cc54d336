/**
 * @module
 * The running gateway: devices, polls, steps and sinks of a validated flow set, each
 * addressable by name (so that a later revision can be applied as a diff). Polls feed
 * batches into the graph, on a schedule or, for `subscribe:` polls, as the device pushes; every step and sink consumes through its own bounded, ordered
 * queue, so a slow consumer never delays polling and one device never delays another.
 *
 * `apply()` takes a new revision of the flows as a diff by name (see `reload.ts`): what did
 * not change keeps running, only what changed is stopped and started.
 *
 * Stopping is orderly: schedules stop and subscriptions close, running polls finish, queues
 * drain, sinks flush and
 * close, connections close, virtual devices stop.
 */

import { type Clock, systemClock } from "../clock.ts";
import type { DriverModule, SimulatedDevice, TagConfig, ValueKind } from "../driver.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import type { DeviceEntry, FlowSet, PollConfig, SinkConfig } from "../flow/types.ts";
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
import { phaseFor, runSchedule, ScheduleStop } from "./scheduler.ts";
import { describeDiff, diffFlows, type FlowDiff } from "./reload.ts";
import { type QueueStats, SerialQueue } from "./serial_queue.ts";
import { closeConsumer, type ConsumerRuntime, swapConsumer } from "./consumer.ts";

/** Options of a {@linkcode Gateway}. */
export interface GatewayOptions {
  /** The driver, step and sink modules, looked up by name when something starts. */
  sources: SchemaSources;
  /**
   * Makes `sources` hold every module `flows` name, before they start and before each
   * `apply()` (an application that imports modules on demand, see `app/sources.ts`).
   */
  prepare?: (flows: FlowSet) => Promise<unknown>;
  log?: Logger;
  clock?: Clock;
  /** Start each device's virtual device and connect to it instead of the real one. */
  simulate?: boolean;
  /** Where sinks keep their files. */
  dataDir?: string;
  /** Batches a step or sink may have waiting before the oldest is dropped. */
  queueCapacity?: number;
}

/** Figures of one step or sink, as {@linkcode Gateway.stats} reports them. */
export interface ConsumerStats extends QueueStats {
  kind: "step" | "sink";
  /** Records taken from its queue (processed or being processed). */
  records: number;
  /** Batches that failed (a step's batch passed on bad, a sink's write that threw). */
  errors: number;
  /** Records dropped from its full queue. */
  droppedRecords: number;
  /** What the step or sink reports itself (`Sink.stats()`, `Step.stats()`). */
  own: Record<string, number>;
}

/** Performs a write a sink carries back (`who`: `<sink kind>:<sink name>`). */
export type SinkWriter = (who: string, device: string, tag: string, value: Value) => Promise<void>;

/** Phases of a {@linkcode Gateway}'s life. */
export type GatewayPhase = "created" | "starting" | "running" | "stopping" | "stopped";

/** A listener of every batch a node emits. */
export type Tap = (node: string, batch: Batch) => void;

/** A record a trigger's function emits: quality defaults to good, source time to now. */
export type EmittedRecord =
  & Pick<DataRecord, "device" | "tag" | "value">
  & Partial<Pick<DataRecord, "quality" | "reason" | "sourceTs">>;

/** A running set of flows. */
export class Gateway {
  #flows: FlowSet;
  #graph: FlowGraph;
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
  /** Each scheduled poll's own stop switch and the promise of its schedule. */
  #schedules = new Map<string, { stop: ScheduleStop; done: Promise<void> }>();
  #sims = new Map<string, SimulatedDevice>();
  #applying: Promise<unknown> = Promise.resolve();
  #sinkWriter: SinkWriter | undefined;
  /** Where steps removed by a reload send what was still queued in them. */
  #retired = new Map<string, string[]>();
  #taps = new Set<Tap>();
  #started = false;
  #phase: GatewayPhase = "created";

  constructor(flows: FlowSet, options: GatewayOptions) {
    this.#flows = flows;
    this.#graph = compileGraph(flows);
    this.#o = options;
    this.#log = options.log ?? nullLogger;
    this.#clock = options.clock ?? systemClock;
  }

  /** Where the gateway is in its life: `running` between a successful start and stop. */
  get phase(): GatewayPhase {
    return this.#phase;
  }

  /** The flow set running now (the last one applied). */
  get flows(): FlowSet {
    return this.#flows;
  }

  /** The graph of {@linkcode flows}. */
  get graph(): FlowGraph {
    return this.#graph;
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
    this.#phase = "starting";
    try {
      await this.#o.prepare?.(this.flows);
      await this.#startDevices();
      await this.#startConsumers();
    } catch (e) {
      await this.stop();
      throw e;
    }
    for (const p of this.flows.polls.values()) this.#startPoll(p);
    this.#phase = "running";
    this.#log.info("Gateway started", {
      devices: this.devices.size,
      polls: this.polls.size,
      subscriptions: this.subscriptions.size,
      steps: this.flows.steps.size,
      sinks: this.flows.sinks.size,
    });
  }

  async #startDevices(): Promise<void> {
    const fastest = this.#fastestPolls();
    for (const d of this.flows.devices.values()) await this.#startDevice(d, fastest.get(d.name));
  }

  /** Each device's fastest interval poll, which its driver may tune its connection to. */
  #fastestPolls(): Map<string, number> {
    const fastest = new Map<string, number>();
    for (const p of this.flows.polls.values()) {
      if (p.everyMs === undefined) continue;
      fastest.set(p.device, Math.min(fastest.get(p.device) ?? Infinity, p.everyMs));
    }
    return fastest;
  }

  /** Connects one device (its virtual device first when simulating). */
  async #startDevice(d: DeviceEntry, everyMs: number | undefined): Promise<void> {
    {
      const module = this.#driver(d.driver);
      await module.load?.();
      let config = d;
      if (this.#o.simulate) {
        if (!module.simulate) {
          throw new BifrostError(
            "CONFIG_INVALID",
            `Cannot simulate device "${d.name}": driver "${d.driver}" has no virtual device`,
          );
        }
        const sim = await module.simulate(d);
        this.#sims.set(d.name, sim);
        config = { ...d, config: { ...d.config, ...sim.connection } };
        this.#log.info("Virtual device started", { device: d.name, ...sim.connection });
      }
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
    for (const s of this.flows.sinks.values()) await this.#startSink(s.name);
    for (const name of this.graph.stepOrder) await this.#startStep(name);
  }

  /** Opens a sink of `flows` (default: the current ones); creates its consumer if new. */
  async #startSink(name: string, flows = this.flows): Promise<void> {
    const s: SinkConfig = flows.sinks.get(name)!;
    const m = this.#o.sources.sinks.find((x) => x.name === s.use);
    if (!m) throw new BifrostError("CONFIG_INVALID", `Unknown sink "${s.use}"`);
    await m.load?.();
    const catalog = () => this.catalog();
    const sink = m.create(s.config, {
      name: s.name,
      log: this.#log.child({ sink: s.name }),
      clock: this.#clock,
      dataDir: this.#o.dataDir ?? "data",
      // Built when a sink asks (Sparkplug's births): 100k tags make ~7 MB of objects.
      get catalog() {
        return catalog();
      },
      // Through the installed writer (the API's checked, audited path) when there is one.
      writeTag: (device, tag, value) =>
        this.#sinkWriter
          ? this.#sinkWriter(`${s.use}:${s.name}`, device, tag, value)
          : this.write(device, tag, value),
    });
    await sink.open();
    const c = this.consumers.get(name);
    if (c) c.sink = sink;
    else this.#addConsumer(name, "sink", { sink });
  }

  /** Creates and starts a step of `flows` (default: the current ones). */
  async #startStep(name: string, flows = this.flows): Promise<void> {
    const s = flows.steps.get(name)!;
    const m = this.#o.sources.steps.find((x) => x.name === s.use);
    if (!m) throw new BifrostError("CONFIG_INVALID", `Unknown step "${s.use}"`);
    const c = this.consumers.get(name) ?? this.#addConsumer(name, "step", {});
    const step = await m.create(s.config, {
      name,
      log: this.#log.child({ step: name }),
      clock: this.#clock,
      flowDir: flows.dir,
      countError: () => c.errors++,
      dataDir: this.#o.dataDir ?? "data",
    });
    await step.start?.();
    c.step = step;
  }

  #addConsumer(
    name: string,
    kind: "step" | "sink",
    parts: { step?: Step; sink?: Sink },
  ): ConsumerRuntime {
    const capacity = this.#o.queueCapacity ?? 1000;
    const c: ConsumerRuntime = {
      kind,
      ...parts,
      errors: 0,
      records: 0,
      lastErrorLog: -Infinity,
      drops: new DropLog(this.#clock, (records, batches, total) =>
        this.#log.warn(
          `${kind} "${name}" is overloaded; dropped its oldest waiting batches`,
          { records, batches, totalDropped: total },
        )),
      queue: new SerialQueue<Batch>(
        async (b) => {
          if (c.drops.pending) c.drops.flush(false);
          c.records += b.length;
          if (c.gate) await c.gate;
          c.busy = kind === "step" ? this.#runStep(name, c, b) : this.#runSink(name, c, b);
          await c.busy;
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
    const consumers = this.#graph.consumers.get(node) ?? this.#retired.get(node) ?? [];
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
    const stop = new ScheduleStop();
    if (this.#abort.signal.aborted) stop.abort();
    this.#schedules.set(p.name, {
      stop,
      done: runSchedule(schedule, this.#clock, stop, task, runner.stats),
    });
  }

  /** Stops one poll; resolves once its running read (if any) has emitted its batch. */
  async #stopPoll(name: string): Promise<void> {
    const sub = this.subscriptions.get(name);
    if (sub) {
      this.subscriptions.delete(name);
      await sub.close();
    }
    const sched = this.#schedules.get(name);
    if (sched) {
      this.#schedules.delete(name);
      sched.stop.abort();
      await sched.done.catch(() => {});
    }
    this.polls.delete(name);
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
  /**
   * Sets who performs the writes sinks carry back (Sparkplug DCMD), `who` being
   * `<sink kind>:<sink name>`; undefined goes back to {@linkcode Gateway.write}. The HTTP
   * API installs its own write path, so that such writes are checked (writable, kind,
   * range) and audited like the API's.
   */
  setSinkWriter(w: SinkWriter | undefined): void {
    this.#sinkWriter = w;
  }

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
        ...kindIn(t, this.#o.sources.drivers.find((m) => m.name === d.driver)),
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
    consumers: Record<string, ConsumerStats>;
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
          kind: c.kind,
          records: c.records,
          errors: c.errors,
          droppedRecords: c.drops.total,
          own: (c.sink ? c.sink.stats?.() : c.step?.stats?.()) ?? {},
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

  /**
   * Applies a new revision of the flows as a diff by name ({@linkcode diffFlows}): what did
   * not change keeps running untouched (connections, step state, queues); polls that go or
   * change stop first (a running read still delivers its batch), changed steps and sinks are
   * swapped behind their queue (batches wait, none is dropped; a sink's durable queue is
   * reopened by the new one), new steps and sinks start before the graph is rewired to
   * feed them, removed ones drain, devices restart, then the new polls start. Sequence
   * numbers go on per device. Calls are serialised.
   *
   * Throws `CONFIG_INVALID` before touching anything if the graph does not compile or a new
   * step or sink cannot start; `RELOAD_FAILED` after applying the rest when a changed step
   * or sink could not start with its new settings (it keeps running with its old ones) or
   * a virtual device could not start.
   */
  apply(next: FlowSet): Promise<FlowDiff> {
    const run = this.#applying.then(() => this.#apply(next));
    this.#applying = run.catch(() => {});
    return run;
  }

  async #apply(proposed: FlowSet): Promise<FlowDiff> {
    if (this.#abort.signal.aborted) throw new Error("Cannot apply flows: the gateway stopped");
    await this.#o.prepare?.(proposed);
    const before = this.#flows;
    const next: FlowSet = { ...proposed, steps: new Map(proposed.steps) };
    next.sinks = new Map(proposed.sinks);
    // Triggers are served by the HTTP layer, which applies the same revision by name
    // (`app/http/trigger_set.ts`); here they are only sources of the graph.
    const d = diffFlows(before, next);
    const graph = compileGraph(next);
    // New steps and sinks first: nothing feeds them yet, and a failure leaves all as it was.
    const started: string[] = [];
    try {
      for (const n of d.sinks.added) started.push(n), await this.#startSink(n, next);
      for (const n of graph.stepOrder) {
        if (d.steps.added.includes(n)) started.push(n), await this.#startStep(n, next);
      }
    } catch (e) {
      for (const n of started) await this.#retire(n);
      throw new BifrostError("CONFIG_INVALID", `Cannot apply the flows: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const failures: string[] = [];
    for (const n of [...d.polls.removed, ...d.polls.changed]) await this.#stopPoll(n);
    for (const n of d.sinks.changed) {
      if (!(await this.#swap(n, next, before, failures))) {
        next.sinks.set(n, before.sinks.get(n)!);
      }
    }
    for (const n of graph.stepOrder) {
      if (!d.steps.changed.includes(n)) continue;
      if (!(await this.#swap(n, next, before, failures))) {
        next.steps.set(n, before.steps.get(n)!);
      }
    }
    // Rewired: steps that go send what they still hold along their old edges.
    for (const n of d.steps.removed) this.#retired.set(n, this.#graph.consumers.get(n) ?? []);
    this.#flows = next;
    this.#graph = graph;
    for (const n of this.#oldOrder(before, d)) await this.#retire(n);
    this.#retired.clear();
    for (const n of [...d.devices.removed, ...d.devices.changed]) {
      await this.devices.get(n)?.stop();
      this.devices.delete(n);
      await this.#sims.get(n)?.close().catch(() => {});
      this.#sims.delete(n);
    }
    const fastest = this.#fastestPolls();
    for (const n of [...d.devices.changed, ...d.devices.added]) {
      try {
        await this.#startDevice(next.devices.get(n)!, fastest.get(n));
      } catch (e) {
        failures.push(`device "${n}": ${errorMessage(e)}`);
      }
    }
    for (const n of [...d.polls.changed, ...d.polls.added]) {
      const p = next.polls.get(n)!;
      if (this.devices.has(p.device)) this.#startPoll(p);
      else failures.push(`poll "${n}": its device "${p.device}" is not running`);
    }
    this.#log.info("Flows applied", { changes: describeDiff(d) });
    if (failures.length > 0) {
      throw new BifrostError(
        "RELOAD_FAILED",
        `Flows applied in part: ${failures.join("; ")}`,
        { details: { diff: d, failures } },
      );
    }
    return d;
  }

  /** Removed steps in their old graph order, then removed sinks. */
  #oldOrder(before: FlowSet, d: FlowDiff): string[] {
    const gone = new Set(d.steps.removed);
    const steps = compileGraph(before).stepOrder.filter((n) => gone.has(n));
    return [...steps, ...d.sinks.removed];
  }

  /** Drains a consumer, closes its step or sink and forgets it. */
  async #retire(name: string): Promise<void> {
    const c = this.consumers.get(name);
    if (!c) return;
    await c.queue.idle();
    this.consumers.delete(name);
    await closeConsumer(name, c, this.#log);
  }

  /** Swaps a changed step or sink for one with its new settings (see `swapConsumer`). */
  #swap(name: string, next: FlowSet, before: FlowSet, failures: string[]): Promise<boolean> {
    const c = this.consumers.get(name)!;
    const start = (useNext: boolean) => {
      const f = useNext ? next : before;
      return c.kind === "sink" ? this.#startSink(name, f) : this.#startStep(name, f);
    };
    return swapConsumer(name, c, start, this.#log, failures);
  }

  /** Stops polling, drains the graph, flushes and closes everything. */
  async stop(): Promise<void> {
    this.#phase = "stopping";
    this.#abort.abort();
    await this.#applying.catch(() => {});
    for (const s of this.#schedules.values()) s.stop.abort();
    await Promise.all([...this.#schedules.values()].map((s) => s.done));
    // Closed before the queues drain: what was pushed until then reaches the sinks.
    await Promise.all([...this.subscriptions.values()].map((s) => s.close()));
    // Drain in graph order: upstream steps first so their output reaches the sinks.
    for (const name of this.graph.stepOrder) await this.consumers.get(name)?.queue.idle();
    for (const [, c] of this.consumers) if (c.kind === "sink") await c.queue.idle();
    for (const [name, c] of this.consumers) await closeConsumer(name, c, this.#log);
    await Promise.all([...this.devices.values()].map((d) => d.stop()));
    await Promise.all([...this.#sims.values()].map((s) => s.close().catch(() => {})));
    this.#phase = "stopped";
    this.#log.info("Gateway stopped");
  }
}

/** A tag's `{ kind }` for the catalog (its own, else its driver's), or nothing when none tells. */
function kindIn(t: TagConfig, module: DriverModule | undefined): { kind?: ValueKind } {
  if (t.kind !== undefined) return { kind: t.kind };
  if (!module) return {};
  try {
    return { kind: module.valueKind(t) };
  } catch {
    return {};
  }
}
