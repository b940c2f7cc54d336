/** @module The postgres sink's spec inside the flow language: defaults applied, examples valid. */

import assert from "node:assert/strict";
import type { SinkModule } from "../../engine/plugin.ts";
import { badExamples, loadSinkFlow } from "../_forward/_flow.ts";
import { columnPairs, createTableSql } from "./rows.ts";
import { postgresSink } from "./mod.ts";
import { PostgresSpec } from "./spec.ts";

Deno.test("a postgres sink in a flow gets its defaults", async () => {
  const r = await loadSinkFlow(
    postgresSink as SinkModule<never>,
    `    url: postgres://bifrost@127.0.0.1/plant
    table: readings
`,
  );
  assert.deepEqual(r.errors, []);
  const c = r.flows!.sinks.get("out")!.config as Record<string, unknown>;
  assert.deepEqual(c.columns, {
    sourceTs: "time",
    device: "device",
    tag: "tag",
    value: "value",
    quality: "quality",
    seq: "seq",
  });
  assert.equal(c.createTable, false);
  assert.equal(c.batchSize, 1000);
});

Deno.test("a postgres sink with an unknown record field in columns is a config error", async () => {
  const r = await loadSinkFlow(
    postgresSink as SinkModule<never>,
    `    url: postgres://bifrost@127.0.0.1/plant
    table: readings
    columns: { temperature: temp }
`,
  );
  assert.ok(r.errors.some((e) => e.path.includes("columns")), JSON.stringify(r.errors));
});

Deno.test("createTable types columns from the record fields they take", () => {
  assert.equal(
    createTableSql("plant.readings", columnPairs({ sourceTs: "time", value: "v", seq: "seq" })),
    `CREATE TABLE IF NOT EXISTS "plant"."readings" (\n  "time" timestamptz NOT NULL,\n  "v" double precision,\n  "seq" bigint NOT NULL\n)`,
  );
});

Deno.test("every example of the postgres spec is valid", () => {
  assert.deepEqual(badExamples(PostgresSpec), []);
});
