/**
 * @module
 * HTTP triggers against a real gateway polling the Modbus simulator, with real requests and
 * the functions in their own processes: the function's answer, 400 for a body that fails
 * the schema, 500 with a request id (and no stack) for a throw, 504 then a working next
 * request for a time-out, tokens with the `trigger:<name>` scope, and 503 past the queue.
 */

import { Hono } from "hono";
import { assert, assertEquals, assertMatch, waitFor } from "../../tests/_assert.ts";
import { systemClock } from "../../engine/clock.ts";
import { createLogger, nullLogger } from "../../engine/log.ts";
import { hashToken } from "./auth.ts";
import { call, startTestGateway } from "./_test_gateway.ts";
import { createTriggers } from "./triggers.ts";
import { liveParts } from "./parts.ts";
import { parseExposition, sampleValue } from "./_prom_test_util.ts";
import { join } from "node:path";
import { loadFlows } from "../../engine/flow/mod.ts";
import { registries } from "../registries.ts";

// Appended to the fixture's flow, whose last section is \`sinks:\`.
const FLOW = `
  pumped: { use: sqlite, from: meter, path: pumped.db }
triggers:
  pump-start:
    http: { method: POST, path: /hooks/pump/:unit }
    function: pump.ts
    body:
      type: object
      required: [speed]
      properties: { speed: { type: number, minimum: 0 } }
    timeout: 1s
    memory: 64MB
    with: { site: north }
  plain:
    http: { method: GET, path: /hooks/plain }
    function: plain.ts
  meter:
    http: { method: POST, path: /hooks/meter }
    function: meter.ts
  setpoint:
    http: { method: PUT, path: /hooks/setpoint }
    function: setpoint.ts
`;

const PUMP = `
export default function (req, ctx) {
  if (req.body.speed === 13) throw new Error("unlucky speed");
  if (req.body.speed === 99) { const end = Date.now() + 10000; while (Date.now() < end) {} }
  ctx.state.n = (ctx.state.n ?? 0) + 1;
  return {
    status: 201,
    headers: { "x-pump": req.params.unit },
    body: {
      unit: req.params.unit, speed: req.body.speed, mode: req.query.mode, site: ctx.params.site,
      n: ctx.state.n, probe: req.headers["x-probe"], auth: req.headers.authorization ?? null,
      now: ctx.now() > 0, method: req.method, path: req.path,
    },
  };
}
`;

const PLAIN = `export default (req) => ({ hello: req.method, path: req.path });\n`;

const METER = `
export default function (req, ctx) {
  const records = req.body.readings.map((r) => ({ device: "meter-7", tag: r.tag, value: r.value }));
  ctx.emit(records);
  if (req.body.fail) throw new Error("emitted, then failed");
  return { accepted: records.length };
}
`;

const SETPOINT = `
export default async function (req, ctx) {
  const before = await ctx.read("plc", "setpoint");
  const pressure = await ctx.read("plc", "pressure");
  try {
    await ctx.write("plc", req.body.tag ?? "setpoint", req.body.value);
  } catch (e) {
    return { status: 409, body: { refused: e.message } };
  }
  return { before, pressure, after: await ctx.read("plc", "setpoint") };
}
`;

const FILES = { "pump.ts": PUMP, "plain.ts": PLAIN, "meter.ts": METER, "setpoint.ts": SETPOINT };

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

Deno.test("a trigger answers with its function's status, headers and body; a plain value is a 200", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const r = await post(`${t.http.url}/hooks/pump/p7?mode=auto`, { speed: 40 }, {
    "x-probe": "yes",
  });
  assertEquals(r.status, 201, r.text);
  assertEquals(r.headers.get("x-pump"), "p7");
  assertEquals(r.body, {
    unit: "p7",
    speed: 40,
    mode: "auto",
    site: "north",
    n: 1,
    probe: "yes",
    auth: null,
    now: true,
    method: "POST",
    path: "/hooks/pump/p7",
  });
  assertEquals((await post(`${t.http.url}/hooks/pump/p7`, { speed: 1 })).body.n, 2);
  const plain = await call(`${t.http.url}/hooks/plain`);
  assertEquals([plain.status, plain.body], [200, { hello: "GET", path: "/hooks/plain" }]);
  // Another method on the same path is no trigger.
  assertEquals((await call(`${t.http.url}/hooks/plain`, { body: {} })).status, 404);
});

