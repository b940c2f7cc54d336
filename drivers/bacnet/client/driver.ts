/**
 * @module
 * The `bacnet` driver: a {@linkcode Driver} over a {@linkcode BacnetSession}. Reads are
 * planned into ReadPropertyMultiple requests under the device's max APDU and segmentation
 * (`core/plan.ts`); present values carry their status flags and reliability, so that a
 * faulted point is bad with its reliability and an out-of-service point uncertain with the
 * reason and its value (or bad, or good, by config). Writes go with the tag's priority; `null` relinquishes it. COV
 * subscriptions are in `cov.ts`.
 */

import {
  BifrostError,
  type BrowseNode,
  type DeviceConfig,
  type Driver,
  type DriverContext,
  type ReadPlan,
  type ReadSink,
  ResultArraySink,
  type Subscription,
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import {
  type BacnetAddress,
  defaultType,
  formatAddress,
  formatObject,
  parseAddress,
  type TagType,
} from "../core/address.ts";
import { ObjectType, PropertyId as P, propertyName, Reliability } from "../core/enums.ts";
import {
  describeRequest,
  groupTags,
  type PlannedObject,
  type PlannedRequest,
  planRequests,
} from "../core/plan.ts";
import { type BacnetDevice, deviceFields } from "../core/spec.ts";
import type { ObjectResults } from "../core/services.ts";
import { valuesToTag, valueToApp } from "../core/values.ts";
import { errorName, requestError } from "./errors.ts";
import { BacnetSession } from "./session.ts";
import type { Status } from "./status.ts";
import { statusOf } from "./status.ts";

/** A compiled read of BACnet tags. */
export class BacnetPlan implements ReadPlan {
  readonly addresses: BacnetAddress[];
  readonly types: TagType[];
  readonly objects: PlannedObject[];
  private cached: { key: string; requests: PlannedRequest[] } | undefined;

  constructor(readonly tags: readonly TagConfig[], readonly cfg: BacnetDevice) {
    this.addresses = tags.map((t) => parseAddress(t.address));
    this.types = tags.map((t, i) =>
      (t.config.type as TagType | undefined) ?? defaultType(this.addresses[i]!)
    );
    this.objects = groupTags(this.addresses, cfg.statusFlags);
  }

  /** The requests for a device's limits (cached per limits). */
  requests(maxApdu: number, segments: boolean): PlannedRequest[] {
    const limits = {
      maxApdu: Math.min(maxApdu, 1476),
      maxSegments: segments ? this.cfg.maxSegments : 1,
      maxProperties: this.cfg.maxProperties,
    };
    const key = JSON.stringify(limits);
    if (this.cached?.key !== key) {
      this.cached = { key, requests: planRequests(this.objects, limits) };
    }
    return this.cached.requests;
  }

  describe(): string[] {
    const max = this.cfg.maxApdu ?? 1476;
    return this.requests(max, true).map((r) => describeRequest(r, this.tags.map((t) => t.name)));
  }
}

/** The `bacnet` driver for one device. */
export class BacnetDriver implements Driver {
  readonly maxInFlight = 1;
  readonly cfg: BacnetDevice;
  session: BacnetSession | undefined;
  private readonly subscriptions = new Set<Subscription>();

  constructor(readonly device: DeviceConfig, readonly ctx: DriverContext) {
    this.cfg = deviceFields(device.config);
  }

  /** `"ahu-1" (device 1001 at 10.0.0.5:47808)`. */
  where(): string {
    return `"${this.device.name}" (device ${this.cfg.device} at ${
      this.session?.where() ?? (this.cfg.host ? `${this.cfg.host}:${this.cfg.port}` : "broadcast")
    })`;
  }

  async connect(signal: AbortSignal): Promise<void> {
    const s = new BacnetSession(this.cfg, this.device.name);
    try {
      await s.open(signal);
    } catch (e) {
      s.close();
      const why = e instanceof Error ? e.message : String(e);
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot reach BACnet device ${this.where()}: ${why}`,
        { cause: e },
      );
    }
    this.session = s;
  }

  async close(): Promise<void> {
    for (const sub of [...this.subscriptions]) await sub.close();
    this.session?.close();
    this.session = undefined;
  }

  /** The session, or NOT_CONNECTED. */
  live(): BacnetSession {
    if (!this.session) {
      throw new BifrostError("NOT_CONNECTED", `BACnet device ${this.where()} is not connected`);
    }
    return this.session;
  }

  plan(tags: readonly TagConfig[]): BacnetPlan {
    return new BacnetPlan(tags, this.cfg);
  }

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    const sink = new ResultArraySink(plan.tags.length);
    await this.readInto(plan, signal, sink);
    return sink.results;
  }

  async readInto(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void> {
    const p = plan as BacnetPlan;
    const s = this.live();
    const requests = p.requests(s.limits.maxApdu, s.segmentsReplies);
    for (const r of requests) {
      let results: ObjectResults[];
      try {
        results = await s.readMultiple(r, signal);
      } catch (e) {
        throw requestError(
          e,
          `Cannot read ${
            r.objects.map((o) => formatObject(o.object)).join(", ")
          } from BACnet device ${this.where()}`,
        );
      }
      this.deliver(p, r, results, sink, Date.now());
    }
  }

  /** Hands the results of one request to the sink, tag by tag. */
  deliver(
    p: BacnetPlan,
    r: PlannedRequest,
    results: ObjectResults[],
    sink: ReadSink,
    ts: number,
  ): void {
    r.objects.forEach((o, i) => {
      const got = results[i];
      const status = got ? statusOf(got) : undefined;
      for (const prop of o.properties) {
        if (prop.tags.length === 0) continue;
        const res = got?.results.find((x) =>
          x.property === prop.property && x.index === prop.index
        ) ??
          got?.results.find((x) => x.property === prop.property);
        for (const t of prop.tags) {
          const what = `${formatAddress(p.addresses[t]!)} ("${
            p.tags[t]!.name
          }") of BACnet device ${this.where()}`;
          if (!res) {
            sink.fail(
              t,
              new BifrostError(
                "PROTOCOL_ERROR",
                `Cannot read ${what}: the reply has no result for it`,
              ),
            );
            continue;
          }
          if ("error" in res) {
            const name = errorName(res.error.cls, res.error.code);
            sink.fail(
              t,
              new BifrostError(
                "DEVICE_EXCEPTION",
                `Cannot read ${what}: ${name} (BACnet error class ${res.error.cls}, code ${res.error.code})`,
                {
                  details: { protocol: "bacnet", code: res.error.code, class: res.error.cls, name },
                },
              ),
            );
            continue;
          }
          let v: Value;
          try {
            v = valuesToTag(res.values, p.types[t]!);
          } catch (e) {
            sink.fail(
              t,
              new BifrostError("PROTOCOL_ERROR", `Cannot read ${what}: ${(e as Error).message}`),
            );
            continue;
          }
          if (
            prop.property === P["present-value"] && status &&
            this.badStatus(status, t, what, v, sink, ts)
          ) continue;
          sink.value(t, v, ts);
        }
      }
    });
  }

  /** Reports a faulted or out-of-service point; true when reported. */
  badStatus(
    st: Status,
    t: number,
    what: string,
    v: Value,
    sink: ReadSink,
    ts: number,
  ): boolean {
    if (st.fault || st.reliability !== 0) {
      const rel = Reliability[st.reliability] ?? `reliability-${st.reliability}`;
      sink.fail(
        t,
        new BifrostError(
          "DEVICE_EXCEPTION",
          `Fault on ${what}: reliability ${rel}${
            st.fault ? " (status flag fault)" : ""
          }, present value ${JSON.stringify(v)}`,
          {
            details: { protocol: "bacnet", code: st.reliability, name: rel },
          },
        ),
      );
      return true;
    }
    if (st.outOfService && this.cfg.outOfService === "uncertain") {
      sink.value(t, v, ts, "out-of-service: the present value is not the process value");
      return true;
    }
    if (st.outOfService && this.cfg.outOfService === "bad") {
      sink.fail(
        t,
        new BifrostError(
          "DEVICE_EXCEPTION",
          `${what} is out of service: present value ${JSON.stringify(v)} is not the process value`,
          {
            details: { protocol: "bacnet", code: 0, name: "out-of-service" },
          },
        ),
      );
      return true;
    }
    return false;
  }

  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    const where = `"${tag.name}" (${tag.address}) of BACnet device ${this.where()}`;
    if (!tag.writable) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot write ${JSON.stringify(value)} to ${where}: the tag is not writable`,
      );
    }
    let a: BacnetAddress;
    try {
      a = parseAddress(tag.address);
    } catch (e) {
      throw new BifrostError("WRITE_REJECTED", `Cannot write to ${where}: ${(e as Error).message}`);
    }
    const type = (tag.config.type as TagType | undefined) ?? defaultType(a);
    let app;
    try {
      app = valueToApp(value, type);
    } catch (e) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot write ${JSON.stringify(value)} to ${where}: ${(e as Error).message}`,
      );
    }
    const priority = typeof tag.config.priority === "number" ? tag.config.priority : undefined;
    try {
      await this.live().writeProperty(a.object, a.property, app, {
        ...(a.index === undefined ? {} : { index: a.index }),
        ...(priority === undefined ? {} : { priority }),
        signal,
      });
    } catch (e) {
      const err = requestError(
        e,
        `Cannot write ${JSON.stringify(value)} to ${where}${
          priority ? ` at priority ${priority}` : ""
        }`,
      );
      if (err.code === "DEVICE_EXCEPTION") {
        throw new BifrostError("WRITE_REJECTED", err.message, { details: err.details, cause: e });
      }
      throw err;
    }
  }

  async subscribe(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
    options: Record<string, unknown>,
  ): Promise<Subscription> {
    const { CovSubscription } = await import("./cov.ts");
    const sub = await CovSubscription.start(this, plan as BacnetPlan, sink, signal, options);
    this.subscriptions.add(sub);
    return {
      close: async () => {
        this.subscriptions.delete(sub);
        await sub.close();
      },
    };
  }

  async browse(node: string | undefined, signal: AbortSignal): Promise<BrowseNode[]> {
    const { browseObjects } = await import("./browse.ts");
    if (node !== undefined) return [];
    const objects = await browseObjects(this.live(), this.cfg.device, signal);
    return objects.map((o) => ({
      id: o.address,
      name: o.name,
      hasChildren: false,
      address: o.address,
      type: o.type,
      kind: o.kind,
      writable: o.writable,
      ...(o.description ? { description: o.description } : {}),
    }));
  }
}

/** `device:1001/object-name` text of a property (for messages). */
export function propertyText(type: number, instance: number, prop: number): string {
  return `${formatObject({ type, instance })}/${propertyName(prop)}`;
}

export { ObjectType };
