import assert from "node:assert/strict";
import { isBifrostError, type ToolOutput } from "../../../engine/plugin.ts";
import { startModbusSimulator } from "../simulator/server.ts";
import { ModbusTcpClient } from "../tcp/client.ts";
import { browseModbus, parseBrowseUrl } from "./browse.ts";
import { candidatesOf, scanTable } from "./browse_scan.ts";

const quiet: ToolOutput = { log: () => {}, error: () => {} };
const options = (depth: number) => ({ depth, signal: new AbortController().signal, out: quiet });

Deno.test("scanTable() finds the readable ranges of a sparse map by bisecting refused blocks", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR5: { value: 7 } } } });
  // Only HR0-HR9 and HR150-HR159 exist: everything else answers Illegal data address.
  sim.faults.exception({ code: 2, table: "HR", start: 10, count: 140 });
  sim.faults.exception({ code: 2, table: "HR", start: 160 });
  const client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 1000,
  });
  try {
    const scan = await scanTable(client, 1, "HR", 0, 299, new AbortController().signal);
    assert.deepEqual(scan.ranges, [{ start: 0, count: 10 }, { start: 150, count: 10 }]);
    assert.equal(scan.values.get(5), 7);
    assert.equal(scan.stopped, undefined);
    // Three blocks of 100 with holes in each: about a third as many requests as addresses.
    assert.ok(sim.stats.requests < 120, `${sim.stats.requests} requests`);
  } finally {
    await client.close();
  }
});

Deno.test("scanTable() stops at a table the unit does not support", async () => {
  await using sim = await startModbusSimulator({ units: { 1: {} } });
  sim.faults.exception({ code: 1, fc: 4 });
  const client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 1000,
  });
  try {
    const scan = await scanTable(client, 1, "IR", 0, 999, new AbortController().signal);
    assert.deepEqual(scan.ranges, []);
    assert.equal(scan.stopped, "IR: not supported (Modbus exception 1)");
  } finally {
    await client.close();
  }
});

Deno.test("candidatesOf() proposes float32 for plausible pairs and uint16 for the rest", () => {
  const values = new Map([[0, 0x41ac], [1, 0x0000], [2, 0], [3, 1234]]);
  const c = candidatesOf({ table: "HR", ranges: [{ start: 0, count: 4 }], values });
  assert.deepEqual(c.tags, [
    {
      name: "hr0",
      fields: { address: "HR0", type: "float32" },
      comment: "21.5 as float32 (words 16812, 0)",
    },
    { name: "hr3", fields: { address: "HR3", type: "uint16" }, comment: "1234 (0x04D2)" },
  ]);
  assert.deepEqual(c.notes, ["HR0-HR3 readable (4 registers)"]);
});

Deno.test("browseModbus() lists the units that answer, then their registers", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR10: { value: 1234 } }, 17: { C3: { value: true } } },
  });
  const url = `modbus://127.0.0.1:${sim.port}?units=1-20&registers=0-99`;
  const shallow = await browseModbus(url, options(1));
  assert.deepEqual(shallow.devices.map((d) => [d.name, d.fields.unitId, d.tags.length]), [
    ["modbus-127.0.0.1-u1", 1, 0],
    ["modbus-127.0.0.1-u17", 17, 0],
  ]);
  const deep = await browseModbus(url, options(2));
  assert.deepEqual(deep.devices.map((d) => d.tags.map((t) => t.fields.address)), [
    ["HR10"],
    ["C3"],
  ]);
  const one = await browseModbus(`modbus://127.0.0.1:${sim.port}/17?registers=0-9`, options(1));
  assert.deepEqual(one.devices.map((d) => d.fields.unitId), [17]);
});

Deno.test("browseModbus() says what is wrong with a URL and when no unit answers", async () => {
  assert.throws(() => parseBrowseUrl("modbus://h/1/HR0"), /names a unit at most/);
  assert.throws(() => parseBrowseUrl("modbus://h?registers=9-1"), /registers must be a range/);
  assert.throws(() => parseBrowseUrl("modbus://h?color=red"), /unknown parameter "color"/);
  await using sim = await startModbusSimulator({ units: { 1: {} } });
  await assert.rejects(
    browseModbus(`modbus://127.0.0.1:${sim.port}?units=5-6`, options(1)),
    (e) => isBifrostError(e, "NOT_FOUND") && /none of 2 unit ids answered/.test(e.message),
  );
});
