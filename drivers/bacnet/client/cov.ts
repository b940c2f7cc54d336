/**
 * @module
 * COV subscriptions of a `subscribe:` poll: one SubscribeCOV per object whose present value
 * a tag reads (confirmed or unconfirmed, with a lifetime renewed at half of it), values
 * pushed from the notifications with their status flags; objects that refuse COV and tags
 * of other properties are polled every `fallbackEvery`. The device is asked for its system
 * status every `checkEvery`: when it stops answering, every tag is bad (NOT_CONNECTED) and
 * the engine is told, which closes this subscription and subscribes again after the
 * reconnect. An I-Am from the device (it announces itself after a restart) re-subscribes at
 * once, since a restarted device has forgotten its subscriptions.
 */

import {
  BifrostError,
  type DriverContext,
  parseDuration,
  type ReadPlan,
  type ReadSink,
  type Subscription,
  type TagConfig,
  type Value,
} from "../../../engine/plugin.ts";
import type { ObjectId } from "../core/asn.ts";
import { formatAddress, formatObject } from "../core/address.ts";
import { family } from "../core/address.ts";
import { ObjectType, PropertyId as P } from "../core/enums.ts";
import type { CovNotification, ObjectResults } from "../core/services.ts";
import { type Status, statusOf } from "./status.ts";
import type { BacnetSession } from "./session.ts";
import type { BacnetDevice } from "../core/spec.ts";
import type { BacnetAddress, TagType } from "../core/address.ts";
import { requestError } from "./errors.ts";
import { valuesToTag } from "../core/values.ts";
import { BacnetReplyError, BacnetTimeoutError, peerKey } from "./port.ts";

/** The plan of a subscribed poll (the driver's `BacnetPlan`). */
export interface BacnetPlan extends ReadPlan {
  readonly addresses: BacnetAddress[];
  readonly types: TagType[];
}

/** What a subscription needs of the driver (`BacnetDriver`, without an import cycle). */
export interface BacnetDriver {
  readonly cfg: BacnetDevice;
  readonly ctx: DriverContext;
  readonly session: BacnetSession | undefined;
  live(): BacnetSession;
  where(): string;
  plan(tags: readonly TagConfig[]): BacnetPlan;
  readInto(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void>;
  badStatus(st: Status, t: number, what: string, v: Value, sink: ReadSink, ts: number): boolean;
}

const key = (o: ObjectId) => `${o.type}:${o.instance}`;

/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await f(items[i++]!);
  }));
}

/** The COV subscriptions of one poll. */
export class CovSubscription implements Subscription {
  private processId = 0;
  private readonly covObjects: ObjectId[] = [];
  /** Tags (plan indexes) by object key, for notifications. */
  private readonly tagsOf = new Map<string, number[]>();
  private fallback: { plan: BacnetPlan; index: number[] } | undefined;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private closed = false;
  private undoIAm: (() => void) | undefined;
  private lost = false;
  private confirmed = false;
  private lifetimeS = 300;
  /** Notifications received, for benchmarks. */
  notifications = 0;

  private constructor(
    readonly driver: BacnetDriver,
    readonly plan: BacnetPlan,
    readonly sink: ReadSink,
  ) {}

  /** Subscribes every object of `plan` that has a present-value tag. */
  static async start(
    driver: BacnetDriver,
    plan: BacnetPlan,
    sink: ReadSink,
    signal: AbortSignal,
    options: Record<string, unknown>,
  ): Promise<CovSubscription> {
    const s = new CovSubscription(driver, plan, sink);
    await s.begin(signal, options);
    return s;
  }

  private async begin(signal: AbortSignal, options: Record<string, unknown>): Promise<void> {
    const session = this.driver.live();
    const port = session.port!;
    this.confirmed = options.confirmed === true;
    this.lifetimeS = Math.max(
      1,
      Math.round(parseDuration(String(options.lifetime ?? "300s")) / 1000),
    );
    const fallbackMs = parseDuration(String(options.fallbackEvery ?? "10s"));
    const checkMs = parseDuration(String(options.checkEvery ?? "5s"));
    const polled: number[] = [];
    this.plan.addresses.forEach((a, i) => {
      if (
        a.property === P["present-value"] && a.index === undefined &&
        family(a.object.type) !== "other"
      ) {
        const k = key(a.object);
        if (!this.tagsOf.has(k)) {
          this.tagsOf.set(k, []);
          this.covObjects.push(a.object);
        }
        this.tagsOf.get(k)!.push(i);
      } else polled.push(i);
    });
    this.processId = port.addCovListener((n) => this.onNotification(n));
    signal.addEventListener("abort", () => void this.close(), { once: true });
    const refused = await this.subscribeAll(signal);
    for (const o of refused) {
      polled.push(...this.tagsOf.get(key(o))!);
      this.tagsOf.delete(key(o));
    }
    if (refused.length > 0) {
      const drop = new Set(refused.map(key));
      this.covObjects.splice(
        0,
        this.covObjects.length,
        ...this.covObjects.filter((o) => !drop.has(key(o))),
      );
    }
    if (polled.length > 0) {
      polled.sort((a, b) => a - b);
      const tags: TagConfig[] = polled.map((i) => this.plan.tags[i]!);
      this.fallback = { plan: this.driver.plan(tags), index: polled };
      await this.poll();
      this.every(fallbackMs, () => this.poll());
    }
    // Renewals at 40-50 % of the lifetime, jittered: thousands of subscriptions made in one
    // burst at start do not all come due in the same instant again (and one lost renewal
    // still leaves half the lifetime to the next).
    if (this.covObjects.length > 0) {
      this.every(() => this.lifetimeS * 1000 * (0.4 + 0.1 * Math.random()), () => this.renew());
    }
    this.every(checkMs, () => this.check());
    const me = session.peer ? peerKey(session.peer) : "";
    this.undoIAm = port.onIAm((f) => {
      if (f.device === this.driver.cfg.device && peerKey(f.peer) === me && !this.closed) {
        void this.renew();
      }
    });
  }

