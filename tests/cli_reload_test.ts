/**
 * @module
 * `bifrost run` reloads its flow directory live, as a user sees it: an invalid edit logs
 * its `file:line:column` error once and the gateway keeps running; a valid edit is applied
 * ("Flows reloaded" with the changes); SIGINT still stops cleanly.
 */

import { join } from "node:path";
import { assert, assertEquals } from "./_assert.ts";
import { bifrost, MAIN } from "./_cli.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";

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
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  const dir = await Deno.makeTempDir({ prefix: "bifrost-cli-reload-" });
  const flows = join(dir, "flows");
  await Deno.mkdir(flows);
  const file = join(flows, "flow.yaml");
  const db = join(dir, "h.db");
  try {
    await Deno.writeTextFile(file, flow(sim.port, "100ms", db));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", flows, "--data-dir", dir, "--no-http"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const lines: Record<string, unknown>[] = [];
    const reading = (async () => {
      let rest = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const l of parts) lines.push(JSON.parse(l));
      }
    })();
    const until = async (what: string, cond: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!cond()) {
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(lines)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const msg = (re: RegExp) => lines.filter((l) => re.test(String(l.msg)));
    await until("the watch", () => msg(/^Watching the flow directory/).length === 1);
    await Deno.writeTextFile(file, flow(sim.port, "often", db));
    await until("the rejection", () => msg(/^Reload rejected/).length === 1);
    const errors = msg(/flow\.yaml:9:\d+ error: .*"every"/);
    assertEquals(errors.length, 1, JSON.stringify(lines));
    await Deno.writeTextFile(file, flow(sim.port, "250ms", db));
    await until("the reload", () => msg(/^Flows reloaded$/).length === 1);
    const applied = msg(/^Flows reloaded$/)[0]!;
    assertEquals(applied.changes, "polls ~fast");
    assertEquals(applied.revision, 2);
    child.kill("SIGINT");
    assertEquals((await child.status).code, 0);
    await reading;
    assert(msg(/^Gateway stopped$/).length === 1, JSON.stringify(lines));
    assertEquals(msg(/^Reload rejected/).length, 1, "one rejection for one change");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bifrost run shows the reload's outcome in GET /api/v1/flows, and serves the dashboard and its metrics", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  const dir = await Deno.makeTempDir({ prefix: "bifrost-cli-reload-api-" });
  const flows = join(dir, "flows");
  await Deno.mkdir(flows);
  const file = join(flows, "flow.yaml");
  const db = join(dir, "h.db");
  try {
    await Deno.writeTextFile(file, flow(sim.port, "100ms", db));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", flows, "--data-dir", dir, "--http", "127.0.0.1:0"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const lines: Record<string, unknown>[] = [];
    const reading = (async () => {
      let rest = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const l of parts) lines.push(JSON.parse(l));
      }
    })();
    const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await cond())) {
        if (Date.now() > deadline) {
          throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(lines)}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const msg = (re: RegExp) => lines.filter((l) => re.test(String(l.msg)));
    await until("the watch", () => msg(/^Watching the flow directory/).length === 1);
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

    child.kill("SIGINT");
    assertEquals((await child.status).code, 0);
    await reading;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