Deno.test("a body that fails the trigger's schema gets 400 naming the field; so does one that is not JSON", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/pump/p1`;
  const missing = await post(url, { rpm: 3 });
  assertEquals(missing.status, 400);
  assertEquals(missing.body.error.code, "BAD_REQUEST");
  assertEquals(missing.body.error.field, "/speed");
  assertMatch(missing.body.error.message, /trigger "pump-start" at \/speed/);
  const negative = await post(url, { speed: -1 });
  assertEquals([negative.status, negative.body.error.field], [400, "/speed"]);
  assertMatch(negative.body.error.message, />= 0/);
  const garbage = await post(url, "{speed:");
  assertEquals(garbage.status, 400);
  assertMatch(garbage.body.error.message, /not JSON/);
  // The function saw none of them: its first call counts 1.
  assertEquals((await post(url, { speed: 2 })).body.n, 1);
});

Deno.test("a throw gets 500 with a request id and no stack, logged with the error; the next request works", async () => {
  const lines: string[] = [];
  const log = createLogger({ json: true, write: (l) => lines.push(l) });
  await using t = await startTestGateway({ log }, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/pump/p1`;
  const r = await post(url, { speed: 13 });
  assertEquals(r.status, 500);
  assertEquals(r.body.error.code, "FUNCTION_FAILED");
  const id = r.body.error.requestId;
  assertMatch(id, /^[0-9a-f-]{36}$/);
  assertEquals(r.headers.get("x-request-id"), id);
  assert(!r.text.includes("unlucky") && !r.text.includes("pump.ts"), r.text);
  const logged = lines.find((l) => l.includes(id));
  assert(logged?.includes("unlucky speed"), lines.join("\n"));
  // State survived: the process lives on after a throw.
  assertEquals((await post(url, { speed: 3 })).status, 201);
});

Deno.test("a time-out gets 504, the process is replaced and the next request works", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/pump/p1`;
  assertEquals((await post(url, { speed: 5 })).body.n, 1);
  const started = performance.now();
  const slow = await post(url, { speed: 99 });
  assertEquals(slow.status, 504);
  assertEquals(slow.body.error.code, "TIMEOUT");
  assertMatch(slow.body.error.message, /timed out after 1000 ms \(request id /);
  assert(performance.now() - started < 5000, "answered near the time limit, not after the loop");
  const next = await post(url, { speed: 6 });
  assertEquals(next.status, 201, next.text);
  assertEquals(next.body.n, 1, "a fresh process: state starts empty");
});

Deno.test("with tokens a trigger needs the scope trigger:<name> or admin; the function never sees the token", async () => {
  const tokensEnv = JSON.stringify({
    tokens: [
      { id: "viewer", sha256: hex("view-secret"), scopes: ["read", "write"] },
      { id: "hook", sha256: hex("hook-secret"), scopes: ["trigger:pump-start"] },
      { id: "root", sha256: hex("root-secret"), scopes: ["admin"] },
    ],
  });
  await using t = await startTestGateway({ tokensEnv }, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/pump/p1`;
  assertEquals((await post(url, { speed: 1 })).status, 401);
  const bearer = (s: string) => ({ authorization: `Bearer ${s}` });
  assertEquals((await post(url, { speed: 1 }, bearer("view-secret"))).status, 403);
  const ok = await post(url, { speed: 1 }, bearer("hook-secret"));
  assertEquals([ok.status, ok.body.auth], [201, null]);
  assertEquals((await post(url, { speed: 1 }, bearer("root-secret"))).status, 201);
  // The hook token is for that trigger only.
  const other = await fetch(`${t.http.url}/hooks/plain`, { headers: bearer("hook-secret") });
  await other.body?.cancel();
  assertEquals(other.status, 403);
});