  /** Runs `f` every `ms` (a number, or a function drawing each interval). */
  private every(ms: number | (() => number), f: () => Promise<void>): void {
    const next = typeof ms === "number" ? () => ms : ms;
    const run = async () => {
      if (this.closed) return;
      try {
        await f();
      } catch {
        // Reported by f through the sink or connectionLost.
      }
      if (!this.closed) this.timers.push(setTimeout(run, next()));
    };
    this.timers.push(setTimeout(run, next()));
  }

  /** Subscribes every COV object; returns those the device refused. */
  private async subscribeAll(signal?: AbortSignal): Promise<ObjectId[]> {
    const s = this.driver.live();
    const refused: ObjectId[] = [];
    let failure: unknown;
    await pool([...this.covObjects], 16, async (o) => {
      if (failure) return;
      try {
        await s.subscribeCov(this.processId, o, this.confirmed, this.lifetimeS, signal);
      } catch (e) {
        if (e instanceof BacnetReplyError) refused.push(o);
        else failure = e;
      }
    });
    if (failure) {
      throw requestError(
        failure,
        `Cannot subscribe to COV of BACnet device ${this.driver.where()}`,
      );
    }
    return refused;
  }

  /** Renews every subscription (also after a restart announced by I-Am). */
  private async renew(): Promise<void> {
    if (this.closed) return;
    try {
      const refused = await this.subscribeAll();
      for (const o of refused) {
        for (const t of this.tagsOf.get(key(o)) ?? []) {
          this.sink.fail(
            t,
            new BifrostError(
              "DEVICE_EXCEPTION",
              `BACnet device ${this.driver.where()} refused to renew the COV subscription of ${
                formatObject(o)
              }`,
            ),
          );
        }
      }
    } catch (e) {
      this.connectionLost(e);
    }
  }

  private async check(): Promise<void> {
    try {
      await this.driver.live().readProperty({
        type: ObjectType.device,
        instance: this.driver.cfg.device,
      }, P["system-status"]);
    } catch (e) {
      if (e instanceof BacnetTimeoutError || !(e instanceof BacnetReplyError)) {
        this.connectionLost(e);
      }
    }
  }

  private async poll(): Promise<void> {
    const f = this.fallback!;
    const s = this.driver.live();
    const sink: ReadSink = {
      value: (i, v, ts) => !this.closed && this.sink.value(f.index[i]!, v, ts),
      fail: (i, e) => !this.closed && this.sink.fail(f.index[i]!, e),
    };
    try {
      await this.driver.readInto(f.plan, AbortSignal.timeout(s.cfg.timeoutMs * 4 + 1000), sink);
    } catch (e) {
      const err = requestError(e, `Cannot poll BACnet device ${this.driver.where()}`);
      if (err.code === "TIMEOUT" || err.code === "NOT_CONNECTED") this.connectionLost(e);
      else for (let i = 0; i < f.index.length; i++) sink.fail(i, err);
    }
  }

  private connectionLost(e: unknown): void {
    if (this.closed || this.lost) return;
    this.lost = true;
    const err = requestError(e, `Lost BACnet device ${this.driver.where()}`);
    const gone = new BifrostError("NOT_CONNECTED", err.message, { cause: e });
    for (let i = 0; i < this.plan.tags.length; i++) this.sink.fail(i, gone);
    this.driver.ctx.connectionLost?.(gone.message);
  }

  private onNotification(n: CovNotification): void {
    if (this.closed || n.device.instance !== this.driver.cfg.device) return;
    const tags = this.tagsOf.get(key(n.object));
    if (!tags) return;
    this.notifications++;
    const results: ObjectResults = {
      object: n.object,
      results: n.values.map((v) => ({
        property: v.property,
        ...(v.index === undefined ? {} : { index: v.index }),
        values: v.values,
      })),
    };
    const pv = results.results.find((r) => r.property === P["present-value"]);
    if (!pv || "error" in pv) return;
    const status = statusOf(results);
    const ts = Date.now();
    for (const t of tags) {
      const what = `${formatAddress(this.plan.addresses[t]!)} ("${
        this.plan.tags[t]!.name
      }") of BACnet device ${this.driver.where()}`;
      let v;
      try {
        v = valuesToTag(pv.values, this.plan.types[t]!);
      } catch (e) {
        this.sink.fail(
          t,
          new BifrostError(
            "PROTOCOL_ERROR",
            `Bad COV notification for ${what}: ${(e as Error).message}`,
          ),
        );
        continue;
      }
      if (this.driver.badStatus(status, t, what, v, this.sink, ts)) continue;
      this.sink.value(t, v, ts);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    this.undoIAm?.();
    const s = this.driver.session;
    if (!s?.port) return;
    s.port.removeCovListener(this.processId);
    if (this.lost) return;
    // Cancel on the device (best effort: a device that is gone forgets them at their lifetime).
    const cancels = this.covObjects.map((o) =>
      s.subscribeCov(this.processId, o, false, undefined).catch(() => {})
    );
    await Promise.race([
      Promise.all(cancels),
      new Promise((r) => setTimeout(r, Math.min(1000, s.cfg.timeoutMs))),
    ]);
  }
}
