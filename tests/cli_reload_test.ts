/**
 * @module
 * `bifrost run` reloads its flow directory live, as a user sees it: an invalid edit logs
 * its `file:line:column` error once and the gateway keeps running; a valid edit is applied
 * ("Flows reloaded" with the changes); SIGINT still stops cleanly.
 */

import { join } from "node:path";
import { assert, assertEquals } from "./_assert.ts";
import { Gateway } from "./_git.ts";
import { bifrost } from "./_cli.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { queryHistory } from "../sinks/sqlite/mod.ts";

const flow = (port: number, every: string, db: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    tags:
      a: { address: HR0, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: ${every} }
sinks:
  history: { use: sqlite, from: fast, path: ${db} }
`;

Deno.test("bifrost run applies a valid edit live and rejects an invalid one with file:line:column", async () => {
  await using site = await rig("bifrost-cli-reload-");
  const { sim, dir, flows } = site;
  const file = join(flows, "flow.yaml");
  const db = join(dir, "h.db");
  await Deno.writeTextFile(file, flow(sim.port, "100ms", db));
  const gw = new Gateway([flows, "--data-dir", dir, "--no-http"]);
  const { until } = gw, msg = (re: RegExp) => gw.msg(re);
  await until("the watch", () => msg(/^Watching the flow directory/).length === 1);
  await Deno.writeTextFile(file, flow(sim.port, "often", db));
  await until("the rejection", () => msg(/^Reload rejected/).length === 1);
  const errors = msg(/flow\.yaml:9:\d+ error: .*"every"/);
  assertEquals(errors.length, 1, JSON.stringify(gw.lines));
  await Deno.writeTextFile(file, flow(sim.port, "250ms", db));
  await until("the reload", () => msg(/^Flows reloaded$/).length === 1);
  const applied = msg(/^Flows reloaded$/)[0]!;
  assertEquals(applied.changes, "polls ~fast");
  assertEquals(applied.revision, 2);
  assertEquals(await gw.stop(), 0);
  assert(msg(/^Gateway stopped$/).length === 1, JSON.stringify(gw.lines));
  assertEquals(msg(/^Reload rejected/).length, 1, JSON.stringify(gw.lines));
});

Deno.test("bifrost run restarts a function step when its file (outside the flow directory) is saved", async () => {
  // The flow repository (a git work tree) holds the flows and, beside them, the functions.
  await using site = await rig("bifrost-cli-reload-fn-", { repo: true });
  const { sim, dir, flows } = site;
  const fnFile = join(dir, "functions", "times.ts");
  const db = join(dir, "h.db");
  const fn = (k: number) =>
    `export default (records: { value: unknown }[]) =>
  records.map((r) => ({ ...r, value: typeof r.value === "number" ? r.value * ${k} : r.value }));
`;
  await Deno.writeTextFile(fnFile, fn(1));
  await Deno.writeTextFile(
    join(flows, "flow.yaml"),
    flow(sim.port, "100ms", db).replace(
      "sinks:\n  history: { use: sqlite, from: fast,",
      "steps:\n  times: { use: function, from: fast, file: ../functions/times.ts }\n" +
        "sinks:\n  history: { use: sqlite, from: times,",
    ),
  );
  const gw = new Gateway([flows, "--data-dir", dir, "--no-http"]);
  const { until } = gw, msg = (re: RegExp) => gw.msg(re);
  await until("the watch", () => msg(/^Watching the flow directory/).length === 1);
  // Not one line of YAML changes: only the function's code.
  await Deno.writeTextFile(fnFile, fn(1000));
  await until("the reload", () => msg(/^Flows reloaded$/).length === 1);
  assertEquals(msg(/^Flows reloaded$/)[0]!.changes, "steps ~times");
  await until("a record of the new code", () => {
    try {
      return queryHistory(db, { tag: "a" }).some((r) => r.value === 7000);
    } catch {
      return false;
    }
  });
  assertEquals(await gw.stop(), 0);
  const values = queryHistory(db, { tag: "a" }).map((r) => r.value);
  assert(values.includes(7) && values.includes(7000), JSON.stringify(values));
  assert(values.every((v) => v === 7 || v === 7000), JSON.stringify(values));
  assertEquals(msg(/^Reload rejected/).length, 0, JSON.stringify(gw.lines));
});

Deno.test("bifrost run reloads triggers by name: added, removed, code edited; an unchanged one keeps its state", async () => {
  // The flow repository (a git work tree) holds the flows and, beside them, the functions.
  await using site = await rig("bifrost-cli-reload-trig-", { repo: true });
  const { sim, dir, flows } = site;
  const counter = (v: number) =>
    `export default (_req: unknown, ctx: { state: { n?: number } }) => {
  ctx.state.n = (ctx.state.n ?? 0) + 1;
  return { v: ${v}, n: ctx.state.n };
};
`;
  await Deno.writeTextFile(join(dir, "functions", "count.ts"), counter(1));
  await Deno.writeTextFile(
    join(dir, "functions", "hello.ts"),
    `export default () => ({ hello: true });\n`,
  );
  const base = flow(sim.port, "100ms", join(dir, "h.db")) + `triggers:
  count: { http: { method: GET, path: /hooks/count }, function: ../functions/count.ts }
`;
  const hello =
    `  hello: { http: { method: GET, path: /hooks/hello }, function: ../functions/hello.ts }\n`;
  const file = join(flows, "flow.yaml");
  await Deno.writeTextFile(file, base);
  const gw = new Gateway([flows, "--data-dir", dir, "--http", "127.0.0.1:0"]);
  const { until } = gw, msg = (re: RegExp) => gw.msg(re);
  await until("the API", () => msg(/^HTTP API listening$/).length === 1);
  await until("the watch", () => msg(/^Watching the flow directory/).length === 1);
  const api = String(msg(/^HTTP API listening$/)[0]!.url).replace(/\/api\/v1$/, "");
  const get = async (path: string) => {
    const res = await fetch(`${api}${path}`);
    return { status: res.status, body: await res.json() };
  };
  assertEquals((await get("/hooks/count")).body, { v: 1, n: 1 });
  assertEquals((await get("/hooks/count")).body, { v: 1, n: 2 });
  assertEquals((await get("/hooks/hello")).status, 404);
  const reloads = () => msg(/^Triggers reloaded$/);
  // Added: hello serves; count, unchanged, keeps its process and its state.
  await Deno.writeTextFile(file, base + hello);
  await until("hello added", () => reloads().length === 1);
  assertEquals(reloads()[0]!.added, ["hello"]);
  assertEquals((await get("/hooks/hello")).body, { hello: true });
  assertEquals((await get("/hooks/count")).body, { v: 1, n: 3 });
  // Its code edited (no YAML change): the new code serves, from a fresh state.
  await Deno.writeTextFile(join(dir, "functions", "count.ts"), counter(2));
  await until("count changed", () => reloads().length === 2);
  assertEquals(reloads()[1]!.changed, ["count"]);
  assertEquals((await get("/hooks/count")).body, { v: 2, n: 1 });
  // Removed: the API's own 404.
  await Deno.writeTextFile(file, base);
  await until("hello removed", () => reloads().length === 3);
  assertEquals(reloads()[2]!.removed, ["hello"]);
  const gone = await get("/hooks/hello");
  assertEquals(gone.status, 404);
  assertEquals(typeof gone.body.error?.message, "string", JSON.stringify(gone.body));
  assertEquals(await gw.stop(), 0);
  assertEquals(msg(/^Reload rejected/).length, 0, JSON.stringify(gw.lines));
});

Deno.test("bifrost run shows the reload's outcome in GET /api/v1/flows, and serves the dashboard and its metrics", async () => {
  await using site = await rig("bifrost-cli-reload-api-");
  const { sim, dir, flows } = site;
  const file = join(flows, "flow.yaml");
  const db = join(dir, "h.db");
  await Deno.writeTextFile(file, flow(sim.port, "100ms", db));
  const gw = new Gateway([flows, "--data-dir", dir, "--http", "127.0.0.1:0"]);
  const msg = (re: RegExp) => gw.msg(re);
  const until = async (what: string, cond: () => Promise<boolean>) => {
    const deadline = Date.now() + 30_000;
    while (!(await cond())) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(gw.lines)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await gw.until("the watch", () => msg(/^Watching the flow directory/).length === 1);
  const base = String(msg(/^HTTP API listening$/)[0]!.url).replace(/\/api\/v1$/, "");
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`, { redirect: "manual" });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };
  const flowsNow = async () => JSON.parse((await get("/api/v1/flows")).text);
  const first = await flowsNow();
  assertEquals(first.reload.revision, 1);
  assertEquals([first.reload.ok, first.reload.errors], [true, []]);

  await Deno.writeTextFile(file, flow(sim.port, "often", db));
  await until("the rejection", async () => (await flowsNow()).reload.ok === false);
  const rejected = await flowsNow();
  assertEquals(rejected.revision, first.revision, "the running flows carry on");
  assertEquals(rejected.reload.revision, 1);
  assert(/flow\.yaml:9:\d+/.test(rejected.reload.errors[0]), rejected.reload.errors[0]);
  const status = await bifrost(["status", "--url", base]);
  assertEquals(status.code, 0, status.err);
  assert(
    status.out.includes(`flows ${first.revision} (reload revision 1)\nlast flow change rejected`),
    status.out,
  );
  assert(/^ {2}.*flow\.yaml:9:\d+/m.test(status.out), status.out);
  // The rejection is a metric too.
  const whileRejected = (await get("/metrics")).text;
  assert(/^bifrost_flow_reloads_total\{result="rejected"\} 1$/m.test(whileRejected), whileRejected);
  assert(/^bifrost_flow_last_reload_success 0$/m.test(whileRejected), whileRejected);

  await Deno.writeTextFile(file, flow(sim.port, "250ms", db));
  await until("the reload", async () => (await flowsNow()).reload.revision === 2);
  const applied = await flowsNow();
  assertEquals([applied.reload.ok, applied.reload.changes], [true, "polls ~fast"]);
  assert(applied.revision !== first.revision);

  // The dashboard and the metrics of the parts `run` mounts.
  const root = await get("/");
  assertEquals([root.status, root.headers.get("location")], [302, "/dashboard/"]);
  assert((await get("/dashboard/")).text.includes("uplot.js"));
  const metrics = (await get("/metrics")).text;
  assert(/^bifrost_ws_clients 0$/m.test(metrics), metrics);
  assert(/^# TYPE bifrost_trigger_requests_total counter$/m.test(metrics));
  assert(/^bifrost_flow_reloads_total\{result="applied"\} 1$/m.test(metrics), metrics);
  assert(/^bifrost_flow_last_reload_success 1$/m.test(metrics), metrics);

  assertEquals(await gw.stop(), 0);
});

/**
 * A Modbus simulator and a temporary directory with `flows/` (with `repo`, a git work tree
 * with `functions/` beside the flows); both go at the end of the test.
 */
async function rig(prefix: string, o: { repo?: boolean } = {}) {
  const sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  const dir = await Deno.makeTempDir({ prefix });
  const flows = join(dir, "flows");
  await Deno.mkdir(flows);
  if (o.repo) {
    await Deno.mkdir(join(dir, "functions"));
    const init = await new Deno.Command("git", { args: ["init", "-q", dir] }).output();
    assert(init.success, new TextDecoder().decode(init.stderr));
  }
  return {
    sim,
    dir,
    flows,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
      await sim[Symbol.asyncDispose]();
    },
  };
}
