/**
 * @module
 * The shared conformance suite of sinks: {@linkcode runSinkConformance} registers one
 * `Deno.test` per case for a sink module against its real server (mosquitto, PostgreSQL,
 * InfluxDB, an HTTP endpoint, a file): records delivered and read back with their values,
 * qualities, timestamps, device and tag names; a batch of bad-quality, string and boolean
 * records; an outage of the server with nothing lost and nothing duplicated (queued sinks);
 * `stats()`; `close()` flushing; and every example of the sink's spec against the flow
 * schema. A server that cannot start here skips every case with the reason in its name.
 */

import { SINK_CASES } from "./_sink_cases.ts";
import type { SinkConformanceOptions, SinkServer } from "./_sink_types.ts";

export {
  CATALOG,
  type ReadBackRecord,
  type RecordField,
  type SinkConformanceOptions,
  type SinkServer,
} from "./_sink_types.ts";

/**
 * Registers the conformance cases of a sink with `Deno.test`, each named
 * `<sink>: <case>: <what it checks>`; a case the sink cannot run is registered ignored, its
 * name ending in `skipped: <reason>`.
 */
export function runSinkConformance<S extends SinkServer>(o: SinkConformanceOptions<S>): void {
  for (const c of SINK_CASES) {
    const skip = o.unavailable ?? c.skip?.(o as unknown as SinkConformanceOptions);
    if (skip !== undefined) {
      Deno.test({ name: `${o.module.name}: ${c.name}: skipped: ${skip}`, ignore: true, fn() {} });
      continue;
    }
    Deno.test({
      name: `${o.module.name}: ${c.name}: ${c.does}`,
      // Network clients (mqtt.js, postgres.js) keep timers a moment after they close.
      sanitizeOps: false,
      sanitizeResources: false,
      fn: () => c.run(o as unknown as SinkConformanceOptions),
    });
  }
}
