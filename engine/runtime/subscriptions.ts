/**
 * @module
 * The subscriptions of one device, owned by its {@linkcode DeviceRuntime} like its
 * connection: every `subscribe:` poll of the device is subscribed after each connect, closed
 * before a reconnect and when the device stops, and never subscribed twice at once (a
 * session's subscriptions are all closed, and their pending `subscribe()` calls settled,
 * before the next session opens). While the device is down, every subscribed tag is reported
 * bad with the reason, once per outage. Pushes that arrive for a closed subscription are
 * dropped here, so a late driver callback cannot deliver a value twice. A driver that does
 * not settle a subscribe or a close within {@linkcode SETTLE_TIMEOUT_MS} is not waited for
 * longer (logged): a reconnect must not hang on a dead connection.
 */

import type { Clock } from "../clock.ts";
import type { Driver, ReadPlan, ReadSink, Subscription } from "../driver.ts";
import { BifrostError, errorMessage, isBifrostError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";

/** How long a close waits for a driver's pending `subscribe()` or `Subscription.close()`. */
export const SETTLE_TIMEOUT_MS = 5000;

/** What a device needs of a subscribed poll (see `SubscriptionRunner`). */
export interface SubscriptionTarget {
  /** The tags, compiled by the device's driver. */
  readonly plan: ReadPlan;
  /** The poll's `subscribe:` options, defaults applied. */
  readonly options: Record<string, unknown>;
  /** Where pushed values go, by the tag's index in the plan. */
  readonly sink: ReadSink;
  /** Every tag of the plan is bad for `error` (device down, subscribe refused). */
  down(error: BifrostError): void;
}

/** Options of {@linkcode DeviceSubscriptions}. */
export interface DeviceSubscriptionsOptions {
  driver: Driver;
  device: string;
  log: Logger;
  clock: Clock;
  backoff: BackoffOptions;
  /** Reports the connection lost (a subscribe or a push failed with `NOT_CONNECTED`). */
  lost: (reason: string) => void;
}

interface Entry {
  target: SubscriptionTarget;
  abort: AbortController;
  /** Set when the entry closes: its pushes are dropped from then on. */
  closed: boolean;
  live: Subscription | undefined;
  task: Promise<void>;
}

/** The subscriptions of one device across its connections. */
export class DeviceSubscriptions {
  #o: DeviceSubscriptionsOptions;
  #targets = new Set<SubscriptionTarget>();
  /** The entries of the open session (one per target), empty while disconnected. */
  #entries = new Map<SubscriptionTarget, Entry>();
  #open = false;
  /** The outage reported to the targets, until the next session opens. */
  #down: BifrostError | undefined;

  constructor(o: DeviceSubscriptionsOptions) {
    this.#o = o;
  }

  /** How many subscriptions are live (subscribed and not closed). */
  get live(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.live) n++;
    return n;
  }

  /** How many polls are subscribed to this device. */
  get size(): number {
    return this.#targets.size;
  }

  /** Adds a subscribed poll: subscribed now if connected, else on the next connect. */
  add(target: SubscriptionTarget): void {
    if (this.#targets.has(target)) return;
    this.#targets.add(target);
    if (this.#open) this.#start(target);
    else if (this.#down) target.down(this.#down);
  }

  /** Removes a subscribed poll and closes its subscription. */
  async remove(target: SubscriptionTarget): Promise<void> {
    this.#targets.delete(target);
    const e = this.#entries.get(target);
    if (!e) return;
    this.#entries.delete(target);
    await this.#close(e);
  }

  /** The device connected: subscribes every poll. */
  open(): void {
    this.#open = true;
    this.#down = undefined;
    for (const t of this.#targets) this.#start(t);
  }

  /** The connection is going: closes every subscription and waits for pending subscribes. */
  async close(): Promise<void> {
    this.#open = false;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => this.#close(e)));
  }

  /** Marks every subscribed tag bad for `error`, once per outage. */
  reportDown(error: BifrostError): void {
    if (this.#down || this.#open) return;
    this.#down = error;
    for (const t of this.#targets) t.down(error);
  }

  #start(target: SubscriptionTarget): void {
    const e: Entry = {
      target,
      abort: new AbortController(),
      closed: false,
      live: undefined,
      task: Promise.resolve(),
    };
    const lost = this.#o.lost;
    const sink: ReadSink = {
      value(index, value, sourceTs, uncertain) {
        if (!e.closed) target.sink.value(index, value, sourceTs, uncertain);
      },
      fail(index, error) {
        if (e.closed) return;
        target.sink.fail(index, error);
        if (error.code === "NOT_CONNECTED") lost(error.message);
      },
    };
    this.#entries.set(target, e);
    e.task = this.#subscribe(e, sink);
  }

  async #subscribe(e: Entry, sink: ReadSink): Promise<void> {
    const { driver, device, log, clock, backoff } = this.#o;
    const signal = e.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!driver.subscribe) {
          throw new BifrostError(
            "CONFIG_INVALID",
            `Cannot subscribe on "${device}": its driver cannot push values`,
          );
        }
        const sub = await driver.subscribe(e.target.plan, sink, signal, e.target.options);
        if (signal.aborted) {
          // Closed while subscribing: this subscription was never handed out.
          await sub.close().catch(() => {});
          return;
        }
        e.live = sub;
        if (failures > 0) log.info("Subscribed after retrying", { attempts: failures + 1 });
        return;
      } catch (err) {
        if (signal.aborted) return;
        // As for reads: an error that is not ours means the connection cannot be trusted.
        const error = isBifrostError(err) ? err : new BifrostError(
          "NOT_CONNECTED",
          `Cannot subscribe on "${device}": ${errorMessage(err)}`,
          { cause: err },
        );
        if (error.code === "NOT_CONNECTED") {
          this.#o.lost(error.message);
          return;
        }
        failures++;
        e.target.down(error);
        if (failures === 1) {
          log.warn("Subscribe failed; retrying with backoff", { error: error.message });
        }
        await clock.sleep(backoffDelay(failures, backoff), signal).catch(() => {});
      }
    }
  }

  async #close(e: Entry): Promise<void> {
    e.closed = true;
    e.abort.abort(new BifrostError("NOT_CONNECTED", "Subscription closed"));
    // A subscribe that settles later closes what it got (its signal is aborted).
    await this.#settle(e.task, "A pending subscribe");
    const live = e.live;
    e.live = undefined;
    if (!live) return;
    await this.#settle(
      live.close().catch((err) => {
        this.#o.log.debug("Closing a subscription failed", { error: errorMessage(err) });
      }),
      "Closing a subscription",
    );
  }

  /** Waits for `p`, at most {@linkcode SETTLE_TIMEOUT_MS}. */
  async #settle(p: Promise<void>, what: string): Promise<void> {
    const stop = new AbortController();
    const timedOut = await Promise.race([
      p.then(() => false),
      this.#o.clock.sleep(SETTLE_TIMEOUT_MS, stop.signal).then(() => true, () => false),
    ]);
    stop.abort();
    if (timedOut) {
      this.#o.log.warn(`${what} did not finish within ${SETTLE_TIMEOUT_MS} ms; going on`, {
        device: this.#o.device,
      });
    }
  }
}
