import assert from "node:assert/strict";
import type { ToolOutput } from "../../../engine/plugin.ts";
import { startModbusSimulator } from "../simulator/server.ts";
import { discoverUnits, parseUnitList } from "./discover.ts";
import { modbusDiscover, parseDiscoverArgs } from "./discover_cli.ts";

async function threeUnits() {
  const sim = await startModbusSimulator({
    units: {
      1: { HR0: { value: 0x1234 } },
      2: { IR0: { value: 7 } },
      17: { C0: { value: true } },
    },
  });
  // Unit 2 has no holding registers; unit 17 only coils.
  sim.faults.exception({ unitId: 2, fc: 3, code: 1 });
  sim.faults.exception({ unitId: 17, fc: 3, code: 2 });
  sim.faults.exception({ unitId: 17, fc: 4, code: 2 });
  return sim;
}

async function captured(
  fn: (out: ToolOutput) => Promise<number>,
): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await fn({ log: (l) => out.push(l), error: (l) => out.push(l) });
  return { code, out };
}

Deno.test("discoverUnits() finds units 1, 2 and 17 and says how each answered", async () => {
  await using sim = await threeUnits();
  const r = await discoverUnits({
    host: "127.0.0.1",
    port: sim.port,
    units: parseUnitList("1-20"),
  });
  assert.equal(r.probed, 20);
  assert.deepEqual(r.units, [
    { unitId: 1, answers: [{ fc: 3, address: "HR0", value: 0x1234 }] },
    {
      unitId: 2,
      answers: [{ fc: 3, address: "HR0", exception: 1 }, { fc: 4, address: "IR0", value: 7 }],
    },
    {
      unitId: 17,
      answers: [
        { fc: 3, address: "HR0", exception: 2 },
        { fc: 4, address: "IR0", exception: 2 },
        { fc: 1, address: "C0", value: true },
      ],
    },
  ]);
});

Deno.test("bifrost discover modbus prints a table of the units that answered", async () => {
  await using sim = await threeUnits();
  const { code, out } = await captured((o) =>
    modbusDiscover.run([
      "--host",
      "127.0.0.1",
      "--port",
      String(sim.port),
      "--units",
      "1-3,17,200",
    ], o)
  );
  assert.equal(code, 0);
  assert.deepEqual(out.slice(0, -1), [
    `Scanning 127.0.0.1:${sim.port}, unit ids 1-3,17,200, FC3 HR0 (1 register), timeout 200 ms`,
    "unit  answer",
    "   1  FC3 HR0 = 4660 (0x1234)",
    "   2  FC3 HR0: Illegal function (exception 1); FC4 IR0 = 7 (0x0007)",
    "  17  FC3 HR0: Illegal data address (exception 2); FC4 IR0: Illegal data address (exception 2); FC1 C0 = true",
  ]);
  assert.match(out.at(-1)!, /^3 of 5 unit ids answered in [0-9]+\.[0-9]{2} s$/);
});

Deno.test("a unit that does not answer in time counts as absent", async () => {
  await using sim = await startModbusSimulator({ units: { 1: {}, 2: {} } });
  sim.faults.drop(1);
  const r = await discoverUnits({
    host: "127.0.0.1",
    port: sim.port,
    units: [1, 2],
    timeoutMs: 100,
  });
  assert.deepEqual(r.units.map((u) => u.unitId), [2]);
});

Deno.test("bifrost discover says what is wrong with its arguments", async () => {
  assert.deepEqual(parseDiscoverArgs(["--host", "h", "--units=5", "--timeout", "1s"]), {
    host: "h",
    port: 502,
    units: [5],
    unitsText: "5",
    timeoutMs: 1000,
    register: "HR0",
    parallel: 1,
  });
  assert.throws(() => parseUnitList("1-300"), /ids 0\.\.255 .* got "1-300"/);
  assert.throws(() => parseDiscoverArgs(["--units", "1"]), /without --host/);
  const { code, out } = await captured((o) =>
    modbusDiscover.run(["--host", "h", "--bogus", "1"], o)
  );
  assert.equal(code, 2);
  assert.deepEqual(out, [
    `Cannot parse argument "--bogus"`,
    modbusDiscover.usage,
  ]);
});
