/**
 * @module
 * A server built from YAML, read through our driver (`drivers/opcua/client`): every built-in
 * scalar type and an array of each, generators moving values, writable or not, methods
 * called with node-opcua's own client (`session.call`), a NonExclusiveLimitAlarm fired,
 * acknowledged through our driver's event write and confirmed, and a percent deadband
 * against an AnalogItem's EURange.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { nullLogger, systemClock, type TagConfig, type Value } from "../../../engine/plugin.ts";
import { OpcuaDriver } from "../client/driver.ts";
import { SCALAR_TYPES, type ScalarType } from "../core/types.ts";
import { parseSimConfig } from "./config.ts";
import { type OpcuaSimOptions, startOpcuaSimulator } from "./server.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-simtest-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));
const signal = () => AbortSignal.timeout(30_000);

const show = (v: unknown) =>
  JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x as unknown);

async function until(ms: number, what: string, done: () => boolean, last: () => unknown) {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new Error(`Timed out waiting for ${what}; got ${show(last())}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  const config = { address, type, ...extra };
  return { name, address, type, writable: true, config };
}

/** One sample value per type, scalar and array, as YAML writes it and as the driver reads it. */
const SAMPLES: Record<ScalarType, [Value, Value[]]> = {
  Boolean: [true, [false, true]],
  SByte: [-7, [-128, 127]],
  Byte: [9, [0, 255]],
  Int16: [-300, [-32768, 32767]],
  UInt16: [60000, [1, 65535]],
  Int32: [-70000, [-2147483648, 5]],
  UInt32: [4000000000, [0, 4294967295]],
  Int64: [-9007199254740993n, [-(2n ** 63n), 2n ** 40n]],
  UInt64: [18446744073709551615n, [0n, 2n ** 53n + 1n]],
  Float: [1.5, [0.25, -3.5]],
  Double: [2.718281828, [1e-9, -1e300]],
  String: ["ok", ["x", "y z"]],
  DateTime: ["2026-05-01T12:00:00.000Z", ["2000-01-01T00:00:00.000Z"]],
  Guid: ["72962b91-fa75-4ae6-8d28-b404dc7daf63", ["00000000-0000-0000-0000-000000000001"]],
  ByteString: ["00ff10", ["", "abcd"]],
  XmlElement: ["<b>1</b>", ["<c/>"]],
  NodeId: ["ns=1;s=T.Double", ["ns=0;i=85", "ns=1;i=7"]],
  ExpandedNodeId: ["ns=1;s=T.Int32", ["ns=0;i=2253"]],
  StatusCode: ["BadDeviceFailure", ["Good", "UncertainLastUsableValue"]],
  QualifiedName: ["1:Pump", ["Motor"]],
  LocalizedText: ["Hallo", ["a", "b"]],
};

const yamlValue = (v: Value): string =>
  Array.isArray(v)
    ? `[${v.map(yamlValue).join(", ")}]`
    : typeof v === "bigint"
    ? String(v)
    : JSON.stringify(v);

const TYPES_YAML = [
  "changeEvery: 50ms",
  "objects:",
  "  T:",
  "    variables:",
  ...SCALAR_TYPES.flatMap((t) => [
    `      ${t}: { type: ${t}, value: ${yamlValue(SAMPLES[t][0])}, writable: true }`,
    `      ${t}Array: { type: "${t}[]", value: ${yamlValue(SAMPLES[t][1])} }`,
  ]),
  "      Ramp: { type: Double, generator: { kind: ramp, min: 0, max: 1000, period: 100s } }",
  "      Count: { type: Int64, value: 10, generator: { kind: counter, step: 5 } }",
  "      Flip: { type: Boolean, generator: { kind: toggle, period: 100ms } }",
  "      Noise: { type: Float, generator: { kind: random, min: 5, max: 6 } }",
  "      Level: { type: Double, value: 50, euRange: [0, 100], units: percent, writable: true }",
  "    methods:",
  "      Add: { kind: add }",
  "      Echo: { kind: echo, type: Int32 }",
  "      SetLevel: { kind: set, variable: T.Level }",
  "      Refuse: { kind: fail, status: BadUserAccessDenied }",
  "    alarms:",
  "      LevelLimits:",
  "        type: NonExclusiveLimitAlarm",
  "        input: T.Level",
  "        lowLow: 5",
  "        low: 10",
  "        high: 90",
  "        highHigh: 95",
  "        severity: 750",
  '        message: "Level {value} ({state})"',
  "      TooHot: { type: ExclusiveLimitAlarm, input: T.Double, high: 100, severity: 900, message: 'Hot: {value} is {state}' }",
].join("\n");