Deno.test("requests to one trigger run one at a time; past the queue they get 503 with Retry-After", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-trig-" });
  try {
    await Deno.writeTextFile(
      `${dir}/slow.ts`,
      `export default async (req, ctx) => {
        ctx.state.active = (ctx.state.active ?? 0) + 1;
        const most = ctx.state.active;
        await new Promise((r) => setTimeout(r, 150));
        ctx.state.active--;
        return { most };
      };\n`,
    );
    const triggers = createTriggers([{
      name: "slow",
      method: "POST",
      path: "/slow",
      file: `${dir}/slow.ts`,
      timeoutMs: 5000,
      memoryMb: 64,
      params: {},
      permissions: { net: [], read: [], env: [] },
      origin: { file: "flow.yaml", line: 1, column: 1 },
    }], { log: nullLogger, clock: systemClock, maxQueue: 1 });
    await triggers.start();
    try {
      const app = new Hono().route("/", triggers.part(() => async (_c, next) => await next()));
      const answers = await Promise.all(
        [0, 1, 2, 3].map(() => app.request("/slow", { method: "POST", body: "{}" })),
      );
      const statuses = answers.map((a) => a.status);
      assertEquals(statuses.filter((s) => s === 200).length, 2, String(statuses));
      assertEquals(statuses.filter((s) => s === 503).length, 2, String(statuses));
      for (const a of answers) {
        const b = await a.json();
        if (a.status === 200) assertEquals(b.most, 1, "never two at once");
        else {
          assertEquals(a.headers.get("retry-after"), "1");
          assertEquals(b.error.code, "BUSY");
        }
      }
    } finally {
      await triggers.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ctx.emit() records reach a sink under the trigger's name, with sequence numbers and timestamps", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/meter`;
  const readings = [{ tag: "flow", value: 12.5 }, { tag: "state", value: "running" }];
  const r = await post(url, { readings });
  assertEquals([r.status, r.body], [200, { accepted: 2 }]);
  // A throw after emitting emits nothing.
  const failed = await post(url, { readings: [{ tag: "lost", value: 1 }], fail: true });
  assertEquals(failed.status, 500);
  assertEquals((await post(url, { readings: [{ tag: "flow", value: 13 }] })).status, 200);
  // The sqlite sink's own query: what a history request would read.
  const sink = t.gateway.consumers.get("pumped")!.sink as unknown as {
    query(q: { device: string; tag: string; from: number; to: number; limit: number }): {
      value: unknown;
      seq: number;
      sourceTs: number;
      gatewayTs: number;
    }[];
  };
  const read = (tag: string) =>
    sink.query({ device: "meter-7", tag, from: 0, to: Date.now() + 60_000, limit: 100 });
  await waitFor(
    () => read("flow").length >= 2 && read("state").length >= 1,
    10_000,
    "the emitted records in the sink",
  );
  const flow = read("flow"), state = read("state");
  assertEquals(flow.map((x) => x.value), [12.5, 13]);
  assertEquals(state.map((x) => x.value), ["running"]);
  assertEquals(read("lost"), []);
  assert(flow[0]!.seq < state[0]!.seq && state[0]!.seq < flow[1]!.seq, "increasing seq");
  assert([...flow, ...state].every((x) => x.sourceTs > 0 && x.gatewayTs >= x.sourceTs));
});

Deno.test("ctx.read() and ctx.write() go through the API's paths: the write reaches the simulator, audited as trigger:<name>", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const put = (body: unknown) =>
    fetch(`${t.http.url}/hooks/setpoint`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const ok = await put({ value: 42.25 });
  assertEquals(ok.status, 200, JSON.stringify(ok.body));
  assertEquals(ok.body, { before: 20.5, pressure: 1234, after: 42.25 });
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.25);
  // Range, then writable: refused before anything is sent, the simulator unchanged.
  const high = await put({ value: 500 });
  assertEquals(high.status, 409);
  assertMatch(high.body.refused, /500/);
  const ro = await put({ tag: "pressure", value: 5 });
  assertMatch(ro.body.refused, /not writable/);
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.25);
  assertEquals(t.sim.getValue("HR2", { type: "int16" }), 1234);
  const audit = await call(`${t.api}/audit?device=plc`);
  const mine = audit.body.entries.filter((e: { who: string }) => e.who === "trigger:setpoint");
  assertEquals(mine.length, 3, JSON.stringify(audit.body));
  assertEquals(
    mine.map((e: { tag: string; result: string }) => [e.tag, e.result]).sort(),
    [["pressure", "WRITE_REJECTED"], ["setpoint", "WRITE_REJECTED"], ["setpoint", "ok"]],
  );
});

