/**
 * @module
 * Tests of `GET /metrics` against a real gateway polling the Modbus simulator over TCP
 * (and a device whose port is closed), served with `Deno.serve`, read back with a strict
 * parser of the text format.
 */

import assert from "node:assert/strict";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { metricsApp, metricsText } from "./metrics.ts";
import { LoopLagMonitor } from "./loop_lag.ts";
import { parseExposition, sampleValue } from "./_prom_test_util.ts";
import { serve, startGateway } from "./_test_util.ts";
import { waitFor } from "../../tests/_assert.ts";

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("GET /metrics serves devices, polls, steps, sinks and the process in the text format", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "float32", value: 20 }, HR2: { type: "int16", value: 7 } } },
  });
  const dead = closedPort();
  await using g = await startGateway((dir) => `
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp: { address: HR0, type: float32 }
      level: { address: HR2, type: int16 }
  "gone":
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${dead}
    tags:
      x: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 20ms }
  lost: { device: gone, tags: "*", every: 50ms }
steps:
  f: { use: scale, from: fast, tags: [temp], gain: 1.8, offset: 32 }
sinks:
  history: { use: sqlite, from: [f, lost], path: ${dir}/history.db }
`);
  const gw = g.gateway;
  await gw.devices.get("plc")!.whenConnected();
  await waitFor(() => gw.devices.get("plc")!.health().reads >= 6, 5000, "6 reads");
  await waitFor(() => (gw.stats().consumers.history?.records ?? 0) >= 10, 5000, "records");
  const lag = new LoopLagMonitor({ everyMs: 10 });
  lag.start();
  try {
    await using srv = serve(metricsApp(gw, { loopLag: lag }).fetch);
    const res = await fetch(`${srv.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const m = parseExposition(await res.text());

    assert.equal(m.get("bifrost_device_connected")!.type, "gauge");
    assert.equal(sampleValue(m, "bifrost_device_connected", { device: "plc" }), 1);
    assert.equal(sampleValue(m, "bifrost_device_connected", { device: "gone" }), 0);
    assert.equal(
      sampleValue(m, "bifrost_device_state", { device: "plc", state: "connected" }),
      1,
    );
    assert.ok(
      sampleValue(m, "bifrost_device_errors_total", { device: "gone", kind: "connect" }) >= 1,
    );
    const reads = sampleValue(m, "bifrost_device_reads_total", { device: "plc" });
    assert.ok(reads >= 5, `reads ${reads}`);
    // Every read that reached the driver was timed (one may be in flight at the scrape).
    const timed = sampleValue(m, "bifrost_device_read_duration_seconds_count", { device: "plc" });
    assert.ok(timed >= reads - 1 && timed <= reads, `timed ${timed} of ${reads} reads`);
    assert.equal(m.get("bifrost_device_read_duration_seconds")!.type, "histogram");
    // A loopback read takes well under a second.
    assert.equal(
      sampleValue(m, "bifrost_device_read_duration_seconds_bucket", { device: "plc", le: "1" }),
      timed,
    );

    const runs = sampleValue(m, "bifrost_poll_runs_total", { poll: "fast", device: "plc" });
    assert.ok(runs >= 5);
    const late = sampleValue(m, "bifrost_poll_lateness_seconds_count", { poll: "fast" });
    assert.ok(
      late >= runs - 1 && late <= runs + sampleValue(m, "bifrost_poll_skipped_total", {
              poll: "fast",
            }),
      `lateness count ${late} for ${runs} runs`,
    );

    assert.ok(sampleValue(m, "bifrost_step_records_total", { step: "f" }) >= 10);
    assert.equal(sampleValue(m, "bifrost_step_errors_total", { step: "f" }), 0);
    assert.ok(sampleValue(m, "bifrost_sink_records_total", { sink: "history" }) >= 10);
    assert.equal(
      sampleValue(m, "bifrost_sink_dropped_records_total", { sink: "history", where: "gateway" }),
      0,
    );
    // What the SQLite sink reports itself, under its own names.
    assert.ok(sampleValue(m, "bifrost_sink_stat", { sink: "history", stat: "written" }) >= 10);

    assert.ok(sampleValue(m, "bifrost_process_resident_memory_bytes") > 10e6);
    assert.ok(sampleValue(m, "bifrost_process_heap_used_bytes") > 0);
    assert.ok(sampleValue(m, "bifrost_process_event_loop_lag_seconds") >= 0);
    assert.ok(sampleValue(m, "bifrost_records_produced_total") >= 10);
  } finally {
    lag.stop();
  }
});

Deno.test("label values with quotes, backslashes and newlines are escaped", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { type: "int16" } } } });
  await using g = await startGateway(`
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      t: { address: HR0, type: int16 }
polls:
  p: { device: plc, tags: "*", every: 1s }
sinks:
  out: { use: console, from: p }
`);
  // Names in flows cannot hold these characters; a sink's own figure names can.
  const c = g.gateway.consumers.get("out")!;
  c.sink!.stats = () => ({ 'we"ird\\\nname': 3 });
  const m = parseExposition(metricsText(g.gateway));
  assert.equal(sampleValue(m, "bifrost_sink_stat", { sink: "out", stat: 'we"ird\\\nname' }), 3);
});

Deno.test("metrics show a step's own figures: the swinging-door compression ratio", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 7 } } },
  });
  await using g = await startGateway(`
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      level: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 10ms }
steps:
  compressed: { use: swinging-door, from: fast, deviation: 1 }
sinks:
  out: { use: sqlite, from: compressed, path: ${await Deno.makeTempDir()}/h.db }
`);
  // A constant value: the first record passes, the rest are held; the ratio grows.
  await waitFor(() => {
    const f = parseExposition(metricsText(g.gateway));
    return sampleValue(f, "bifrost_step_figure", { step: "compressed", figure: "in" }) >= 10;
  });
  const f = parseExposition(metricsText(g.gateway));
  const inN = sampleValue(f, "bifrost_step_figure", { step: "compressed", figure: "in" });
  const outN = sampleValue(f, "bifrost_step_figure", { step: "compressed", figure: "out" });
  assert.equal(outN, 1);
  assert.equal(
    sampleValue(f, "bifrost_step_figure", { step: "compressed", figure: "ratio" }),
    inN / outN,
  );
});