async function pair(o: OpcuaSimOptions = {}) {
  const sim = await startOpcuaSimulator({ config: parseSimConfig(TYPES_YAML, "types.yaml"), ...o });
  const driver = new OpcuaDriver(
    {
      name: "sim",
      driver: "opcua",
      config: { endpoint: sim.endpoint, pki, timeout: "10s" },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
  try {
    await driver.connect(signal());
  } catch (e) {
    await sim.close();
    throw e;
  }
  return {
    sim,
    driver,
    async [Symbol.asyncDispose]() {
      await driver.close();
      await sim.close();
    },
  };
}

Deno.test("a YAML-defined server gives every built-in scalar type and an array of each through our driver", async () => {
  await using p = await pair({ changeEveryMs: 0 });
  const tags = SCALAR_TYPES.flatMap((t) => [
    tag(t, `ns=1;s=T.${t}`, t),
    tag(`${t}Array`, `/Objects/T/${t}Array`, `${t}[]`),
  ]);
  const rs = await p.driver.read(p.driver.plan(tags), signal());
  const got = Object.fromEntries(
    rs.map((r, i) => [tags[i]!.name, r.ok ? r.value : `bad: ${r.error.message}`]),
  );
  const want = Object.fromEntries(
    SCALAR_TYPES.flatMap((t) => [[t, SAMPLES[t][0]], [`${t}Array`, SAMPLES[t][1]]]),
  );
  assertEquals(got, want);
  // Writable as the YAML says: the scalar takes a write, the array (writable: false) refuses it.
  await p.driver.write(tags[0]!, false, signal());
  assertEquals(p.sim.getValue("T.Boolean"), false);
  const refused = await p.driver.write(tags[1]!, [true], signal()).then(
    () => "written",
    (e) => String(e),
  );
  assertMatch(refused, /not writable|read-only|BadNotWritable|access/i);
});

Deno.test("generators move values on the tick: ramp, counter, toggle and random within their range", async () => {
  await using p = await pair({ changeEveryMs: 50 });
  const ids = ["T.Ramp", "T.Count", "T.Flip", "T.Noise"];
  const seen = new Map<string, Value[]>(ids.map((id) => [id, []]));
  await until(15_000, "10 changes of each generator", () => {
    for (const id of ids) {
      const list = seen.get(id)!;
      const v = p.sim.getValue(id);
      if (list.length === 0 || list[list.length - 1] !== v) list.push(v);
    }
    return ids.every((id) => seen.get(id)!.length >= 10);
  }, () => Object.fromEntries(seen));
  const ramp = seen.get("T.Ramp") as number[];
  assert(ramp.every((v, i) => i === 0 || v > ramp[i - 1]!), `the ramp rises: ${show(ramp)}`);
  const count = seen.get("T.Count") as bigint[];
  assert(count.every((v, i) => i === 0 || (v - count[i - 1]!) % 5n === 0n), show(count));
  assert(count[count.length - 1]! > 10n, show(count));
  assertEquals(new Set(seen.get("T.Flip")), new Set([true, false]));
  assert(
    (seen.get("T.Noise") as number[]).every((v) => v >= 5 && v <= 6),
    show(seen.get("T.Noise")),
  );
  // And through the driver: the counter read twice, a tick apart, differs.
  const t = tag("count", "ns=1;s=T.Count", "Int64");
  const a = (await p.driver.read(p.driver.plan([t]), signal()))[0]!;
  await new Promise((r) => setTimeout(r, 300));
  const b = (await p.driver.read(p.driver.plan([t]), signal()))[0]!;
  assert(a.ok && b.ok && (b.value as bigint) > (a.value as bigint), show([a, b]));
});

Deno.test("methods answer session.call: add, echo, set a variable, and fail with the chosen Bad status", async () => {
  await using p = await pair({ changeEveryMs: 0 });
  const ua = await import("node-opcua-client");
  const { OPCUACertificateManager } = await import("node-opcua-certificate-manager");
  const cm = new OPCUACertificateManager({
    rootFolder: `${pki}/raw`,
    automaticallyAcceptUnknownCertificate: true,
  });
  const client = ua.OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
    clientCertificateManager: cm,
  });
  await client.connect(p.sim.endpoint);
  const session = await client.createSession();
  try {
    const call = (name: string, inputArguments: { dataType: number; value: unknown }[]) =>
      session.call({ objectId: "ns=1;s=T", methodId: `ns=1;s=T.${name}`, inputArguments });
    const D = ua.DataType;
    const add = await call("Add", [{ dataType: D.Double, value: 2.5 }, {
      dataType: D.Double,
      value: 4,
    }]);
    assertEquals([add.statusCode.name, add.outputArguments?.map((a) => a.value)], ["Good", [6.5]]);
    const echo = await call("Echo", [{ dataType: D.Int32, value: -42 }]);
    assertEquals([echo.statusCode.name, echo.outputArguments?.map((a) => a.value)], ["Good", [
      -42,
    ]]);
    const set = await call("SetLevel", [{ dataType: D.Double, value: 12.5 }]);
    assertEquals(set.statusCode.name, "Good");
    assertEquals(p.sim.getValue("T.Level"), 12.5);
    const [level] = await p.driver.read(
      p.driver.plan([tag("l", "ns=1;s=T.Level", "Double")]),
      signal(),
    );
    assertEquals(level?.ok && level.value, 12.5);
    const refused = await call("Refuse", []);
    assertEquals(refused.statusCode.name, "BadUserAccessDenied");
    const wrong = await call("Add", [{ dataType: D.Double, value: 1 }]);
    assertEquals(wrong.statusCode.name, "BadArgumentsMissing");
  } finally {
    await session.close();
    await client.disconnect();
    await cm.dispose();
  }
});