Deno.test("a cron trigger runs its function on the schedule and its emitted records enter the graph", async () => {
  const flow = `
triggers:
  ticker:
    cron: "* * * * * *"
    function: tick.ts
`;
  const tick = `export default (req, ctx) => {
    ctx.state.n = (ctx.state.n ?? 0) + 1;
    ctx.emit({ device: "clock", tag: "ticks", value: ctx.state.n });
    return req.method;
  };\n`;
  await using t = await startTestGateway({}, { flow, files: { "tick.ts": tick } });
  const seen: number[] = [];
  const untap = t.gateway.tap((node, b) => {
    if (node === "ticker") { for (let i = 0; i < b.length; i++) seen.push(b.num[i]!); }
  });
  try {
    await waitFor(() => seen.length >= 2, 5000, "two scheduled runs");
    assertEquals(seen.slice(0, 2), [1, 2]);
    // No route: a request to nothing is a 404.
    assertEquals((await call(`${t.http.url}/ticker`)).status, 404);
  } finally {
    untap();
  }
});

Deno.test("a trigger's function and its relative imports load from memory (no read permission); a reload with the same triggers keeps them working, one that changes a path serves the new path", async () => {
  const flow = `
  counted: { use: sqlite, from: counter, path: counted.db }
triggers:
  counter:
    http: { method: POST, path: /hooks/count }
    function: fn/count.ts
`;
  const files = {
    "fn/count.ts": `import { twice } from "../lib/twice.ts";
export default (req: { body: { n: number } }, ctx: { emit(r: unknown): void }) => {
  ctx.emit({ device: "counter", tag: "n", value: twice(req.body.n) });
  return { n: twice(req.body.n) };
};
`,
    "lib/twice.ts": `export const twice = (n: number): number => 2 * n;\n`,
  };
  await using t = await startTestGateway({}, { flow, files });
  const url = `${t.http.url}/hooks/count`;
  assertEquals((await post(url, { n: 4 })).body, { n: 8 });
  const reload = async () => {
    const r = await loadFlows(t.dir, { env: {}, sources: registries, typeCheck: false });
    assertEquals(r.errors, []);
    for (const sink of r.flows!.sinks.values()) {
      if (sink.use === "sqlite") sink.config.path = join(t.dir, String(sink.config.path));
    }
    return await t.gateway.apply(r.flows!);
  };
  const same = await reload();
  assert(same.empty, "nothing changed");
  assertEquals((await post(url, { n: 5 })).body, { n: 10 });
  assertEquals(t.gateway.graph.kinds.get("counter"), "trigger");
  // A changed trigger is applied by the HTTP layer from the same revision: the old path
  // goes (the API's 404), the new one serves, records it emits still enter the graph.
  const text = await Deno.readTextFile(join(t.dir, "flow.yaml"));
  await Deno.writeTextFile(
    join(t.dir, "flow.yaml"),
    text.replace("path: /hooks/count", "path: /hooks/count2"),
  );
  const changes = await t.http.applyFlows(await reload().then(() => t.gateway.flows));
  assertEquals(changes, { added: [], removed: [], changed: ["counter"], failed: [] });
  assertEquals((await post(`${url}2`, { n: 6 })).body, { n: 12 });
  const gone = await post(url, { n: 7 });
  assertEquals(gone.status, 404);
  assertEquals(t.gateway.flows.triggers?.get("counter")?.path, "/hooks/count2");
  const sink = t.gateway.consumers.get("counted")!.sink as unknown as {
    query(q: { device: string; tag: string; from: number; to: number; limit: number }): {
      value: unknown;
    }[];
  };
  const read = () =>
    sink.query({ device: "counter", tag: "n", from: 0, to: Date.now() + 60_000, limit: 100 });
  await waitFor(() => read().length >= 3, 10_000, "the emitted records in the sink");
  assertEquals(read().map((x) => x.value), [8, 10, 12]);
});

