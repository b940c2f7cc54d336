/**
 * @module
 * The simulator's YAML config without a server: every problem named with `file:line:column`
 * (unknown keys, bad types and values, templates, cross references, YAML syntax), the two
 * shipped configs valid, the demo declaring the static variables the driver tests read, and
 * `bifrost sim opcua --check` as a user runs it.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { BifrostError } from "../../../engine/plugin.ts";
import {
  DEMO_CONFIG_URL,
  expandVariables,
  loadSimConfig,
  parseSimConfig,
  type SimConfig,
} from "./config.ts";
import { STATIC_ARRAYS, STATIC_SCALARS } from "./content.ts";

/** The problems of a config text, formatted. */
function problems(text: string): string[] {
  try {
    parseSimConfig(text, "t.yaml");
  } catch (e) {
    assert(e instanceof BifrostError && e.code === "CONFIG_INVALID", String(e));
    const issues = e.details.issues as { line: number; column: number; message: string }[];
    return issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  throw new Error("the config was accepted");
}

Deno.test("parseSimConfig() names each problem with its line and column", () => {
  const text = [
    "changeEvery: soon", //                                                    1
    "objects:", //                                                             2
    "  Demo:", //                                                              3
    "    variables:", //                                                       4
    "      A: { type: Double, wirtable: true }", //                            5
    "      B: { type: Dubble }", //                                            6
    "      C: { type: Int16, value: 40000 }", //                               7
    "      D: { type: String, value: 5 }", //                                  8
    "      E: { type: Double, generator: { kind: wobble } }", //              9
    "      F: { type: String, generator: ramp }", //                          10
    "      G: { type: Double, euRange: [100, 0] }", //                         11
    "      'H{i}': { type: Double }", //                                      12
    "      I.J: { type: Double }", //                                          13
    "      K: { type: 'Int32[]', value: [1, x] }", //                           14
    "    methods:", //                                                        15
    "      M: { kind: set }", //                                              16
    "      N: { kind: fail, status: Oops }", //                               17
    "    alarms:", //                                                         18
    "      L: { type: ExclusiveLimitAlarm, input: Demo.A, high: 5, low: 9 }", // 19
    "      P: { type: LimitAlarm, input: Demo.A, high: 5 }", //               20
    "security: { modes: [None, Encrypt], users: [{ user: op }] }", //       21
    "faults: { slow: -1s }", //                                               22
  ].join("\n");
  assertEquals(problems(text), [
    `1:14 changeEvery must be a duration such as "500ms" or "10s", got "soon"`,
    `5:26 Unknown key "wirtable" in variable "Demo.A" (known: type, value, writable, generator, euRange, units, repeat)`,
    `6:18 Unknown type "Dubble" of variable "Demo.B" (known: Boolean, SByte, Byte, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double, String, DateTime, Guid, ByteString, XmlElement, NodeId, ExpandedNodeId, StatusCode, QualifiedName, LocalizedText, and arrays such as Double[])`,
    `7:32 The value of variable "Demo.C" does not fit: 40000 is outside Int16 range -32768..32767`,
    `8:33 The value of variable "Demo.D" must be text (type String), got 5`,
    `9:45 generator kind of variable "Demo.E" must be one of constant, ramp, sine, square, toggle, random, random-walk, counter, got "wobble"`,
    `10:37 The variable "Demo.F" of type String cannot have a generator (numeric or Boolean scalars only)`,
    `11:35 euRange of variable "Demo.G" must be [low, high] with low below high, got [100,0]`,
    `12:7 The variable "Demo.H{i}" has {i} in its name but no repeat: N`,
    `13:7 The variable name "I.J" must be non-empty and without "." (dots join NodeIds)`,
    `14:36 The value of variable "Demo.K" (element 1) does not fit: "x" is not an integer (Int32)`,
    `16:10 The method "Demo.M" (set) needs variable: (the id of the variable it sets)`,
    `17:32 status of method "Demo.N" must be a Bad status code name (BadUserAccessDenied...), got "Oops"`,
    `19:10 The limits of alarm "Demo.L" must rise: low 9, high 5`,
    `20:18 type of alarm "Demo.P" must be one of ExclusiveLimitAlarm, NonExclusiveLimitAlarm, got "LimitAlarm"`,
    `21:27 security.modes item must be one of None, Sign, SignAndEncrypt, got "Encrypt"`,
    `21:45 A user needs user: and password:`,
    `22:17 faults.slow must be a duration such as "500ms" or "10s", got "-1s"`,
  ]);
});

Deno.test("parseSimConfig() checks references and duplicates once the whole file is read", () => {
  const text = [
    "objects:",
    "  Plant:",
    "    variables:",
    "      Level: { type: Double }",
    "      Name: { type: String }",
    "    folders:",
    "      Tank: { variables: { X: { type: Double } } }",
    "    methods:",
    "      Set: { kind: set, variable: Plant.Nope }",
    "    alarms:",
    "      High: { type: ExclusiveLimitAlarm, input: Plant.Name, high: 1 }",
    "      Tank: { type: ExclusiveLimitAlarm, input: Plant.Tank.Gone, high: 1 }",
    "  Other:",
    "    variables:",
    "      Level: { type: Double }",
  ].join("\n");
  assertEquals(problems(text), [
    `9:7 Method "Plant.Set" sets "Plant.Nope": no such variable`,
    `11:7 Alarm "Plant.High" watches "Plant.Name" of type String: a limit alarm needs a numeric scalar (Double, Float, Int32...)`,
    `12:7 Alarm "Plant.Tank" watches "Plant.Tank.Gone": no such variable`,
  ]);
  assertEquals(
    problems(
      "objects:\n  A:\n    variables: { X: { type: Double } }\n    methods: { X: { kind: add } }",
    ),
    [
      `4:16 "A.X" is defined twice (first at t.yaml:3:18)`,
    ],
  );
});

Deno.test("parseSimConfig() reports YAML syntax, an empty file and a missing objects:", () => {
  assertMatch(problems("objects:\n  A: { variables: [\n")[0]!, /^3:1 /);
  assertEquals(problems("objects:\n  A: {}\nobjects: {}"), [
    "3:1 YAML: Map keys must be unique",
  ]);
  assertEquals(problems(""), ["1:1 The config is empty: it needs objects:"]);
  assertEquals(problems("changeEvery: 1s\n"), [
    "1:1 The config has no objects: (the folders under Objects)",
  ]);
  assertEquals(problems("- a\n"), ["1:1 The config must be a mapping, got a list"]);
  try {
    parseSimConfig("objects: { A: { variables: { X: { type: Nope } } } }", "plant.yaml");
  } catch (e) {
    assert(e instanceof BifrostError);
    assertMatch(
      e.message,
      /^Invalid OPC UA simulator config \(1 problem\):\nplant\.yaml:1:41 error: Unknown type "Nope"/,
    );
    assertEquals(e.location, { file: "plant.yaml", line: 1, column: 41 });
  }
});

Deno.test("repeat: makes N variables from a template, {i} in the name and the value", () => {
  const c = parseSimConfig(
    [
      "objects:",
      "  Many:",
      "    variables:",
      "      'V{i}': { type: Double, repeat: 3, value: '{i}', writable: true }",
      "      'S{i}': { type: String, repeat: 2, value: 'sensor {i}' }",
      "      'B{i}': { type: Int64, repeat: 2, value: '{i}' }",
    ].join("\n"),
  );
  const vars = expandVariables(c);
  assertEquals(vars.map((v) => [v.id, v.value]), [
    ["Many.V0", 0],
    ["Many.V1", 1],
    ["Many.V2", 2],
    ["Many.S0", "sensor 0"],
    ["Many.S1", "sensor 1"],
    ["Many.B0", 0n],
    ["Many.B1", 1n],
  ]);
  assertEquals(expandVariables(c, 1).map((v) => v.id), [
    "Many.V0",
    "Many.S0",
    "Many.S1",
    "Many.B0",
    "Many.B1",
  ]);
  assertEquals(
    problems("objects: { A: { variables: { 'X{i}': { type: Double, repeat: 100001 } } } }"),
    [
      '1:62 repeat of variable "A.X{i}" must be an integer from 0 to 100000, got 100001',
    ],
  );
  assertEquals(problems("objects: { A: { variables: { X: { type: Double, repeat: 2 } } } }"), [
    `1:30 The variable "A.X" has repeat: but no {i} in its name (e.g. "X{i}")`,
  ]);
});

Deno.test("the demo config keeps today's NodeIds and static values; the plant config is valid", async () => {
  const demo: SimConfig = await loadSimConfig(DEMO_CONFIG_URL);
  assertEquals(demo.file, "simulators/opcua-demo.yaml");
  const vars = new Map(expandVariables(demo, 3).map((v) => [v.id, v]));
  for (const [t, value] of STATIC_SCALARS) {
    assertEquals([vars.get(`Demo.Static.${t}`)?.value, vars.get(`Demo.Static.${t}`)?.writable], [
      value,
      true,
    ], t);
  }
  for (const [t, value] of STATIC_ARRAYS) {
    assertEquals(vars.get(`Demo.Static.${t}Array`)?.value, value, `${t}[]`);
  }
  for (
    const id of [
      "Demo.Setpoint",
      "Demo.ReadOnly",
      "Demo.Dynamic.Ramp",
      "Demo.Dynamic.Sine",
      "Demo.Dynamic.Counter",
      "Demo.Boiler.Temperature",
      "Demo.Many.2",
    ]
  ) {
    assert(vars.has(id), `${id} is missing from the demo`);
  }
  assertEquals([vars.get("Demo.Setpoint")!.writable, vars.get("Demo.ReadOnly")!.writable], [
    true,
    false,
  ]);
  assertEquals(vars.get("Demo.Many.2")!.value, 2);
  const plant = await loadSimConfig(
    new URL("../../../simulators/opcua-plant.yaml", import.meta.url),
  );
  assertEquals(plant.security.users, [{ user: "operator", password: "operator1" }]);
  assertEquals(
    expandVariables(plant).filter((v) => v.id.startsWith("Plant.Tanks.Sensors.")).length,
    50,
  );
});

Deno.test("bifrost sim opcua --check validates a config without starting a server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-opcua-check-" });
  try {
    const bad = `${dir}/bad.yaml`;
    await Deno.writeTextFile(
      bad,
      "objects:\n  A:\n    variables:\n      X: { type: Double, value: hot }\n",
    );
    const run = async (...args: string[]) => {
      const o = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../tools/sim_cli.ts", import.meta.url).pathname,
          "--check",
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
    };
    const [failed, demo, many] = await Promise.all([
      run("--config", bad),
      run(),
      run("--config", bad.replace("bad", "missing")),
    ]);
    assertEquals(failed.code, 1, failed.err);
    assertMatch(
      failed.err,
      new RegExp(
        `${bad}:4:33 error: The value of variable "A.X" does not fit: "hot" is not a number \\(Double\\)`,
      ),
    );
    assertEquals(demo.code, 0, demo.err);
    assertMatch(
      demo.out,
      /^simulators\/opcua-demo\.yaml: OK \(7 folders, 38 variables, 4 methods, 2 alarms\)$/m,
    );
    assertEquals(many.code, 1, many.err);
    assertMatch(many.err, /Cannot read .*missing\.yaml: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the README's YAML example is a valid config", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const at = readme.indexOf("```yaml", readme.indexOf("### The YAML")) + "```yaml\n".length;
  const c = parseSimConfig(readme.slice(at, readme.indexOf("```", at)), "README.md");
  assertEquals(expandVariables(c).length, 1004);
  assertEquals(c.security.users, [{ user: "operator", password: "secret" }]);
});
