/**
 * @module
 * The shapes of the sink conformance suite (what a sink gives `runSinkConformance`, its
 * server) and the catalog of devices and tags the suite writes: shared by `sink.ts` and
 * `_sink_cases.ts` without an import cycle.
 */

import type { Catalog, Sink, SinkContext, SinkModule, SinkStats } from "../../engine/sink.ts";
import type { DataRecord } from "../../engine/record.ts";

/** A running server of the sink, driven by the suite. */
export interface SinkServer extends AsyncDisposable {
  /** Stops the server (an outage). Needed for queued sinks. */
  stop?(): Promise<void>;
  /** Starts it again at the same address, with what it held. */
  start?(): Promise<void>;
  close(): Promise<void>;
}

/** What a record reads back as: the fields the server stores. */
export type ReadBackRecord = Partial<DataRecord> & Pick<DataRecord, "device" | "tag">;

/** The fields of a record a server may store, beyond device and tag. */
export type RecordField = "value" | "quality" | "reason" | "sourceTs" | "gatewayTs" | "seq";

/** What a sink gives {@linkcode runSinkConformance}. */
export interface SinkConformanceOptions<S extends SinkServer = SinkServer> {
  module: SinkModule;
  /** Why the server cannot run here (a package missing); every case is then skipped with it. */
  unavailable?: string;
  /** Starts the server (port 0 or a free port, a temp directory). */
  startServer(): Promise<S>;
  /** The sink's config against `server`; `dataDir` is the sink's own (empty) directory. */
  config(server: S, dataDir: string): Record<string, unknown>;
  /** Creates the sink; default `module.create`. (The console sink writes to a capture.) */
  create?(config: Record<string, unknown>, ctx: SinkContext, server: S): Sink;
  /** Every record the server holds so far, as far as it stores them, in any order. */
  readBack(server: S, config: Record<string, unknown>): Promise<ReadBackRecord[]>;
  /** The fields the server stores and gives back, compared with what was written. */
  fields: readonly RecordField[];
  /** `write()` enqueues in the durable queue: the outage case runs. */
  queued: boolean;
  /** How many records `stats()` says reached the server. */
  delivered(stats: SinkStats): number;
  /**
   * Whether `stats()` shows that the sink met the outage (a failed delivery, a lost
   * connection); the outage case waits for it before the server comes back. Default: a
   * `failed` count above 0 or `connected` at 0.
   */
  sawOutage?(stats: SinkStats): boolean;
  /** A minimal valid config of the sink (no server needed), for the spec examples. */
  exampleBase: Record<string, unknown>;
  /** Bound of waits for delivery, ms; default 15,000. */
  waitMs?: number;
}

/** The devices and tags the suite writes (value types fixed per tag, as Sparkplug needs). */
export const CATALOG: Catalog = new Map([
  ["boiler-plc", [
    { name: "temp", type: "float64", unit: "°C", writable: false },
    { name: "running", type: "bool", writable: false },
    { name: "mode", type: "string", writable: false },
    { name: "count", type: "int32", writable: false },
  ]],
  ["press-3", [{ name: "pressure", type: "float64", unit: "bar", writable: false }]],
]);
