/** @module The http sink's spec inside the flow language: defaults applied, examples valid. */

import assert from "node:assert/strict";
import type { SinkModule } from "../../engine/plugin.ts";
import { badExamples, loadSinkFlow } from "../_forward/_flow.ts";
import { httpSink } from "./mod.ts";
import { HttpSpec } from "./spec.ts";

Deno.test("an http sink in a flow gets its defaults and env secrets", async () => {
  const r = await loadSinkFlow(
    httpSink as SinkModule<never>,
    `    url: http://127.0.0.1:8080/ingest
    token: \${TOKEN}
`,
    { TOKEN: "t0k" },
  );
  assert.deepEqual(r.errors, []);
  const c = r.flows!.sinks.get("out")!.config as Record<string, unknown>;
  assert.equal(c.token, "t0k");
  assert.equal(c.method, "POST");
  assert.equal(c.format, "json");
  assert.equal(c.batchSize, 500);
  assert.equal(c.retryMin, "500ms");
  assert.equal(c.breakerThreshold, 5);
  assert.deepEqual(c.retryStatuses, [401, 403, 404, 407]);
});

Deno.test("an http sink with a bad format is a placed config error", async () => {
  const r = await loadSinkFlow(
    httpSink as SinkModule<never>,
    `    url: http://127.0.0.1:8080/ingest
    format: xml
`,
  );
  assert.ok(
    r.errors.some((e) => e.path.includes("format") && e.line === 14),
    JSON.stringify(r.errors),
  );
});

Deno.test("every example of the http spec is valid", () => {
  assert.deepEqual(badExamples(HttpSpec), []);
});
