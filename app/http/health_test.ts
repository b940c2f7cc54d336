/**
 * @module
 * Tests of `/healthz` and `/readyz` against a real gateway and the Modbus simulator: a
 * required device that is down makes the gateway not ready, with the reason; an optional one
 * does not; no flows or a stopped gateway are not ready; `required:` must be a boolean.
 */

import assert from "node:assert/strict";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { healthApp } from "./health.ts";
import { serve, startGateway, testSources } from "./_test_util.ts";
import { loadFlows } from "../../engine/flow/mod.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function flow(requiredPort: number, optionalPort: number): string {
  return `
devices:
  press:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${requiredPort}
    required: true
    tags:
      t: { address: HR0, type: int16 }
  spare:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${optionalPort}
    tags:
      t: { address: HR0, type: int16 }
polls:
  p: { device: press, tags: "*", every: 1s }
  q: { device: spare, tags: "*", every: 1s }
sinks:
  out: { use: console, from: [p, q] }
`;
}

Deno.test("/readyz is 503 naming a required device that is down, and /healthz stays 200", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { type: "int16" } } } });
  const down = freePort();
  // The required device is down, the optional one up.
  await using g = await startGateway(flow(down, sim.port));
  await g.gateway.devices.get("spare")!.whenConnected();
  await using srv = serve(healthApp(g.gateway).fetch);

  const alive = await fetch(`${srv.url}/healthz`);
  assert.equal(alive.status, 200);
  assert.deepEqual(await alive.json(), { status: "alive" });

  const res = await fetch(`${srv.url}/readyz`);
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.equal(body.ready, false);
  assert.equal(body.reasons.length, 1);
  assert.match(
    body.reasons[0],
    new RegExp(`^Required device "press" is not connected: (backoff|connecting) since \\d{4}-`),
  );
});

Deno.test("/readyz is 200 when every required device is connected, whatever the optional ones", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { type: "int16" } } } });
  await using g = await startGateway(flow(sim.port, freePort()));
  await g.gateway.devices.get("press")!.whenConnected();
  await using srv = serve(healthApp(g.gateway).fetch);
  const res = await fetch(`${srv.url}/readyz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ready: true });
});

Deno.test("/readyz is 503 before flows are loaded and after the gateway stopped", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { type: "int16" } } } });
  const g = await startGateway(flow(sim.port, sim.port));
  let loaded = false;
  await using srv = serve(healthApp(() => loaded ? g.gateway : undefined).fetch);
  const before = await fetch(`${srv.url}/readyz`);
  assert.equal(before.status, 503);
  assert.deepEqual((await before.json()).reasons, ["No flows are loaded"]);
  loaded = true;
  await g.gateway.devices.get("press")!.whenConnected();
  assert.equal((await (await fetch(`${srv.url}/readyz`)).json()).ready, true);
  await g[Symbol.asyncDispose]();
  const after = await fetch(`${srv.url}/readyz`);
  assert.equal(after.status, 503);
  assert.deepEqual((await after.json()).reasons, ["The gateway is stopped, not running"]);
});

Deno.test("a device's required: must be a boolean, reported with its line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-http-" });
  try {
    await Deno.writeTextFile(
      `${dir}/flow.yaml`,
      flow(1, 2).replace("required: true", 'required: "yes"'),
    );
    const r = await loadFlows(dir, { env: {}, sources: testSources });
    assert.equal(r.flows, undefined);
    assert.deepEqual(r.errors.map((e) => [e.message, e.line]), [
      ['"required" must be true or false, got "yes"', 7],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
