/** @module The influxdb sink's spec inside the flow language: defaults applied, examples valid. */

import assert from "node:assert/strict";
import type { SinkModule } from "../../engine/plugin.ts";
import { badExamples, loadSinkFlow } from "../_forward/_flow.ts";
import { influxdbSink } from "./mod.ts";
import { InfluxSpec } from "./spec.ts";

Deno.test("an influxdb sink in a flow gets its defaults", async () => {
  const r = await loadSinkFlow(
    influxdbSink as SinkModule<never>,
    `    url: http://127.0.0.1:8086
    database: plant
    tags: { site: north }
`,
  );
  assert.deepEqual(r.errors, []);
  const c = r.flows!.sinks.get("out")!.config as Record<string, unknown>;
  assert.equal(c.version, 1);
  assert.equal(c.measurement, "{device}");
  assert.equal(c.gzip, true);
  assert.equal(c.batchSize, 5000);
  assert.deepEqual(c.tags, { site: "north" });
});

Deno.test("every example of the influxdb spec is valid", () => {
  assert.deepEqual(badExamples(InfluxSpec), []);
});