Deno.test("/metrics counts trigger requests by status with a latency histogram, and WebSocket clients and drops", async () => {
  let parts: ReturnType<typeof liveParts> | undefined;
  await using t = await startTestGateway({}, {
    flow: FLOW,
    files: FILES,
    parts: (gateway) =>
      (parts = liveParts(gateway, Date.now(), { metrics: (x) => t.http.metrics(x) })).mount,
  });
  try {
    const url = `${t.http.url}/hooks/pump/p1`;
    assertEquals((await post(url, { speed: 1 })).status, 201);
    assertEquals((await post(url, { speed: 2 })).status, 201);
    assertEquals((await post(url, { rpm: 2 })).status, 400);
    assertEquals((await post(url, { speed: 13 })).status, 500);
    assertEquals((await call(`${t.http.url}/hooks/plain`)).status, 200);

    const ws = new WebSocket(`${t.http.url.replace(/^http/, "ws")}/ws`);
    await new Promise((r) => (ws.onopen = r));
    const m = parseExposition(await (await fetch(`${t.http.url}/metrics`)).text());
    const requests = (trigger: string, status: string) =>
      sampleValue(m, "bifrost_trigger_requests_total", { trigger, status });
    assertEquals(requests("pump-start", "201"), 2);
    assertEquals(requests("pump-start", "400"), 1);
    assertEquals(requests("pump-start", "500"), 1);
    assertEquals(requests("plain", "200"), 1);
    assertEquals(
      sampleValue(m, "bifrost_trigger_request_duration_seconds_count", { trigger: "pump-start" }),
      4,
    );
    assert(
      sampleValue(m, "bifrost_trigger_request_duration_seconds_sum", { trigger: "pump-start" }) >
        0,
    );
    assertEquals(m.get("bifrost_trigger_request_duration_seconds")?.type, "histogram");
    assertEquals(sampleValue(m, "bifrost_trigger_inflight", { trigger: "pump-start" }), 0);
    assertEquals(sampleValue(m, "bifrost_ws_clients"), 1);
    assertEquals(sampleValue(m, "bifrost_ws_connections_total"), 1);
    assertEquals(sampleValue(m, "bifrost_ws_dropped_updates_total"), 0);
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  } finally {
    parts?.close();
  }
});

Deno.test("a trigger refuses a call from a foreign web page (CSRF) without running its function", async () => {
  await using t = await startTestGateway({}, { flow: FLOW, files: FILES });
  const url = `${t.http.url}/hooks/pump/p1`;
  const evil = await post(url, { speed: 5 }, { origin: "http://evil.example" });
  assertEquals(evil.status, 403, evil.text);
  assertMatch(evil.body.error.message, /Cross-origin request refused/);
  // The function never ran: its counter starts at 1 on the next call.
  const ok = await post(url, { speed: 5 });
  assertEquals([ok.status, ok.body.n], [201, 1]);
});

Deno.test("a trigger's permissions: a granted read works, the same read without it is NotCapable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-trigger-perm-" });
  try {
    await Deno.writeTextFile(join(dir, "limits.json"), `{"max": 42}`);
    await Deno.writeTextFile(
      join(dir, "limits.ts"),
      `export default async (_req, ctx) => {
        try {
          return JSON.parse(await Deno.readTextFile(ctx.params.file));
        } catch (e) {
          return { status: 403, body: { refused: e.name } };
        }
      };\n`,
    );
    const file = join(dir, "limits.json");
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `triggers:
  granted:
    http: { method: GET, path: /limits }
    function: limits.ts
    permissions: { read: [limits.json] }
    with: { file: ${JSON.stringify(file)} }
  denied:
    http: { method: GET, path: /limits-denied }
    function: limits.ts
    with: { file: ${JSON.stringify(file)} }
`,
    );
    const r = await loadFlows(dir, { env: {}, sources: registries, typeCheck: false });
    assertEquals(r.errors, []);
    assertEquals(r.flows!.triggers!.get("granted")!.permissions.read, [file]);
    const triggers = createTriggers(r.flows!.triggers!.values(), {
      log: nullLogger,
      clock: systemClock,
    });
    await triggers.start();
    try {
      const app = new Hono().route("/", triggers.part(() => async (_c, next) => await next()));
      const ok = await app.request("/limits");
      assertEquals([ok.status, await ok.json()], [200, { max: 42 }]);
      const denied = await app.request("/limits-denied");
      assertEquals([denied.status, await denied.json()], [403, { refused: "NotCapable" }]);
    } finally {
      await triggers.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
