/**
 * @module
 * The shared conformance suite of drivers (Hono's `runTest({ newRouter })` that every router
 * runs): {@linkcode runDriverConformance} registers one `Deno.test` per case for a driver
 * module against its own simulator. A driver is not done until it passes: connect, a refused
 * connection, a silent device, a restart seen through the engine's `DeviceRuntime`, one bad
 * tag in a good poll, writes refused and written back, its plan's description, browse and
 * subscribe when it has them, and every example of its specs against the flow schema.
 *
 * Cases the driver cannot run (no push, no browse) are still registered, with `ignore: true`
 * and the reason in their name, so that a test report lists them.
 *
 * The browse and subscribe cases are written against the driver contract V2 shapes
 * (`browse(node, signal)`, `subscribe(plan, sink, signal, options)`, `module.subscribeSpec`,
 * `module.valueKind`), declared here as long as `engine/driver.ts` lacks them, and run as
 * soon as a module has them.
 */

import type { TSchema } from "@sinclair/typebox";
import type {
  DriverModule,
  ReadPlan,
  ReadSink,
  Subscription,
  TagConfig,
} from "../../engine/driver.ts";
import type { Value } from "../../engine/record.ts";
import {
  badQuality,
  connect,
  planDescription,
  refused,
  refuseWrite,
  restart,
  timeout,
  write,
} from "./_driver_cases.ts";
import { browseCase, examplesCase, subscribeCase, valueKindCase } from "./_driver_v2_cases.ts";
import type { DriverCase } from "./_driver_helpers.ts";

export { conformanceDevice, moduleV2, v2 } from "./_driver_helpers.ts";

/** How a tag's values are carried (driver contract V2). */
export type ValueKind = "boolean" | "integer" | "bigint" | "float" | "string" | "bytes" | "array";

/** A node found by `browse()` (driver contract V2). */
export interface BrowseNodeV2 {
  id: string;
  name: string;
  hasChildren: boolean;
  address?: string;
  type?: string;
  kind?: ValueKind;
  writable?: boolean;
  description?: string;
}

/** The optional members of a V2 driver, looked up by presence. */
export interface DriverV2 {
  subscribe?(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
    options: Record<string, unknown>,
  ): Promise<Subscription>;
  browse?(node: string | undefined, signal: AbortSignal): Promise<BrowseNodeV2[]>;
}

/** The optional members of a V2 driver module, looked up by presence. */
export interface DriverModuleV2 {
  valueKind?(tag: TagConfig): ValueKind;
  subscribeSpec?: TSchema;
}

/** A running simulator of the driver's device, driven by the suite. */
export interface ConformanceSimulator extends AsyncDisposable {
  /** The connection fields of the device (`{ host, port }`, `{ port: "/dev/pts/3" }`). */
  readonly connection: Record<string, unknown>;
  /** Sets the value the device holds for a tag. */
  setValue(tag: TagConfig, value: Value): void;
  /** The value the device holds for a tag. */
  getValue(tag: TagConfig): Value;
  /** Makes the device fail reads of `tag` (an exception, a bad status); returns the undo. */
  failTag(tag: TagConfig): () => void;
  /** Makes the device answer nothing (it stays reachable) or answer again. */
  silence(on: boolean): void;
  /** Switches the device off: its connections close, nothing answers at its address. */
  stop(): Promise<void>;
  /** Switches it on again at the same address, with the values it held. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A tag the suite reads, and the value the simulator holds for it. */
export interface ConformanceTag {
  tag: TagConfig;
  value: Value;
}

/** What a driver gives {@linkcode runDriverConformance}. */
export interface DriverConformanceOptions {
  module: DriverModule;
  /** Starts the simulator (listening on port 0, or on a fresh pty). */
  startSimulator(): Promise<ConformanceSimulator>;
  /**
   * The device fields for a connection (the connection fields merged with the driver's
   * timeout set to {@linkcode timeoutMs}, no retries).
   */
  device(connection: Record<string, unknown>): Record<string, unknown>;
  /**
   * Connection fields where nothing answers and the driver is refused at once (also used to
   * create drivers that never connect: plan descriptions, feature checks).
   */
  refused(): Record<string, unknown>;
  /** The timeout the device fields configure, ms. */
  timeoutMs: number;
  /**
   * Tags read together in one plan, with distinct values (at least two, of different types
   * where the driver has types). The first must be writable.
   */
  tags: ConformanceTag[];
  /** A tag whose writes the driver itself refuses (a read-only table); omit if none. */
  readOnlyTag?: TagConfig;
  /** A value to write to the first tag, different from its held value. */
  writeValue: Value;
  /** The `subscribe:` options for a poll, when the driver can push. */
  subscribeOptions?: Record<string, unknown>;
  /** Extra slack on time bounds, ms (slow lines); default 500. */
  slackMs?: number;
  /** Why the simulator cannot run here (a program missing): every case is skipped with it. */
  unavailable?: string;
  /** Cases this driver cannot run, by case name, with the reason (shown in the test name). */
  skipCases?: Record<string, string>;
}

/** Every case, in the order they are registered. */
const CASES: readonly DriverCase[] = [
  connect,
  refused,
  timeout,
  restart,
  badQuality,
  refuseWrite,
  write,
  planDescription,
  browseCase,
  subscribeCase,
  valueKindCase,
  examplesCase,
];

/** Every case of the suite, by the name that follows `<driver>: ` in the test name. */
export const DRIVER_CASES: readonly string[] = CASES.map((c) => c.name);

/**
 * Registers the conformance cases of a driver with `Deno.test`, each named
 * `<driver>: <case>: <what it checks>`; a case the driver cannot run is registered ignored, its name ending in
 * `skipped: <reason>`.
 *
 * @example
 * ```ts
 * runDriverConformance({ module: modbusTcp, startSimulator, device: (c) => ({ ...c, timeout: "200ms" }), ... });
 * ```
 */
export function runDriverConformance(o: DriverConformanceOptions): void {
  for (const c of CASES) {
    const skip = o.unavailable ?? o.skipCases?.[c.name] ?? c.skip?.(o);
    if (skip !== undefined) {
      Deno.test({ name: `${o.module.name}: ${c.name}: skipped: ${skip}`, ignore: true, fn() {} });
      continue;
    }
    Deno.test({ name: `${o.module.name}: ${c.name}: ${c.does}`, fn: () => c.run(o) });
  }
}
