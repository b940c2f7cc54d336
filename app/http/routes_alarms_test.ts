/**
 * @module
 * The alarm routes against a real gateway: a Modbus simulator polled over TCP, an `alarm`
 * step, a sqlite history sink; the API served with `Deno.serve` on port 0.
 */

import assert from "node:assert/strict";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import type { DataRecord } from "../../engine/record.ts";
import { registries } from "../registries.ts";
import { API_BASE, createApi } from "./api.ts";
import { serve, startGateway } from "./_test_util.ts";

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("alarm routes list, acknowledge and shelve alarms; the records reach the sinks", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 90 }, HR1: { type: "int16", value: 10 } } },
  });
  await using g = await startGateway(`
devices:
  boiler:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: int16 }
      level: { address: HR1, type: int16 }
polls:
  fast: { device: boiler, tags: "*", every: 20ms }
steps:
  alarms:
    use: alarm
    from: fast
    rules:
      - { name: hot, tags: [temp], type: high, limit: 80, priority: high }
      - { name: low, tags: [level], type: low, limit: 5 }
sinks:
  history: { use: sqlite, from: alarms, path: ${await Deno.makeTempDir()}/h.db }
`);
  const api = createApi({ gateway: g.gateway, drivers: registries.drivers });
  await using srv = serve(api.app.fetch);
  const base = `${srv.url}${API_BASE}`;
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`);
    return { status: r.status, body: await r.json() };
  };
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
  try {
    const active = await until("the alarm", async () => {
      const r = await get("/alarms?state=UNACK");
      return r.body.length === 1 ? r.body : undefined;
    });
    assert.equal(active[0].id, "boiler/temp/hot");
    assert.equal(active[0].step, "alarms");
    assert.equal(active[0].priority, "high");
    assert.equal(active[0].value, 90);
    const all = await get("/alarms");
    assert.deepEqual(
      all.body.map((a: { id: string; state: string }) => `${a.id}=${a.state}`).sort(),
      [
        "boiler/level/low=NORM",
        "boiler/temp/hot=UNACK",
      ],
    );

    const ack = await post("/alarms/acknowledge", { id: "boiler/temp/hot" });
    assert.equal(ack.status, 200);
    assert.equal(ack.body.state, "ACKED");
    const shelved = await post("/alarms/shelve", { id: "boiler/temp/hot", for: "30m" });
    assert.equal(shelved.body.state, "SHLVD");
    assert.ok(shelved.body.shelvedUntil > Date.now() + 29 * 60_000);
    const un = await post("/alarms/unshelve", { id: "boiler/temp/hot" });
    assert.equal(un.body.state, "UNACK"); // still hot when released

    // Each change went to the history sink as an alarm record, with who did it.
    const sink = g.gateway.consumers.get("history")!.sink as unknown as {
      query(q: { tag: string }): DataRecord[];
    };
    const states = await until("the records in history", () => {
      const rs = sink.query({ tag: "temp.hot" }).map((r) => r.value as Record<string, unknown>);
      return rs.length >= 4 ? rs : undefined;
    });
    assert.deepEqual(states.map((v) => [v.state, v.by ?? null]), [
      ["UNACK", null],
      ["ACKED", "local"],
      ["SHLVD", "local"],
      ["UNACK", "local"],
    ]);

    // Errors: an unknown alarm, a bad duration, "for" on acknowledge, an unknown step.
    assert.equal((await post("/alarms/acknowledge", { id: "boiler/x/hot" })).status, 404);
    const bad = await post("/alarms/shelve", { id: "boiler/temp/hot", for: "soon" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /Cannot parse duration "soon"/);
    assert.equal(
      (await post("/alarms/acknowledge", { id: "boiler/temp/hot", for: "1m" })).status,
      400,
    );
    assert.equal((await post("/alarms/acknowledge", {})).status, 400);
    assert.equal((await get("/alarms?step=nope")).status, 404);
  } finally {
    api.close();
  }
});

Deno.test("an acknowledged alarm stays acknowledged across a gateway restart (persist)", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 90 } } },
  });
  const dataDir = await Deno.makeTempDir({ prefix: "bifrost-data-" });
  const flow = `
devices:
  boiler:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: int16 }
polls:
  fast: { device: boiler, tags: "*", every: 20ms }
steps:
  alarms:
    use: alarm
    from: fast
    persist: true
    rules:
      - { name: hot, tags: [temp], type: high, limit: 80 }
sinks:
  out: { use: sqlite, from: alarms, path: ${dataDir}/h.db }
`;
  const stateOf = (g: { gateway: { consumers: Map<string, { step?: unknown }> } }) =>
    (g.gateway.consumers.get("alarms")!.step as { list(): { state: string }[] }).list()[0]?.state;
  try {
    {
      await using g = await startGateway(flow, { dataDir });
      await until("the alarm", () => stateOf(g) === "UNACK" ? true : undefined);
      const step = g.gateway.consumers.get("alarms")!.step as unknown as {
        command(id: string, a: string): unknown;
      };
      step.command("boiler/temp/hot", "acknowledge");
    }
    await using g2 = await startGateway(flow, { dataDir });
    assert.equal(stateOf(g2), "ACKED");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
