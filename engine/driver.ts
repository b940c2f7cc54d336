/**
 * @module
 * The driver contract. A driver speaks one protocol to one device; the engine owns the
 * lifecycle around it: when to connect, how long to back off (exponential with jitter),
 * when a device is healthy, how many requests may be in flight, and when to retry.
 *
 * Rules a driver follows:
 * - `connect()` opens the transport or throws a {@linkcode BifrostError} with code
 *   `DEVICE_UNREACHABLE` (refused, unreachable, timed out). It never retries by itself.
 * - `read()` returns one {@linkcode TagResult} per tag of the plan, in plan order. A failure
 *   that concerns only some tags (a Modbus exception on one request) is reported per tag and
 *   the rest of the read goes on. A failure of the connection itself throws a
 *   `BifrostError` with code `NOT_CONNECTED`; the engine then closes the driver, marks every
 *   tag of the device bad and reconnects with backoff.
 * - `read()` and `write()` must honour the signal and must never hang: they time out on
 *   their own (code `TIMEOUT`).
 * - At most {@linkcode Driver.maxInFlight} calls to `read()`/`write()` run at once; the
 *   engine guarantees it.
 * - `subscribe()` (push sources, e.g. OPC UA) and `browse()` are optional.
 */

import type { TSchema } from "@sinclair/typebox";
import type { BifrostError } from "./errors.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { Batch, Value } from "./record.ts";

/** Linear scaling of a tag, applied by the engine after the driver decodes the raw value. */
export interface TagScaling {
  /** `eng = raw * gain + offset` */
  gain?: number;
  offset?: number;
  /** Or two-point: raw range to engineering range. */
  rawMin?: number;
  rawMax?: number;
  engMin?: number;
  engMax?: number;
  /** Clamp the engineering value to `[clampMin, clampMax]`. */
  clampMin?: number;
  clampMax?: number;
}

/** A tag as the flow declares it. Driver-specific fields (address, type…) are in `config`. */
export interface TagConfig {
  name: string;
  /** Driver-specific address text, e.g. `HR100`. */
  address: string;
  /** Data type, e.g. `float32`. */
  type: string;
  unit?: string;
  description?: string;
  scale?: TagScaling;
  writable: boolean;
  /** Every field of the tag as written in the flow (validated against the driver's tag spec). */
  config: Record<string, unknown>;
}

/** A device as the flow declares it. */
export interface DeviceConfig {
  name: string;
  driver: string;
  /** Driver-specific connection fields, validated against the driver's device spec. */
  config: Record<string, unknown>;
  tags: Map<string, TagConfig>;
  /** Value generators for the virtual device (`--simulate`), as written in the flow. */
  simulator?: Record<string, unknown>;
}

/** The outcome of reading one tag. */
export type TagResult =
  | { ok: true; value: Value; sourceTs?: number }
  | { ok: false; error: BifrostError };

/**
 * Where {@linkcode Driver.readInto} puts the outcome of each tag of a plan, by the tag's
 * index in `plan.tags`, so that a poll of 100 tags allocates no result object per tag. A tag
 * given neither call is reported bad ("driver returned no result"); a later call for the
 * same index wins.
 */
export interface ReadSink {
  /** Tag `index` of the plan read `value`, taken at `sourceTs` (ms since the epoch). */
  value(index: number, value: Value, sourceTs: number): void;
  /** Tag `index` of the plan could not be read. */
  fail(index: number, error: BifrostError): void;
}

/**
 * A {@linkcode ReadSink} that builds the `TagResult[]` of `read()`: one object per tag, which
 * the poll loop's `readInto` path avoids.
 */
export class ResultArraySink implements ReadSink {
  /** One result per tag of the plan, in plan order (a hole for a tag never reported). */
  readonly results: TagResult[];

  constructor(tags: number) {
    this.results = new Array<TagResult>(tags);
  }

  value(index: number, value: Value, sourceTs: number): void {
    this.results[index] = { ok: true, value, sourceTs };
  }

