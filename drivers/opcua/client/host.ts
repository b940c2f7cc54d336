/**
 * @module
 * What the write and subscribe code needs of the driver (kept apart so that they do not
 * import the driver module, which imports them).
 */

import type { DeviceConfig, ReadPlan, ReadSink } from "../../../engine/plugin.ts";
import type { OpcuaDevice } from "../core/spec.ts";
import type { OpcuaPlan } from "./plan.ts";
import type { Resolved } from "./resolve.ts";
import type { SubscriptionPark } from "./park.ts";
import type { Connection } from "./session.ts";
import type { DataValue } from "node-opcua-client";

/** The driver as seen by `write.ts` and `subscribe.ts`. */
export interface DriverHost {
  readonly device: DeviceConfig;
  readonly fields: OpcuaDevice;
  /** Monitored items held by this session's live subscriptions. */
  monitored: number;
  /** Subscriptions kept across a lost connection. */
  readonly park: SubscriptionPark;
  /** True while the connection is lost and may come back: a closed subscription is parked. */
  parking(): boolean;
  /** A debug line of the resume machinery. */
  trace(msg: string, fields: Record<string, unknown>): void;
  /** The live connection, or NOT_CONNECTED. */
  live(): Connection;
  /** A service call bounded by the device's timeout; a broken channel is NOT_CONNECTED. */
  call<T>(what: string, p: Promise<T>): Promise<T>;
  /** The NodeIds of a plan's tags on this connection. */
  ids(c: Connection, plan: ReadPlan): Promise<Resolved[]>;
  /** Reports one DataValue of tag `i` of `plan`. */
  deliver(plan: OpcuaPlan, i: number, dv: DataValue | undefined, sink: ReadSink, now: number): void;
}
