/**
 * @module
 * The REST API against a real gateway polling the Modbus simulator over TCP: health, last
 * values, on-demand reads, writes that reach the simulator (and the ones refused before
 * anything is sent), stats, flows, history and the OpenAPI document.
 */

import { assert, assertEquals, assertMatch, waitFor } from "../../tests/_assert.ts";
import { API_BASE, createApi, ROUTES } from "./api.ts";
import { registries } from "../registries.ts";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Value } from "@sinclair/typebox/value";

interface Operation {
  responses: Record<string, { content: { "application/json": { schema: object } } }>;
  requestBody?: { content: { "application/json": { schema: object } } };
}
import { call, startTestGateway } from "./_test_gateway.ts";

Deno.test("GET /devices and /tags report health, latency and each tag's last value", async () => {
  await using t = await startTestGateway();
  await waitFor(() => (t.gateway.devices.get("plc")!.health().reads ?? 0) >= 2, 5000, "two polls");
  const d = await call(`${t.api}/devices`);
  assertEquals(d.status, 200);
  const plc = d.body.devices[0];
  assertEquals([plc.name, plc.driver, plc.state, plc.tags], ["plc", "modbus-tcp", "connected", 4]);
  assert(plc.reads >= 2 && typeof plc.latencyMs === "number", JSON.stringify(plc));
  const tags = await call(`${t.api}/tags?device=plc`);
  const sp = tags.body.tags.find((x: { name: string }) => x.name === "setpoint");
  assertEquals([sp.value, sp.quality, sp.kind, sp.writable, sp.unit], [
    20.5,
    "good",
    "float",
    true,
    "degC",
  ]);
  assert(sp.sourceTs > 0 && sp.gatewayTs > 0);
  const one = await call(`${t.api}/tags/plc/pressure`);
  assertEquals([one.status, one.body.value], [200, 1234]);
  const unknown = await call(`${t.api}/tags/plc/presure`);
  assertEquals([unknown.status, unknown.body.error.code], [404, "NOT_FOUND"]);
  assertMatch(unknown.body.error.message, /Unknown tag "presure" on device "plc"/);
  const noDevice = await call(`${t.api}/tags?device=nope`);
  assertEquals([noDevice.status, noDevice.body.error.field], [404, "query.device"]);
});

Deno.test("POST /read reads one tag or a list from the device now", async () => {
  await using t = await startTestGateway();
  t.sim.setValue("HR2", 99, { type: "int16" });
  const one = await call(`${t.api}/read`, { body: { device: "plc", tag: "pressure" } });
  assertEquals(one.status, 200);
  assertEquals([one.body.results[0].ok, one.body.results[0].value], [true, 99]);
  const list = await call(`${t.api}/read`, {
    body: [{ device: "plc", tag: "running" }, { device: "plc", tag: "setpoint" }],
  });
  assertEquals(list.body.results.map((r: { value: unknown }) => r.value), [true, 20.5]);
  const bad = await call(`${t.api}/read`, {
    body: [{ device: "plc", tag: "running" }, { device: "plc", tag: "x" }],
  });
  assertEquals([bad.status, bad.body.error.field], [404, "/1/tag"]);
  const invalid = await call(`${t.api}/read`, { body: { device: "plc" } });
  assertEquals([invalid.status, invalid.body.error.code, invalid.body.error.field], [
    400,
    "BAD_REQUEST",
    "/tag",
  ]);
});

Deno.test("POST /write reaches the simulator, returns the previous value and is audited", async () => {
  await using t = await startTestGateway();
  await waitFor(() => t.gateway.devices.get("plc")!.health().reads >= 1, 5000, "a poll");
  const r = await call(`${t.api}/write`, {
    body: { device: "plc", tag: "setpoint", value: 42.25 },
  });
  assertEquals(r.status, 200);
  assertEquals(r.body.results, [{
    device: "plc",
    tag: "setpoint",
    value: 42.25,
    previous: 20.5,
    ok: true,
  }]);
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.25);
  // Text is parsed by the tag's kind, as `bifrost write` does.
  const text = await call(`${t.api}/write`, {
    body: [{ device: "plc", tag: "running", value: "off" }, {
      device: "plc",
      tag: "mode",
      value: 3,
    }],
  });
  assertEquals(text.body.results.map((x: { ok: boolean }) => x.ok), [true, true]);
  assertEquals(
    [t.sim.getValue("C0", { type: "bool" }), t.sim.getValue("HR3", { type: "uint16" })],
    [false, 3],
  );
  const audit = await call(`${t.api}/audit?device=plc&tag=setpoint`);
  assertEquals(audit.status, 200);
  const e = audit.body.entries[0];
  assertEquals([e.who, e.device, e.tag, e.oldValue, e.newValue, e.result], [
    "local",
    "plc",
    "setpoint",
    20.5,
    42.25,
    "ok",
  ]);
});

