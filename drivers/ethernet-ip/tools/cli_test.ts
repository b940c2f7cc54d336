/**
 * @module
 * The EtherNet/IP tools through the `bifrost` command line, as a technician runs them
 * against the simulator: `read`/`write` of `eip://` URLs (types learnt from the reply),
 * `browse` writing a flow that `check` accepts, `discover` over UDP ListIdentity, `plan`
 * printing the packets, and a keep-alive on an idle connection.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { bifrost } from "../../../tests/_cli.ts";
import { nullLogger, systemClock } from "../../../engine/plugin.ts";
import { DEMO_MAP } from "../simulator/demo.ts";
import { startEipSimulator } from "../simulator/server.ts";
import { EipDriver } from "../tcp/driver.ts";

Deno.test("bifrost read and write eip:// URLs, the type learnt from the controller", async () => {
  await using sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  const url = (t: string) => `eip://127.0.0.1:${sim.port}/${t}`;
  let r = await bifrost(["read", url("TestDINT[3]")]);
  assertEquals([r.code, r.out.trim()], [0, "30"], r.err);
  r = await bifrost(["read", url("Program:MainProgram.Setpoint")]);
  assertEquals([r.code, r.out.trim()], [0, "55.5"], r.err);
  r = await bifrost(["write", url("TestDINT[3]"), "-12"]);
  assertEquals(r.code, 0, r.err);
  r = await bifrost(["read", url("TestDINT[3]")]);
  assertEquals(r.out.trim(), "-12");
  // A whole structure from a JSON object of its members (the type learnt: a structure).
  const motor = {
    Speed: 12.5,
    Running: true,
    Faulted: false,
    Starts: 3,
    Currents: [1, 2, 3],
    Label: "from the CLI",
  };
  r = await bifrost(["write", url("Line"), JSON.stringify(motor)]);
  assertEquals(r.code, 0, r.err);
  r = await bifrost(["read", url("Line.Label")]);
  assertEquals(r.out.trim(), "from the CLI");
  r = await bifrost(["read", url("Line.Speed")]);
  assertEquals(r.out.trim(), "12.5");
  r = await bifrost(["write", url("Line"), JSON.stringify({ ...motor, Torque: 1 })]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /Line \(Motor\) has no member "Torque"/);
  r = await bifrost(["read", url("NoSuchTag")]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /Path destination unknown \(CIP status 0x05\)/);
  r = await bifrost(["read", "eip://127.0.0.1/Bad[Tag"]);
  assertEquals(r.code, 1, r.err);
  assertMatch(r.err, /Cannot parse EtherNet\/IP URL/);
});

Deno.test("bifrost browse eip:// writes a flow (UDT members as tags) that bifrost check accepts", async () => {
  await using sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "plc.yaml");
    const r = await bifrost([
      "browse",
      `eip://127.0.0.1:${sim.port}`,
      "--depth",
      "3",
      "--out",
      file,
    ]);
    assertEquals(r.code, 0, r.err);
    const text = await Deno.readTextFile(file);
    assertMatch(text, /TestDINT: \{ address: TestDINT, type: DINT, count: 10 \}/);
    assertMatch(text, /Flags: \{ address: "Flags\[0\]", type: BOOL, count: 64 \}/);
    assertMatch(text, /Line.Currents: \{ address: "Line.Currents\[0\]", type: REAL, count: 3 \}/);
    assertMatch(text, /Line.Speed: \{ address: Line.Speed, type: REAL \}/);
    assertMatch(
      text,
      /MainProgram.Counter: \{ address: Program:MainProgram.Counter, type: DINT \}/,
    );
    // With the commented poll taken in, the flow loads and its plan prints the packets.
    await Deno.writeTextFile(file, text.replace(/^# (polls:| {2}| {4})/gm, "$1"));
    const c = await bifrost(["check", dir]);
    assertEquals(c.code, 0, c.out + c.err);
    const plan = await bifrost(["plan", dir]);
    assertEquals(plan.code, 0, plan.err);
    assertMatch(plan.out, /Read Tag Fragmented.*BigArray/);
    assertMatch(plan.out, /Multiple Service Packet of \d+ Read Tag/);
    assertMatch(plan.out, /members of Line \(Line.Speed, .*\): read whole/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bifrost discover ethernet-ip lists a device that answers ListIdentity", async () => {
  await using sim = await startEipSimulator({ map: DEMO_MAP });
  const r = await bifrost([
    "discover",
    "ethernet-ip",
    "--host",
    "127.0.0.1",
    "--port",
    String(sim.port),
    "--timeout",
    "1s",
  ]);
  assertEquals(r.code, 0, r.err);
  assertMatch(
    r.out,
    /Rockwell Automation\/Allen-Bradley\t1756-L83E\/B Bifrost Sim\t33\.011\t0x00c0ffee/,
  );
  const bad = await bifrost(["discover", "ethernet-ip", "--port", "x"]);
  assertEquals(bad.code, 2);
});

Deno.test("an idle connection is kept alive by a request every keepAlive", async () => {
  await using sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  const driver = new EipDriver({
    name: "plc",
    driver: "ethernet-ip",
    config: { host: sim.host, port: sim.port, keepAlive: "100ms" },
    tags: new Map(),
  }, { log: nullLogger, clock: systemClock });
  await driver.connect(AbortSignal.timeout(5000));
  try {
    const before = sim.requests;
    await new Promise((r) => setTimeout(r, 450));
    assert(sim.requests - before >= 2, `${sim.requests - before} keep-alive requests`);
  } finally {
    await driver.close();
  }
});