Deno.test("a NonExclusiveLimitAlarm fires with its severity and message, is acknowledged through our driver and confirmed", async () => {
  await using p = await pair({ changeEveryMs: 0 });
  const events: Record<string, Value>[] = [];
  const alarms = tag("alarms", "ns=1;s=T", "Event", { minSeverity: 700 });
  const sub = await p.driver.subscribe(
    p.driver.plan([alarms]),
    {
      value: (_i, v) => void events.push(v as Record<string, Value>),
      fail: (_i, e) => void events.push({ error: e.message }),
    },
    AbortSignal.timeout(120_000),
    { publishingInterval: "20ms" },
  );
  try {
    p.sim.setValue("T.Level", 97);
    await until(
      15_000,
      "the alarm's event",
      () => events.some((e) => e.active === true),
      () => events,
    );
    const fired = events.find((e) => e.active === true)!;
    assertEquals([fired.severity, fired.acked, fired.conditionId], [
      750,
      false,
      "ns=1;s=T.LevelLimits",
    ]);
    assertMatch(String(fired.message), /^Level 97\.000 \((high, highHigh|highHigh, high)\)$/);
    assertEquals(p.sim.alarmState("T.LevelLimits"), {
      active: true,
      acked: false,
      confirmed: false,
    });

    await p.driver.write(alarms, `${fired.eventId}: seen`, signal());
    await until(15_000, "acked", () => p.sim.alarmState("T.LevelLimits").acked, () => events);

    // Confirm, through our driver's write path too, on the event the acknowledgement raised.
    await until(
      15_000,
      "the acknowledgement's event",
      () => events.some((e) => e.acked === true),
      () => events,
    );
    const acked = events.find((e) => e.acked === true)!;
    await p.driver.write(alarms, `confirm ${acked.eventId}: done`, signal());
    await until(
      15_000,
      "confirmed",
      () => p.sim.alarmState("T.LevelLimits").confirmed,
      () => events,
    );
    assertEquals(p.sim.alarmState("T.LevelLimits"), { active: true, acked: true, confirmed: true });
    p.sim.setValue("T.Level", 50);
    await until(
      15_000,
      "back to normal",
      () => !p.sim.alarmState("T.LevelLimits").active,
      () => events,
    );

    // An ExclusiveLimitAlarm with its own severity and message.
    p.sim.setValue("T.Double", 150);
    const hotOnes = () => events.filter((e) => e.conditionId === "ns=1;s=T.TooHot");
    await until(15_000, "TooHot", () => hotOnes().length > 0, () => events);
    const hot = hotOnes()[0]!;
    assertEquals([hot.severity, hot.message, hot.active], [900, "Hot: 150.000 is High", true]);
  } finally {
    await sub.close();
  }
});