Deno.test("POST /write refuses what it cannot write with 403/400/404 and writes nothing", async () => {
  await using t = await startTestGateway();
  const cases: [unknown, number, string, string | undefined, RegExp][] = [
    [{ device: "plc", tag: "pressure", value: 1 }, 403, "WRITE_REJECTED", "/tag", /not writable/],
    [
      { device: "plc", tag: "setpoint", value: "warm" },
      400,
      "CONFIG_INVALID",
      "/value",
      /Cannot write "warm" to "setpoint": expected a number/,
    ],
    [
      { device: "plc", tag: "setpoint", value: 150 },
      400,
      "WRITE_REJECTED",
      "/value",
      /the tag takes 0\.\.100/,
    ],
    [
      { device: "plc", tag: "mode", value: 2.5 },
      400,
      "CONFIG_INVALID",
      "/value",
      /expected a whole number/,
    ],
    [{ device: "plc", tag: "mode", value: 70000 }, 400, "WRITE_REJECTED", undefined, /uint16/],
    [{ device: "plc", tag: "nope", value: 1 }, 404, "NOT_FOUND", "/tag", /Unknown tag "nope"/],
    [
      { device: "boiler", tag: "x", value: 1 },
      404,
      "NOT_FOUND",
      "/device",
      /Unknown device "boiler"/,
    ],
    [{ device: "plc", tag: "mode", value: 1, extra: 1 }, 400, "BAD_REQUEST", "/extra", /Invalid/],
    // A list is checked whole: the first item is valid, yet nothing is written.
    [
      [{ device: "plc", tag: "mode", value: 5 }, { device: "plc", tag: "setpoint", value: -1 }],
      400,
      "WRITE_REJECTED",
      "/1/value",
      /0\.\.100/,
    ],
  ];
  for (const [body, status, code, field, message] of cases) {
    const r = await call(`${t.api}/write`, { body });
    assertEquals(
      [r.status, r.body.error.code, r.body.error.field],
      [status, code, field],
      JSON.stringify(body),
    );
    assertMatch(r.body.error.message, message);
  }
  const malformed = await call(`${t.api}/write`, { raw: '{"device": "plc",' });
  assertEquals([malformed.status, malformed.body.error.code], [400, "BAD_REQUEST"]);
  assertMatch(malformed.body.error.message, /Malformed JSON/);
  const huge = await call(`${t.api}/write`, { raw: `[${'{"device":"plc"},'.repeat(70_000)}1]` });
  assertEquals([huge.status, huge.body.error.code], [413, "BAD_REQUEST"]);
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 20.5);
  assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 7);
  assertEquals(t.sim.getValue("HR2", { type: "int16" }), 1234);
  const audit = await call(`${t.api}/audit?limit=20`);
  // Every refused attempt that named a device and tag is audited with its reason; none is ok.
  assertEquals(audit.body.entries.length, 8);
  assert(audit.body.entries.every((e: { result: string }) => e.result !== "ok"));
  assertEquals(audit.body.entries[0].result, "WRITE_REJECTED");
});

Deno.test("POST /write to a device that is down answers 503 and audits the refusal", async () => {
  await using t = await startTestGateway();
  await t.sim.close();
  const plc = t.gateway.devices.get("plc")!;
  await waitFor(() => plc.health().state !== "connected", 5000, "the device down");
  const r = await call(`${t.api}/write`, { body: { device: "plc", tag: "mode", value: 2 } });
  assertEquals([r.status, r.body.error.code], [503, "NOT_CONNECTED"]);
  assertMatch(r.body.error.message, /Cannot write "plc\/mode": device not connected/);
  const read = await call(`${t.api}/read`, { body: { device: "plc", tag: "mode" } });
  assertEquals([read.status, read.body.results[0].ok, read.body.results[0].quality], [
    200,
    false,
    "bad",
  ]);
  const audit = await call(`${t.api}/audit`);
  assertEquals(audit.body.entries[0].result, "NOT_CONNECTED");
});

