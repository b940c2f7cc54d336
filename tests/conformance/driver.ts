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
 * A push driver (one whose module has `subscribeSpec`) also proves its subscriptions through
 * the engine: a `subscribe:` poll run by the `Gateway` gives records with sequence numbers,
 * every tag bad with the reason during an outage, and exactly one new subscription after
 * the reconnect.
 */

import {
  badQuality,
  connect,
  planDescription,
  refused,
  refuseWrite,
  restart,
  timeout,
  uncertainQuality,
  write,
} from "./_driver_cases.ts";
import { browseCase, examplesCase, valueKindCase } from "./_driver_spec_cases.ts";
import { subscribeCase, subscribedPollCase } from "./_driver_subscribe_cases.ts";
import type { DriverCase, DriverConformanceOptions } from "./_driver_types.ts";

export { conformanceDevice } from "./_driver_helpers.ts";
export type {
  ConformanceSimulator,
  ConformanceTag,
  DriverCase,
  DriverConformanceOptions,
} from "./_driver_types.ts";

/** Every case, in the order they are registered. */
const CASES: readonly DriverCase[] = [
  connect,
  refused,
  timeout,
  restart,
  badQuality,
  uncertainQuality,
  refuseWrite,
  write,
  planDescription,
  browseCase,
  subscribeCase,
  subscribedPollCase,
  valueKindCase,
  examplesCase,
];

/** Every case of the suite, by the name that follows `<driver>: ` in the test name. */
export const DRIVER_CASES: readonly string[] = CASES.map((c) => c.name);

/**
 * Awaits the module's `load()` (its client), then registers the conformance
 * cases of a driver with `Deno.test`, each named
 * `<driver>: <case>: <what it checks>`; a case the driver cannot run is registered ignored, its name ending in
 * `skipped: <reason>`.
 *
 * @example
 * ```ts
 * await runDriverConformance({ module: modbusTcp, startSimulator, device: (c, ms) => ({ ...c, timeout: `${ms}ms` }), ... });
 * ```
 */
export async function runDriverConformance(o: DriverConformanceOptions): Promise<void> {
  await o.module.load?.();
  for (const c of CASES) {
    const skip = o.unavailable ?? o.skipCases?.[c.name] ?? c.skip?.(o);
    if (skip !== undefined) {
      Deno.test({ name: `${o.module.name}: ${c.name}: skipped: ${skip}`, ignore: true, fn() {} });
      continue;
    }
    Deno.test({ name: `${o.module.name}: ${c.name}: ${c.does}`, fn: () => c.run(o) });
  }
}