Deno.test("a percent deadband through our driver against an AnalogItem's EURange lets only moves above 10 % pass", async () => {
  await using p = await pair({ changeEveryMs: 0 });
  const seen: Value[] = [];
  p.sim.setValue("T.Level", 50);
  const sub = await p.driver.subscribe(
    p.driver.plan([tag("level", "ns=1;s=T.Level", "Double")]),
    { value: (_i, v) => void seen.push(v), fail: (_i, e) => void seen.push(e.message) },
    signal(),
    { samplingInterval: "0ms", publishingInterval: "20ms", deadband: "percent", deadbandValue: 10 },
  );
  try {
    await until(10_000, "the first value", () => seen.length === 1, () => seen);
    for (const v of [52, 55, 59.9, 61, 65, 70.9, 71.5, 75, 80, 81.4, 90]) {
      p.sim.setValue("T.Level", v);
      await new Promise((r) => setTimeout(r, 60));
    }
    await until(10_000, "90", () => seen.includes(90), () => seen);
    assertEquals(seen, [50, 61, 71.5, 90]);
  } finally {
    await sub.close();
  }
});

Deno.test("users, anonymous and faults come from the YAML: a password is needed, every answer is slow", async () => {
  const config = parseSimConfig(
    [
      "security: { anonymous: false, users: [{ user: op, password: pw1 }] }",
      "faults: { slow: 300ms }",
      "objects: { P: { variables: { X: { type: Double, value: 4.5 } } } }",
    ].join("\n"),
    "secure.yaml",
  );
  await using sim = await startOpcuaSimulator({ config, changeEveryMs: 0 });
  assertEquals(sim.proxy?.delayMs, 300);
  const connect = async (extra: Record<string, unknown>) => {
    const d = new OpcuaDriver(
      {
        name: "secure",
        driver: "opcua",
        config: { endpoint: sim.endpoint, pki, timeout: "20s", ...extra },
        tags: new Map(),
      },
      { log: nullLogger, clock: systemClock },
    );
    await d.connect(signal());
    return d;
  };
  const refused = await connect({}).then(async (d) => {
    await d.close();
    return "connected";
  }, (e) => String(e));
  assertMatch(refused, /anonymous/i);
  const d = await connect({ user: "op", password: "pw1" });
  try {
    const t0 = performance.now();
    const [r] = await d.read(d.plan([tag("x", "ns=1;s=P.X", "Double")]), signal());
    assertEquals(r?.ok && r.value, 4.5);
    assert(performance.now() - t0 >= 300, "the answer went through the slow proxy");
  } finally {
    await d.close();
  }
});
