/**
 * @module
 * Whole-structure writes against the simulator: an object of members written in one Write Tag
 * with the template's layout (BOOL members in their host byte, an array member, a nested STRING,
 * a nested structure, a program-scoped structure, a structure array element), read back member
 * by member and as the whole structure; unknown, missing and mistyped members refused with the
 * member named, before anything is sent.
 */

import { assertEquals, assertMatch, assertRejects } from "../../../tests/_assert.ts";
import { BifrostError, nullLogger, systemClock, type TagConfig } from "../../../engine/plugin.ts";
import { type EipSimulatorMap, startEipSimulator } from "../simulator/server.ts";
import { EipDriver } from "./driver.ts";

const ctx = { log: nullLogger, clock: systemClock };
const signal = () => AbortSignal.timeout(10_000);

const MAP: EipSimulatorMap = {
  structures: {
    Motor: {
      Speed: "REAL",
      Running: "BOOL",
      Faulted: "BOOL",
      Starts: "DINT",
      Currents: { type: "REAL", dims: 3 },
      Label: "STRING",
    },
    Cell: { Id: "INT", Drive: "Motor", Enabled: "BOOL" },
  },
  tags: {
    Line: { type: "Motor", value: { Speed: 1450.5, Running: true, Starts: 12, Label: "Pump 1" } },
    Cells: { type: "Cell", dims: [3] },
    Count: { type: "DINT", value: 1 },
  },
  programs: { MainProgram: { Pump: { type: "Motor" } } },
};

const MOTOR = {
  Speed: 980.25,
  Running: false,
  Faulted: true,
  Starts: -40,
  Currents: [1.5, 2.5, 3.25],
  Label: "Pump 2",
};

function tag(address: string, type = "auto", extra: Record<string, unknown> = {}): TagConfig {
  return { name: address, address, type, writable: true, config: { address, type, ...extra } };
}

async function rig() {
  const sim = await startEipSimulator({ map: structuredClone(MAP), udp: false });
  const driver = new EipDriver({
    name: "plc",
    driver: "ethernet-ip",
    config: { host: sim.host, port: sim.port },
    tags: new Map(),
  }, ctx);
  await driver.connect(signal());
  const members = async (prefix: string) => {
    const names = ["Speed", "Running", "Faulted", "Starts", "Currents", "Label"];
    const types = ["REAL", "BOOL", "BOOL", "DINT", "REAL", "STRING"];
    const rs = await driver.read(
      driver.plan(
        names.map((n, i) => tag(`${prefix}.${n}`, types[i], n === "Currents" ? { count: 3 } : {})),
      ),
      signal(),
    );
    return Object.fromEntries(
      rs.map((r, i) => [names[i], r.ok ? r.value : `bad: ${r.error.message}`]),
    );
  };
  return {
    sim,
    driver,
    members,
    async [Symbol.asyncDispose]() {
      await driver.close();
      await sim.close();
    },
  };
}

Deno.test("a structure is written whole from an object and reads back member by member", async () => {
  await using r = await rig();
  await r.driver.write(tag("Line"), MOTOR, signal());
  assertEquals(await r.members("Line"), MOTOR);
  // Templates are learnt once per connection: a later write is the structure's read (handle,
  // padding), the symbol list (its template id) and one Write Tag of the whole structure.
  const before = r.sim.requests;
  await r.driver.write(tag("Line"), { ...MOTOR, Starts: 1 }, signal());
  assertEquals(r.sim.requests - before, 3);
  assertEquals((await r.members("Line")).Starts, 1);
  // Keys match members case-insensitively, as Logix names do.
  const lower = Object.fromEntries(Object.entries(MOTOR).map(([k, v]) => [k.toLowerCase(), v]));
  await r.driver.write(tag("Program:MainProgram.Pump"), lower, signal());
  assertEquals(await r.members("Program:MainProgram.Pump"), MOTOR);
});

Deno.test("nested structures and structure array elements are written whole", async () => {
  await using r = await rig();
  const cell = { Id: 7, Drive: MOTOR, Enabled: true };
  await r.driver.write(tag("Cells[1]"), cell, signal());
  assertEquals(await r.members("Cells[1].Drive"), MOTOR);
  const rs = await r.driver.read(
    r.driver.plan([
      tag("Cells[1].Id", "INT"),
      tag("Cells[1].Enabled", "BOOL"),
      tag("Cells[0].Id", "INT"),
    ]),
    signal(),
  );
  assertEquals(rs.map((x) => x.ok && x.value), [7, true, 0]);
  // A structure member of a structure, written whole by its own path.
  await r.driver.write(tag("Cells[2].Drive"), { ...MOTOR, Starts: 5 }, signal());
  assertEquals((await r.members("Cells[2].Drive")).Starts, 5);
  // JSON text of an object, as `bifrost write` passes it for a tag without a type.
  await r.driver.write(tag("Line"), JSON.stringify({ ...MOTOR, Label: "from JSON" }), signal());
  assertEquals((await r.members("Line")).Label, "from JSON");
});

Deno.test("a whole-structure write names an unknown, missing or mistyped member and sends nothing", async () => {
  await using r = await rig();
  const before = await r.members("Line");
  const cases: [unknown, RegExp][] = [
    [
      { ...MOTOR, Torque: 3 },
      /Line \(Motor\) has no member "Torque" \(members: Speed, Running, Faulted, Starts, Currents, Label\)/,
    ],
    [
      { Speed: 1 },
      /Line \(Motor\) misses members "Running", "Faulted", "Starts", "Currents", "Label": a whole-structure write sets every member/,
    ],
    [{ ...MOTOR, Speed: "fast" }, /Line\.Speed is a number: got "fast"/],
    [{ ...MOTOR, Running: "yes" }, /Line\.Running is a BOOL: expected true or false, got "yes"/],
    [{ ...MOTOR, Currents: [1, 2] }, /Line\.Currents is an array of 3: expected 3 elements/],
    [{ ...MOTOR, Starts: 2 ** 40 }, /Line\.Starts \(DINT\)/],
    [[1, 2], /a structure is written from an object of its members/],
    ["{not json", /this is not JSON/],
  ];
  for (const [value, re] of cases) {
    const e = await assertRejects(() => r.driver.write(tag("Line"), value as never, signal()));
    assertEquals((e as BifrostError).code, "WRITE_REJECTED", (e as Error).message);
    assertMatch((e as Error).message, /Cannot write .* to "plc\/Line" \(Line\): /);
    assertMatch((e as Error).message, re);
  }
  assertEquals(await r.members("Line"), before, "nothing was written");
  const nested = await assertRejects(() =>
    r.driver.write(
      tag("Cells[0]"),
      { Id: 1, Drive: { ...MOTOR, Extra: 1 }, Enabled: true },
      signal(),
    )
  );
  assertMatch((nested as Error).message, /Cells\[0\]\.Drive \(Motor\) has no member "Extra"/);
  const scalar = await assertRejects(() => r.driver.write(tag("Count"), { a: 1 }, signal()));
  assertMatch(
    (scalar as Error).message,
    /an object is written to a structure only; the controller has DINT/,
  );
});