  fail(index: number, error: BifrostError): void {
    this.results[index] = { ok: false, error };
  }
}

/** Why a tag that a read reported nothing for is bad. */
export function noResultMessage(tag: string): string {
  return `Driver returned no result for "${tag}"`;
}

/** A compiled read of a set of tags (e.g. coalesced Modbus requests); opaque to the engine. */
export interface ReadPlan {
  /** The tags, in the order `read()` reports them. */
  readonly tags: readonly TagConfig[];
  /** A human description of every request the plan makes (for `bifrost plan`). */
  describe(): string[];
}

/** A node found by `browse()`. */
export interface BrowseNode {
  address: string;
  name: string;
  type?: string;
  writable?: boolean;
  children?: BrowseNode[];
}

/** A live subscription; closed by the engine. */
export interface Subscription {
  close(): Promise<void>;
}

/** A connection to one device. */
export interface Driver {
  /** How many `read()`/`write()` calls may be in flight at once. */
  readonly maxInFlight: number;
  connect(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Compiles tags into a read plan; called once per poll group when the flow starts. */
  plan(tags: readonly TagConfig[]): ReadPlan;
  read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]>;
  /**
   * Like {@linkcode read}, handing every tag's outcome to `sink` instead of returning an
   * array of results (the poll loop's path; drivers without it are read through `read`).
   * Throws in the same cases as `read`.
   */
  readInto?(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void>;
  /**
   * Writes one tag (`value` raw: a tag's `scale` already inverted). Checks the value against
   * the tag's type, count and declared range before anything is sent, and throws
   * `WRITE_REJECTED` naming tag, device, value and range when it does not fit: a device must
   * never receive a value it cannot hold (Modbus: `drivers/modbus/write_check.ts`).
   */
  write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void>;
  subscribe?(
    tags: readonly TagConfig[],
    onData: (batch: Batch) => void,
    signal: AbortSignal,
  ): Promise<Subscription>;
  browse?(signal: AbortSignal): Promise<BrowseNode[]>;
}

/** What the engine gives a driver. */
export interface DriverContext {
  log: Logger;
  clock: Clock;
  /**
   * The shortest interval (ms) of the interval polls of this device, when it has any (not
   * cron polls). A driver may tune its connection to it: the Modbus TCP client keeps no read
   * pending between polls of 5 s or less.
   */
  pollEveryMs?: number;
  /**
   * Tells the engine that the open connection was lost outside a read or write (a read kept
   * pending saw the peer close it): the engine reconnects at once instead of at the next
   * poll. Optional for drivers; a loss found by a read or write is reported by its error.
   */
  connectionLost?: (reason: string) => void;
}

/** A semantic problem found by a driver in a device's config. */
export interface DriverIssue {
  message: string;
  /** Path under the device, e.g. `["tags", "temp1", "address"]`. */
  path: (string | number)[];
  severity?: "error" | "warning";
}

/** A virtual device started for `--simulate` or tests. */
export interface SimulatedDevice {
  /** Connection fields to use instead of the flow's (e.g. `{ host, port }`). */
  connection: Record<string, unknown>;
  close(): Promise<void>;
}

/** One entry of the driver registry. */
export interface DriverModule {
  /** The `driver:` value in flows, e.g. `modbus-tcp`. */
  name: string;
  description: string;
  status: "stable" | "beta" | "experimental";
  /** Driver-specific device fields (connection, limits). */
  deviceSpec: TSchema;
  /** Driver-specific tag fields (address, type, byte order…). */
  tagSpec: TSchema;
  create(device: DeviceConfig, ctx: DriverContext): Driver;
  /** Semantic checks beyond the schema: address syntax, overlaps, type/table mismatches. */
  validate?(device: DeviceConfig): DriverIssue[];
  /** The shortest poll interval (ms) this device can sustain for these tags. */
  minIntervalMs?(device: DeviceConfig, tags: readonly TagConfig[]): number;
  /** Starts a virtual device serving this device's tags. */
  simulate?(device: DeviceConfig): Promise<SimulatedDevice>;
}