Deno.test("GET /stats, /flows and /history report polls, sinks, the revision and downsampled values", async () => {
  await using t = await startTestGateway();
  await waitFor(
    () => t.gateway.stats().consumers.history!.processed >= 6,
    5000,
    "six batches stored",
  );
  const s = await call(`${t.api}/stats`);
  assertEquals(s.status, 200);
  assert(s.body.polls.fast.runs >= 6, JSON.stringify(s.body.polls));
  assertEquals(s.body.sinks.history.use, "sqlite");
  assert(s.body.sinks.history.counters.processed >= 6);
  const f = await call(`${t.api}/flows`);
  assertEquals([f.body.valid, f.body.devices, f.body.polls, f.body.sinks], [true, 1, 1, 1]);
  assertMatch(f.body.revision, /^[0-9a-f]{16}$/);
  await t.gateway.consumers.get("history")!.sink!.flush();
  const h = await call(`${t.api}/history?device=plc&tag=pressure&points=2`);
  assertEquals(h.status, 200, JSON.stringify(h.body));
  assert(h.body.records >= 6 && h.body.downsampled, JSON.stringify(h.body));
  assertEquals(h.body.points.length, 2);
  assertEquals(h.body.points.map((p: { value: number }) => p.value), [1234, 1234]);
  const bad = await call(`${t.api}/history?device=plc&tag=pressure&from=yesterday`);
  assertEquals([bad.status, bad.body.error.field], [400, "query.from"]);
  const missing = await call(`${t.api}/history?device=plc`);
  assertEquals([missing.status, missing.body.error.field], [400, "query.tag"]);
});

Deno.test("the OpenAPI document is OpenAPI 3.1 and lists every route of the API", async () => {
  await using t = await startTestGateway();
  const r = await call(`${t.api}/openapi.json`);
  assertEquals(r.status, 200);
  const doc = r.body;
  assertEquals(doc.openapi, "3.1.0");
  assert(typeof doc.info.title === "string" && typeof doc.info.version === "string");
  assertEquals(doc.components.securitySchemes.bearer.scheme, "bearer");
  const documented = new Set<string>();
  // deno-lint-ignore no-explicit-any
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(ops)) {
      documented.add(`${method.toUpperCase()} ${path}`);
      assert(op.responses["200"].content["application/json"].schema, `${method} ${path}`);
      assert(typeof op.summary === "string" && typeof op.operationId === "string");
      for (const p of op.parameters) assert(["path", "query"].includes(p.in) && p.schema);
    }
  }
  const served = ROUTES.map((x) =>
    `${x.def.method.toUpperCase()} ${API_BASE}${x.def.path.replace(/:(\w+)/g, "{$1}")}`
  );
  // The deploy webhook of `run --git`, served beside the API (app/deploy/webhook.ts).
  assertEquals([...documented].sort(), [...served, "POST /hooks/deploy"].sort());
  documented.delete("POST /hooks/deploy");
  // And what Hono actually serves under the base is exactly that (plus the document itself).
  const api = createApi({ gateway: t.gateway, drivers: registries.drivers });
  const hono = api.app.routes
    .filter((x) =>
      x.path.startsWith(API_BASE) && x.method !== "ALL" && !x.path.endsWith("/openapi.json")
    )
    .map((x) => `${x.method} ${x.path.replace(/:(\w+)/g, "{$1}")}`);
  api.close();
  assertEquals([...new Set(hono)].sort(), [...documented].sort());
  const probe = await call(`${t.api}/nothing-here`);
  assertEquals([probe.status, probe.body.error.code], [404, "NOT_FOUND"]);
  assert(doc.paths[`${API_BASE}/write`].post.requestBody.content["application/json"].schema.anyOf);
  // Every schema of the document is valid JSON Schema, and what the routes answer matches it.
  const ajv = new Ajv2020({ strict: false });
  for (const ops of Object.values(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const op of Object.values(ops)) {
      ajv.compile(op.responses["200"]!.content["application/json"].schema);
      if (op.requestBody) ajv.compile(op.requestBody.content["application/json"].schema);
    }
  }
  await call(`${t.api}/write`, { body: { device: "plc", tag: "mode", value: 1 } });
  const byPath = new Map(ROUTES.map((x) => [`${x.def.method} ${x.def.path}`, x.def.response]));
  for (
    const [path, url] of [
      ["/devices", "/devices"],
      ["/devices/:device", "/devices/plc"],
      ["/tags", "/tags"],
      ["/tags/:device/:tag", "/tags/plc/setpoint"],
      ["/stats", "/stats"],
      ["/flows", "/flows"],
      ["/history", "/history?device=plc&tag=mode"],
      ["/audit", "/audit"],
    ]
  ) {
    const r = await call(`${t.api}${url}`);
    assertEquals(r.status, 200, url);
    const errors = [...Value.Errors(byPath.get(`get ${path}`)!, r.body)].map((e) =>
      `${e.path} ${e.message}`
    );
    assertEquals(errors, [], url);
  }
});
