/**
 * @module
 * The engine's side of the driver contract: one {@linkcode DeviceRuntime} per device owns
 * the connection lifecycle. It connects, backs off with jitter on failure, reconnects when a
 * read reports the connection lost (or when every request of three reads in a row timed
 * out, which is what a PLC that restarted behind a gateway or serial server looks like),
 * limits requests in flight, and logs one line per state change. It owns the device's
 * subscriptions the same way ({@linkcode DeviceSubscriptions}): subscribed after every
 * connect, closed before every reconnect, reported bad while the device is down.
 *
 * "Connected" and "answering" are two states: a device whose port accepts connections but
 * which never answers (a gateway in front of a dead PLC, a PLC in stop) connects, times out
 * three reads and is reconnected, over and over. It is logged once, "Device connected, not
 * answering" (warn), then its reconnections are quiet (debug) until a read gets an answer,
 * logged once, "Device answering again". Its tags stay bad with the timeout as the reason.
 *
 * A new connection is on probation until the device answers a read or a write, or until it
 * has lasted `earlyLossMs`. One the peer closes before that (a proxy or serial device server
 * in front of a restarting device, a Modbus gateway whose PLC is gone: they accept, then
 * close) is a failed connect, backed off like a refused one, and logged once per outage: see
 * {@linkcode ConnectionLog}, which also logs the recovery when the probation ends.
 */

import type { Clock } from "../clock.ts";
import {
  type DeviceConfig,
  type Driver,
  type DriverModule,
  kindOf,
  noResultMessage,
  type ReadPlan,
  type ReadSink,
  ResultArraySink,
  type TagConfig,
  type TagResult,
} from "../driver.ts";
import { BifrostError, errorMessage, isBifrostError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Value } from "../record.ts";
import { unscaleValue } from "../scaling.ts";
import type { BackoffOptions } from "./backoff.ts";
import { ConnectionLog } from "./connection_log.ts";
import { CountingSink, deliver, failAll, Tally } from "./counting_sink.ts";
import {
  DEFAULT_BACKOFF,
  type DeviceHealth,
  type DeviceRuntimeOptions,
  type DeviceState,
} from "./device_options.ts";
import { Histogram, LATENCY_BUCKETS_MS } from "./histogram.ts";
import { Semaphore } from "./semaphore.ts";
import { DeviceSubscriptions, type SubscriptionTarget } from "./subscriptions.ts";
import { TimerEntry, timerQueueFor } from "./timer_queue.ts";

/**
 * The probation of a device's connection, on the clock's shared timer queue: one small
 * object per device for its life, where a sleep per connection kept a timer, a promise and
 * an abort listener per device for the first seconds of every connection.
 */
class Probation extends TimerEntry {
  /** The connection on probation (see `DeviceRuntime#connections`). */
  connection = 0;
  constructor(private readonly end: (connection: number) => void) {
    super();
  }
  due(): number {
    this.end(this.connection);
    return Infinity;
  }
}

export { CountingSink } from "./counting_sink.ts";
export type { DeviceHealth, DeviceRuntimeOptions, DeviceState } from "./device_options.ts";

/** One device's connection, owned by the engine. */
export class DeviceRuntime {
  readonly config: DeviceConfig;
  readonly driver: Driver;
  /** Duration of every read that reached the driver, ms (for metrics). */
  readonly readLatency = new Histogram(LATENCY_BUCKETS_MS);
  #module: DriverModule;
  #log: Logger;
  #clock: Clock;
  #backoff: BackoffOptions;
  #timeoutsBeforeReconnect: number;
  #sem: Semaphore;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #lost: (() => void) | undefined;
  #connected: Promise<void>;
  #markConnected!: () => void;
  #allTimeoutReads = 0;
  #attempt: Promise<void> | undefined;
  #health: DeviceHealth;
  /** Made with the first subscribed poll: most devices are only polled. */
  #subs: DeviceSubscriptions | undefined;
  /** What the subscriptions are told of the connection (made later, they are told it then). */
  #subsState: "idle" | "open" | "down" = "idle";
  /** Connections made so far, and one more once the last is lost (see the probation). */
  #connections = 0;
  #probation: Probation | undefined;
  /** Monotonic ms when the device was found not answering. */
  #silentSince = 0;
  #earlyLossMs: number;
  #story: ConnectionLog;
  /** Why the connection on probation was lost, for `#run` to back off. */
  #earlyLoss: string | undefined;

