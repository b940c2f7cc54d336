/**
 * @module
 * The EtherNet/IP driver against its simulator: Multiple Service Packet plans, fragmented
 * reads and writes of large arrays, Forward Open fallbacks, unconnected messaging through a
 * route path, CIP status names in bad quality and write errors, every atomic type, BOOL
 * arrays and integer bits, UDT members (browse by template, read by `Tag.Member`), and
 * `auto` tags of URLs.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import {
  BifrostError,
  nullLogger,
  systemClock,
  type TagConfig,
  type TagResult,
} from "../../../engine/plugin.ts";
import { DEMO_MAP } from "../simulator/demo.ts";
import { type EipSimulatorMap, startEipSimulator } from "../simulator/server.ts";
import { parseEipUrl } from "../tools/url.ts";
import { EipDriver, makePlan } from "./driver.ts";

const ctx = { log: nullLogger, clock: systemClock };
const signal = () => AbortSignal.timeout(10_000);

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

async function connected(map: EipSimulatorMap = DEMO_MAP, config: Record<string, unknown> = {}) {
  const sim = await startEipSimulator({ map, udp: false });
  const driver = new EipDriver(
    {
      name: "plc",
      driver: "ethernet-ip",
      config: { host: sim.host, port: sim.port, ...config },
      tags: new Map(),
    },
    ctx,
  );
  await driver.connect(signal());
  return {
    sim,
    driver,
    async [Symbol.asyncDispose]() {
      await driver.close();
      await sim.close();
    },
  };
}

const values = (rs: TagResult[]) => rs.map((r) => r.ok ? r.value : `bad: ${r.error.message}`);

Deno.test("1,000 DINT tags are read in a few Multiple Service Packets under the connection size", async () => {
  const map: EipSimulatorMap = {
    tags: Object.fromEntries(
      Array.from({ length: 1000 }, (_, i) => [`T${i}`, { type: "DINT", value: i * 3 }]),
    ),
  };
  await using p = await connected(map);
  const tags = Array.from({ length: 1000 }, (_, i) => tag(`t${i}`, `T${i}`, "DINT"));
  const plan = p.driver.plan(tags);
  const before = p.sim.requests;
  const rs = await p.driver.read(plan, signal());
  assertEquals(values(rs), tags.map((_, i) => i * 3));
  const packets = p.sim.requests - before;
  assertEquals(packets, plan.packets.length);
  assert(packets <= 12, `1,000 tags in ${packets} packets`);
  assert(plan.packets.every((k) => k.kind === "multiple" && k.requestBytes <= 4002));
  assertMatch(plan.describe()[0]!, /Multiple Service Packet of \d+ Read Tag/);
});

Deno.test("an array larger than a packet is read by Read Tag Fragmented and written in fragments", async () => {
  await using p = await connected();
  const big = tag("big", "BigArray[0]", "DINT", { count: 2000 });
  const want = Array.from({ length: 2000 }, (_, i) => i * 7 - 1000);
  await p.driver.write(big, want, signal());
  const plan = p.driver.plan([big, tag("one", "TestDINT[1]", "DINT")]);
  assertEquals(plan.packets[0]!.kind, "fragmented");
  assertMatch(plan.describe().join("\n"), /Read Tag Fragmented/);
  const before = p.sim.requests;
  const rs = await p.driver.read(plan, signal());
  assertEquals(values(rs), [want, 10]);
  assert(p.sim.requests - before >= 3, "8,000 bytes take at least two fragments and one more read");
});

Deno.test("a controller refusing Large Forward Open gets a standard one of 504 bytes", async () => {
  const sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  sim.faults.refuseLargeForwardOpen = true;
  const warnings: string[] = [];
  const log = { ...nullLogger, warn: (m: string) => void warnings.push(m) };
  const driver = new EipDriver(
    {
      name: "plc",
      driver: "ethernet-ip",
      config: { host: sim.host, port: sim.port },
      tags: new Map(),
    },
    { log, clock: systemClock },
  );
  try {
    await driver.connect(signal());
    assertEquals(sim.forwardOpens, [{ large: false, size: 504 }]);
    assertEquals(driver.client!.size, 504);
    assertMatch(
      warnings.join("\n"),
      /Large Forward Open of 4002 bytes refused: Service not supported \(CIP status 0x08\)/,
    );
    // The plan made for 4,002 bytes is re-made for the 504 granted.
    const tags = Array.from({ length: 60 }, (_, i) => tag(`t${i}`, `TestDINT[${i % 10}]`, "DINT"));
    const plan = driver.plan([
      ...tags,
      tag("speed", "Line.Speed", "REAL"),
      tag("starts", "Line.Starts", "DINT"),
    ]);
    const want = [...tags.map((_, i) => (i % 10) * 10), 1450.5, 12];
    assertEquals(values(await driver.read(plan, signal())), want);
    // ... once per plan and connection: a later poll sends only its packets (no symbol or
    // template requests for the structure read of Line again).
    const before = sim.requests;
    assertEquals(values(await driver.read(plan, signal())), want);
    const sent = sim.requests - before;
    // At most the packets of a member-by-member plan for 504 bytes (the structure read packs
    // two members into one read).
    const most = makePlan(plan.tags, 504).packets.length;
    assert(sent <= most, `a poll sent ${sent} requests, the plan has at most ${most} packets`);
    const again = sim.requests;
    await driver.read(plan, signal());
    assertEquals(sim.requests - again, sent);
  } finally {
    await driver.close();
    await sim.close();
  }
});

Deno.test("a controller refusing Forward Open is read unconnected, through Unconnected Send with a route path", async () => {
  const sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  sim.faults.refuseForwardOpen = true;
  const driver = new EipDriver(
    {
      name: "plc",
      driver: "ethernet-ip",
      config: { host: sim.host, port: sim.port, path: "1,0" },
      tags: new Map(),
    },
    ctx,
  );
  try {
    await driver.connect(signal());
    assertEquals(driver.client!.isConnected, false);
    const rs = await driver.read(
      driver.plan([tag("c", "Program:MainProgram.Counter", "DINT")]),
      signal(),
    );
    assertEquals(values(rs), [7]);
  } finally {
    await driver.close();
    await sim.close();
  }
});

Deno.test("CIP statuses are named in bad quality and in write errors", async () => {
  await using p = await connected();
  p.sim.faults.tagErrors.set("testreal", { status: 0x0f, extended: [] });
  const rs = await p.driver.read(
    p.driver.plan([
      tag("a", "TestREAL", "REAL"),
      tag("b", "NoSuchTag", "DINT"),
      tag("c", "TestINT", "INT"),
    ]),
    signal(),
  );
  assertMatch(
    values(rs)[0] as string,
    /"a" \(TestREAL\) on "plc": Privilege violation \(CIP status 0x0F\)/,
  );
  assertMatch(values(rs)[1] as string, /Path destination unknown \(CIP status 0x05\)/);
  assertEquals(values(rs)[2], 1234);
  const err = await p.driver.write(tag("d", "TestINT", "INT"), 99999, signal()).catch((e) => e);
  assert(err instanceof BifrostError && err.code === "WRITE_REJECTED", String(err));
  assertMatch(err.message, /does not fit INT/);
  const cip = await p.driver.write(tag("e", "NoSuchTag", "DINT"), 1, signal()).catch((e) => e);
  assert(cip instanceof BifrostError && cip.code === "DEVICE_EXCEPTION", String(cip));
  assertMatch(cip.message, /Path destination unknown \(CIP status 0x05\)/);
  const typed = await p.driver.write(tag("f", "TestINT", "DINT"), 5, signal()).catch((e) => e);
  assertMatch(typed.message, /extended 0x2107: Data type of the request does not match/);
});

Deno.test("every atomic type, STRING, BOOL arrays, bits and multi-dimensional elements read and write", async () => {
  await using p = await connected();
  const tags = [
    tag("sint", "TestSINT", "SINT"),
    tag("int", "TestINT", "INT"),
    tag("lint", "TestLINT", "LINT"),
    tag("lreal", "TestLREAL", "LREAL"),
    tag("real", "TestREAL", "REAL"),
    tag("bool", "TestBOOL", "BOOL"),
    tag("str", "TestSTRING", "STRING"),
    tag("flags", "Flags[0]", "BOOL", { count: 4 }),
    tag("bit", "TestDINT[1].3", "BOOL"),
    tag("cell", "Matrix[1,2]", "INT"),
    tag("slice", "TestDINT[2]", "DINT", { count: 3 }),
  ];
  const plan = p.driver.plan(tags);
  assertEquals(values(await p.driver.read(plan, signal())), [
    -5,
    1234,
    9007199254740993n,
    3.141592653589793,
    21.5,
    true,
    "Line 2 running",
    [true, false, true, false],
    true, // 10 = 0b1010
    0,
    [20, 30, 40],
  ]);
  await p.driver.write(tags[2]!, -42n, signal());
  await p.driver.write(tags[4]!, 0.1, signal());
  await p.driver.write(tags[6]!, "Changeover", signal());
  await p.driver.write(tag("f40", "Flags[40]", "BOOL"), true, signal());
  await p.driver.write(tags[8]!, false, signal());
  await p.driver.write(tags[9]!, -300, signal());
  const after = values(
    await p.driver.read(p.driver.plan([...tags, tag("f40", "Flags[40]", "BOOL")]), signal()),
  );
  assertEquals([after[2], after[4], after[6], after[8], after[9], after[11]], [
    -42n,
    0.1,
    "Changeover",
    false,
    -300,
    true,
  ]);
  assertEquals(after[1], 1234, "untouched");
});

Deno.test("a UDT browses member by member from its template, and members read by Tag.Member", async () => {
  await using p = await connected();
  const root = await p.driver.browse(undefined, signal());
  const line = root.find((n) => n.name === "Line")!;
  assert(line.hasChildren && line.description?.startsWith("Motor"), JSON.stringify(line));
  const members = await p.driver.browse(line.id, signal());
  assertEquals(
    members.map((m) => [m.address, m.type]),
    [
      ["Line.Speed", "REAL"],
      ["Line.Running", "BOOL"],
      ["Line.Faulted", "BOOL"],
      ["Line.Starts", "DINT"],
      ["Line.Currents[0]", "REAL"],
      ["Line.Label", "STRING"],
    ],
  );
  const tags = members.map((m) =>
    tag(m.name, m.address!, m.type!, m.description ? { count: 3 } : {})
  );
  assertEquals(values(await p.driver.read(p.driver.plan(tags), signal())), [
    1450.5,
    true,
    false,
    12,
    [0, 0, 0],
    "Pump 1",
  ]);
  const prog = root.find((n) => n.name === "Program:MainProgram")!;
  const inProg = await p.driver.browse(prog.id, signal());
  assertEquals(inProg.map((n) => n.address), [
    "Program:MainProgram.Counter",
    "Program:MainProgram.Setpoint",
  ]);
});

Deno.test("a controller that refuses browse still serves declared tags, and browse says why", async () => {
  await using p = await connected();
  p.sim.faults.noBrowse = true;
  const e = await p.driver.browse(undefined, signal()).catch((x) => x);
  assertMatch(
    String(e.message),
    /refuses symbol browse: Service not supported \(CIP status 0x08\); declare the tags/,
  );
  assertEquals(values(await p.driver.read(p.driver.plan([tag("c", "TestINT", "INT")]), signal())), [
    1234,
  ]);
});

Deno.test("a URL tag without a type learns it from the reply, for reads and writes", async () => {
  await using p = await connected();
  const { device, tag: t } = parseEipUrl(`eip://127.0.0.1:${p.sim.port}/TestDINT[3]`);
  assertEquals(device.config, { host: "127.0.0.1", port: p.sim.port });
  assertEquals(t.type, "auto");
  assertEquals(values(await p.driver.read(p.driver.plan([t]), signal())), [30]);
  await p.driver.write(t, "-17", signal());
  assertEquals(values(await p.driver.read(p.driver.plan([t]), signal())), [-17]);
  const s = parseEipUrl(`eip://127.0.0.1:${p.sim.port}/TestSTRING`).tag;
  await p.driver.write(s, "via url", signal());
  assertEquals(values(await p.driver.read(p.driver.plan([s]), signal())), ["via url"]);
});

Deno.test("URLs with a bad part are refused naming it", () => {
  for (
    const [url, why] of [
      ["eip://h/", /no tag/],
      ["eip://h/Tag[1", /not a tag or member name/],
      ["eip://h/T?path=1", /pairs of port,link/],
      ["eip://h/T?speed=1", /unknown parameter "speed"/],
      ["opc://h/T", /scheme must be eip/],
    ] as const
  ) {
    let e: unknown;
    try {
      parseEipUrl(url);
    } catch (x) {
      e = x;
    }
    assert(e instanceof BifrostError && e.code === "CONFIG_INVALID", url);
    assertMatch(e.message, why);
  }
  assertEquals(parseEipUrl("eip://10.0.0.5/Recipe[0]:REAL?path=1,0&count=10").tag.config, {
    address: "Recipe[0]",
    type: "REAL",
    count: 10,
  });
});

Deno.test("a dropped connection fails the read with NOT_CONNECTED and tells the engine", async () => {
  const sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
  const lost: string[] = [];
  const driver = new EipDriver(
    {
      name: "plc",
      driver: "ethernet-ip",
      config: { host: sim.host, port: sim.port },
      tags: new Map(),
    },
    { ...ctx, connectionLost: (r) => void lost.push(r) },
  );
  try {
    await driver.connect(signal());
    sim.dropConnections();
    await new Promise((r) => setTimeout(r, 50));
    const e = await driver.read(driver.plan([tag("c", "TestINT", "INT")]), signal()).catch((x) =>
      x
    );
    assert(e instanceof BifrostError && e.code === "NOT_CONNECTED", String(e));
    assertEquals(lost.length, 1);
  } finally {
    await driver.close();
    await sim.close();
  }
});

Deno.test("members of one structure are read as the whole structure, cut by its template", async () => {
  await using p = await connected();
  const tags = [
    tag("speed", "Line.Speed", "REAL"),
    tag("running", "Line.Running", "BOOL"),
    tag("faulted", "Line.Faulted", "BOOL"),
    tag("currents", "Line.Currents[1]", "REAL", { count: 2 }),
    tag("label", "Line.Label", "STRING"),
    tag("other", "TestINT", "INT"),
  ];
  const plan = p.driver.plan(tags);
  assertMatch(plan.describe().join("\n"), /members of Line.*read whole/);
  const v = p.sim.store.resolve(["Line", "Currents"], [[], [1]]);
  p.sim.store.setValue(v.tag, ["Currents"], [0, 2.5, -1.25]);
  assertEquals(values(await p.driver.read(plan, signal())), [
    1450.5,
    true,
    false,
    [2.5, -1.25],
    "Pump 1",
    1234,
  ]);
  p.sim.reads.length = 0;
  assertEquals(values(await p.driver.read(plan, signal())), [
    1450.5,
    true,
    false,
    [2.5, -1.25],
    "Pump 1",
    1234,
  ]);
  assertEquals(
    p.sim.reads.sort(),
    ["Line", "TestINT"],
    "one read of the structure, one of the INT",
  );
  // Without templates (browse refused) the members are read one by one, with the same values.
  p.sim.faults.noBrowse = true;
  await p.driver.close();
  await p.driver.connect(signal());
  p.sim.reads.length = 0;
  assertEquals(values(await p.driver.read(plan, signal())), [
    1450.5,
    true,
    false,
    [2.5, -1.25],
    "Pump 1",
    1234,
  ]);
  assertEquals(p.sim.reads.length, 6);
});

Deno.test("malformed replies and slow replies fail the poll's tags with a clear error, then reads recover", async () => {
  await using p = await connected(DEMO_MAP, { timeout: "300ms" });
  const plan = p.driver.plan([tag("a", "TestINT", "INT"), tag("b", "TestSINT", "SINT")]);
  p.sim.faults.malformed = true;
  const bad = await p.driver.read(plan, signal());
  for (const r of bad) {
    assert(!r.ok && r.error.code === "DEVICE_EXCEPTION", JSON.stringify(r));
    assertMatch(r.error.message, /Cannot read from "plc": CPF item 1 is longer than the frame/);
  }
  p.sim.faults.malformed = false;
  assertEquals(values(await p.driver.read(plan, signal())), [1234, -5]);
  p.sim.faults.delayMs = 500;
  const slow = await p.driver.read(plan, signal());
  for (const r of slow) assert(!r.ok && r.error.code === "TIMEOUT", JSON.stringify(r));
  assertMatch((slow[0] as { error: Error }).error.message, /No reply from "plc" .* within 300 ms/);
  p.sim.faults.delayMs = 0;
  // The late reply is dropped by its sequence count; the next read gets its own.
  await new Promise((r) => setTimeout(r, 600));
  assertEquals(values(await p.driver.read(plan, signal())), [1234, -5]);
});

Deno.test("a reply on another connection id or session handle fails the poll, naming both", async () => {
  await using p = await connected(DEMO_MAP);
  const one = p.driver.plan([tag("a", "TestINT", "INT")]);
  const two = p.driver.plan([tag("a", "TestINT", "INT"), tag("b", "TestSINT", "SINT")]);
  assertEquals(values(await p.driver.read(one, signal())), [1234]);
  const cases: ["otherConnection" | "otherSession", RegExp][] = [
    ["otherConnection", /answered on connection 0x[0-9a-f]+, ours is 0x[0-9a-f]+/],
    ["otherSession", /answered for session 0x[0-9a-f]+, ours is 0x[0-9a-f]+/],
  ];
  for (const [fault, re] of cases) {
    p.sim.faults[fault] = true;
    // The fast path (a plan read before, one packet) and the general one (a new plan).
    for (const plan of [one, two]) {
      const bad = await p.driver.read(plan, signal());
      for (const r of bad) {
        assert(!r.ok && r.error.code === "DEVICE_EXCEPTION", JSON.stringify(r));
        assertMatch(r.error.message, /Cannot read from "plc": "plc" \(127\.0\.0\.1:[0-9]+\) /);
        assertMatch(r.error.message, re);
      }
    }
    p.sim.faults[fault] = false;
    assertEquals(values(await p.driver.read(two, signal())), [1234, -5]);
  }
});

Deno.test("unconnected: a late reply to a timed-out request is not taken for the next one's", async () => {
  await using p = await connected(DEMO_MAP, { timeout: "300ms", connected: false });
  const plan = p.driver.plan([tag("a", "TestINT", "INT")]);
  p.sim.faults.delayMs = 450;
  const slow = await p.driver.read(plan, signal());
  assert(!slow[0]!.ok && slow[0]!.error.code === "TIMEOUT", JSON.stringify(slow));
  p.sim.faults.delayMs = 0;
  const other = await p.driver.read(p.driver.plan([tag("b", "TestSINT", "SINT")]), signal());
  assertEquals(values(other), [-5]);
});