  constructor(config: DeviceConfig, module: DriverModule, o: DeviceRuntimeOptions) {
    this.config = config;
    this.#module = module;
    this.#log = o.log.child({ device: config.name });
    this.#clock = o.clock;
    this.#backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.#timeoutsBeforeReconnect = o.timeoutsBeforeReconnect ?? 3;
    this.#earlyLossMs = o.earlyLossMs ?? Math.max(2000, 2 * (o.pollEveryMs ?? 0));
    this.#story = new ConnectionLog(this.#log, this.#backoff);
    this.driver = module.create(config, {
      log: this.#log,
      clock: o.clock,
      ...(o.pollEveryMs === undefined ? {} : { pollEveryMs: o.pollEveryMs }),
      connectionLost: (reason) => this.#connectionLost(reason),
    });
    this.#sem = new Semaphore(Math.max(1, this.driver.maxInFlight));
    this.#health = {
      state: "idle",
      since: o.clock.now(),
      connects: 0,
      connectFailures: 0,
      reads: 0,
      readErrors: 0,
      subscriptions: 0,
      answering: true,
      timeouts: 0,
      malformed: 0,
    };
    this.#connected = new Promise((r) => this.#markConnected = r);
  }

  /** The device's name. */
  get name(): string {
    return this.config.name;
  }

  /** A snapshot of the device's health. */
  health(): DeviceHealth {
    return { ...this.#health, subscriptions: this.#subs?.live ?? 0 };
  }

  /**
   * Subscribes a `subscribe:` poll: now if connected, then after every reconnect, until
   * {@linkcode unsubscribe} or {@linkcode stop}.
   */
  subscribe(target: SubscriptionTarget): void {
    this.#subscriptions().add(target);
  }

  /** Closes a poll's subscription for good. */
  unsubscribe(target: SubscriptionTarget): Promise<void> {
    return this.#subs?.remove(target) ?? Promise.resolve();
  }

  /** Resolves once the device is connected for the first time (for tests and tools). */
  whenConnected(): Promise<void> {
    return this.#connected;
  }

  /** Starts connecting in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Compiles tags into a read plan. */
  plan(tags: readonly TagConfig[]): ReadPlan {
    return this.driver.plan(tags);
  }

  #setState(state: DeviceState, error?: string): void {
    this.#health.state = state;
    this.#health.since = this.#clock.now();
    if (error !== undefined) this.#health.lastError = error;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      this.#setState("connecting");
      try {
        this.#attempt = this.driver.connect(signal);
        await this.#attempt;
        this.#attempt = undefined;
      } catch (e) {
        // A failed attempt's promise holds its error (and stack) until the next one.
        this.#attempt = undefined;
        if (signal.aborted) break;
        const msg = errorMessage(e);
        this.#setState("backoff", msg);
        this.#subsDown();
        await this.#backOff(msg, false, signal);
        continue;
      }
      this.#health.connects++;
      this.#allTimeoutReads = 0;
      this.#story.connected();
      this.#setState("connected");
      this.#markConnected();
      // Wait until a read reports the connection lost, or until stopped.
      let onAbort!: () => void;
      const lost = new Promise<void>((resolve) => {
        this.#lost = resolve;
        onAbort = resolve;
        signal.addEventListener("abort", onAbort, { once: true });
      });
      // After #lost is set: a subscribe that fails at once must find it.
      this.#subsState = "open";
      this.#subs?.open();
      // The probation ends on the shared timer queue; it finds a later connection by its
      // number and leaves it alone.
      const probation = this.#probation ??= new Probation((connection) => {
        if (connection === this.#connections && this.#health.state === "connected") {
          this.#confirm();
        }
      });
      probation.connection = ++this.#connections;
      const timers = timerQueueFor(this.#clock);
      timers.insert(probation, this.#clock.monotonic() + this.#earlyLossMs);
      await lost;
      timers.remove(probation);
      this.#connections++;
      signal.removeEventListener("abort", onAbort);
      this.#lost = undefined;
      // Closed on the old connection before anything is subscribed on a new one.
      this.#subsState = "idle";
      await this.#subs?.close();
      if (!signal.aborted) this.#subsDown();
      await this.driver.close().catch(() => {});
      if (signal.aborted) break;
      const early = this.#earlyLoss;
      this.#earlyLoss = undefined;
      if (early !== undefined) await this.#backOff(early, true, signal);
      // Reconnect straight away once; backoff applies from the first failed attempt on.
    }
    this.#setState("closed");
  }

  /** A failed connect (see {@linkcode ConnectionLog.failed}): waits out its backoff. */
  async #backOff(msg: string, closes: boolean, signal: AbortSignal): Promise<void> {
    this.#health.connectFailures++;
    this.#setState("backoff", msg);
    // Unreachable is a state of its own: the next connection is logged again.
    this.#health.answering = true;
    const delay = this.#story.failed(msg, closes);
    await this.#clock.sleep(delay, signal).catch(() => {});
  }

  /** Ends the connection's probation (see {@linkcode ConnectionLog.confirm}). */
  #confirm(quiet = false): void {
    this.#story.confirm(this.#health.answering, quiet);
  }

  #connectionLost(reason: string): void {
    if (this.#health.state !== "connected" || !this.#lost) return;
    this.#setState("backoff", reason);
    // Lost on probation: a failed connect, which `#run` backs off.
    if (this.#story.lost(reason, this.#health.answering)) this.#earlyLoss = reason;
    this.#lost();
  }

  /** The subscriptions, made on first use and told the connection's state. */
  #subscriptions(): DeviceSubscriptions {
    if (this.#subs) return this.#subs;
    const subs = this.#subs = new DeviceSubscriptions({
      driver: this.driver,
      device: this.config.name,
      log: this.#log,
      clock: this.#clock,
      backoff: this.#backoff,
      lost: (reason) => this.#connectionLost(reason),
    });
    if (this.#subsState === "open") subs.open();
    else if (this.#subsState === "down") subs.reportDown(this.#notConnected());
    return subs;
  }

  /** The device is down: its subscribed tags are told (once per outage). */
  #subsDown(): void {
    this.#subsState = "down";
    this.#subs?.reportDown(this.#notConnected());
  }

  #notConnected(): BifrostError {
    const reason = this.#health.lastError ?? "not connected yet";
    return new BifrostError(
      "NOT_CONNECTED",
      `Cannot read "${this.name}": device not connected (${reason})`,
    );
  }

  /**
   * Reads a plan. Never throws: when the device is not connected every tag comes back bad
   * with the reason, and a lost connection triggers a reconnect. A tag the driver reported
   * nothing for comes back bad.
   */
  async read(plan: ReadPlan): Promise<TagResult[]> {
    const sink = new ResultArraySink(plan.tags.length);
    await this.readInto(plan, sink);
    return plan.tags.map((t, i) =>
      sink.results[i] ?? {
        ok: false,
        error: new BifrostError("PROTOCOL_ERROR", noResultMessage(t.name)),
      }
    );
  }

  /**
   * Reads a plan into `sink` (the poll loop's path: no result object per tag). Never throws,
   * like {@linkcode read}: a failure of the whole read reaches `sink.fail` for every tag.
   */
  async readInto(plan: ReadPlan, sink: ReadSink): Promise<void> {
    // A read that arrives while a connect attempt is under way waits for it (bounded by
    // the driver's connect timeout) instead of reporting a value bad that is about to be good.
    if (this.#health.state === "connecting") await this.#attempt?.catch(() => {});
    if (this.#health.state !== "connected") return failAll(plan, sink, this.#notConnected());
    // A free slot is taken without an await (the common case: one poll at a time).
    if (!this.#sem.tryAcquire()) await this.#sem.acquire();
    this.#health.reads++;
    // The poll loop's sink counts for itself: no forwarding call per tag.
    const tally = sink instanceof CountingSink ? sink : new Tally(sink);
    // Only reads that reach the driver are timed (latency and the metrics' histogram).
    let t0: number | undefined;
    try {
      if (this.#health.state !== "connected") return failAll(plan, sink, this.#notConnected());
      const driver = this.driver;
      t0 = this.#clock.monotonic();
      if (driver.readInto) await driver.readInto(plan, this.#abort.signal, tally);
      else deliver(await driver.read(plan, this.#abort.signal), tally, this.#clock.now());
      this.#health.latencyMs = this.#clock.monotonic() - t0;
      this.#checkTimeouts(tally, plan.tags.length);
    } catch (e) {
      this.#health.readErrors++;
      const err = isBifrostError(e) ? e : new BifrostError(
        "NOT_CONNECTED",
        `Cannot read "${this.name}": ${errorMessage(e)}`,
        { cause: e },
      );
      failAll(plan, sink, err);
      if (err.code === "NOT_CONNECTED") this.#connectionLost(err.message);
      else if (err.code === "TIMEOUT") {
        this.#health.timeouts += plan.tags.length;
        this.#countAllTimeoutRead(err.message);
      }
    } finally {
      if (t0 !== undefined) this.readLatency.observe(this.#clock.monotonic() - t0);
      this.#sem.release();
    }
  }

  #checkTimeouts(t: CountingSink, tags: number): void {
    if (tags === 0) return;
    this.#health.timeouts += t.timeouts;
    this.#health.malformed += t.malformed;
    if (t.lost !== undefined) {
      this.#connectionLost(t.lost);
      return;
    }
    // A read whose every tag got no answer, or only garbage, is a read nothing answered.
    if (t.timeouts + t.malformed === tags) {
      this.#health.readErrors++;
      this.#countAllTimeoutRead(t.unanswered);
    } else {
      this.#allTimeoutReads = 0;
      if (this.#health.answering) this.#confirm();
      else {
        this.#confirm(true);
        this.#answeringAgain();
      }
    }
  }

  /**
   * A device that answers nothing for several reads in a row gets a fresh connection; the
   * first time, it is logged as connected but not answering, and then no more until it answers.
   */
  #countAllTimeoutRead(error: string | undefined): void {
    if (++this.#allTimeoutReads < this.#timeoutsBeforeReconnect) return;
    const reason = `${this.#allTimeoutReads} reads in a row got no answer`;
    // It held the connection through those reads: connected, and the loss is ours.
    if (this.#health.state === "connected") this.#confirm();
    if (this.#health.answering && this.#health.state === "connected") {
      this.#health.answering = false;
      this.#silentSince = this.#clock.monotonic();
      this.#log.warn(
        "Device connected, not answering; reconnecting quietly until it answers",
        { error: error ?? reason },
      );
    }
    this.#connectionLost(reason);
  }

  #answeringAgain(): void {
    this.#health.answering = true;
    const s = (this.#clock.monotonic() - this.#silentSince) / 1000;
    this.#log.info(`Device answering again after ${s.toFixed(1)} s`);
  }

  /**
   * Writes one tag; throws a BifrostError when it cannot. `value` is in engineering units:
   * a tag's `scale:` is inverted before the driver encodes it.
   */
  async write(tag: TagConfig, value: Value): Promise<void> {
    const raw = rawForWrite(this.name, tag, value, this.#module);
    if (this.#health.state !== "connected") {
      throw new BifrostError(
        "NOT_CONNECTED",
        `Cannot write "${this.name}/${tag.name}": device not connected (${
          this.#health.lastError ?? "not connected yet"
        })`,
      );
    }
    await this.#sem.run(async () => {
      try {
        await this.driver.write(tag, raw, this.#abort.signal);
        if (this.#health.state === "connected") this.#confirm();
      } catch (e) {
        if (isBifrostError(e, "NOT_CONNECTED")) this.#connectionLost(e.message);
        throw e;
      }
    });
  }

  /** Stops connecting and closes the connection. */
  async stop(): Promise<void> {
    this.#abort.abort(new BifrostError("NOT_CONNECTED", `Device "${this.name}" stopped`));
    await this.#loop;
    await this.driver.close().catch(() => {});
    this.#setState("closed");
  }
}

/**
 * The raw value a write of `value` (engineering units) sends to `tag` of `device`: the rule
 * every write path shares (the runtime, one-shot CLI writes). Throws `WRITE_REJECTED` for a tag
 * that is not writable.
 */
export function rawForWrite(
  device: string,
  tag: TagConfig,
  value: Value,
  module: DriverModule,
): Value {
  if (!tag.writable) throw notWritable(device, tag.name);
  return tag.scale ? unscaleValue(value, tag.scale, kindOf(tag, module)) : value;
}

/** The error of a write to a tag that is not marked writable. */
export function notWritable(device: string, tag: string): BifrostError {
  return new BifrostError(
    "WRITE_REJECTED",
    `Cannot write "${device}/${tag}": the tag is not writable (set writable: true in the flow)`,
  );
}
