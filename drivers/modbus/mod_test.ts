import { BifrostError, type DeviceConfig, type TagConfig } from "../../engine/plugin.ts";
import { assertEquals, assertThrows } from "./_test_assert.ts";
import { modbusTcp, parseModbusUrl } from "./mod.ts";

function device(
  tags: [string, string, string, Record<string, unknown>?][],
  config = {},
): DeviceConfig {
  const map = new Map<string, TagConfig>();
  for (const [name, address, type, extra] of tags) {
    map.set(name, { name, address, type, writable: false, config: { address, type, ...extra } });
  }
  return { name: "plc", driver: "modbus-tcp", config: { host: "h", ...config }, tags: map };
}

Deno.test("validate() reports bad addresses and types that do not fit the table", () => {
  const issues = modbusTcp.validate!(device([
    ["ok", "HR0", "float32"],
    ["bad", "HX1", "int16"],
    ["coil", "C1", "float32"],
    ["bit", "HR10.2", "int16"],
    ["word", "HR11", "bool"],
    ["text", "HR20", "string"],
  ]));
  assertEquals(issues.map((i) => i.path), [
    ["tags", "bad", "address"],
    ["tags", "coil", "address"],
    ["tags", "bit", "address"],
    ["tags", "word", "address"],
    ["tags", "text", "address"],
  ]);
  assertEquals(
    issues[1]!.message.startsWith('Cannot read float32 from coil C1 of tag "coil"'),
    true,
  );
  assertEquals(issues[3]!.message.includes("name the bit of the register, e.g. HR11.0"), true);
});

Deno.test("validate() rejects tags sharing a register but not distinct bits or opted-in views", () => {
  const issues = modbusTcp.validate!(device([
    ["a", "HR0", "float32"],
    ["b", "HR1", "int16"],
    ["b0", "HR5.0", "bool"],
    ["b1", "HR5.1", "bool"],
    ["b1again", "40006.1", "bool"],
    ["c", "C0", "bool"],
    ["hr", "HR7", "int16"],
    ["raw", "HR0", "uint16", { overlap: true }],
    ["arr", "HR20", "int16", { count: 4 }],
    ["in-arr", "HR23", "int16"],
  ]));
  assertEquals(issues.map((i) => [i.path, i.severity]), [
    [["tags", "b", "address"], undefined],
    [["tags", "b1again", "address"], undefined],
    [["tags", "in-arr", "address"], undefined],
  ]);
  assertEquals(
    issues[0]!.message,
    'Tag "b" (HR1) overlaps tag "a" (HR0): both read HR1; give one of them its own address, or set overlap: true on the one that is a deliberate second view',
  );
});

Deno.test("validate() reports each overlapping tag once and stays linear with many views", () => {
  // Three tags on HR0: the later two each overlap the first (once, not once per pair).
  const three = modbusTcp.validate!(device([
    ["x", "HR0", "int16"],
    ["y", "HR0", "int16"],
    ["z", "HR0", "uint16"],
  ]));
  assertEquals(three.map((i) => i.message.slice(0, 35)), [
    'Tag "y" (HR0) overlaps tag "x" (HR0',
    'Tag "z" (HR0) overlaps tag "x" (HR0',
  ]);
  // 20,000 opted-in views of 8 registers: comparing every pair took 6.5 s, now milliseconds.
  const views: [string, string, string, Record<string, unknown>][] = [];
  for (let i = 0; i < 20_000; i++) views.push([`v${i}`, `HR${i % 8}`, "int16", { overlap: true }]);
  // Quadratic, this took 6.5 s; its time is bench:validate's to measure, not a unit test's.
  assertEquals(modbusTcp.validate!(device(views)), []);
});

Deno.test("validate() checks the simulator block against the tags", () => {
  const d = device([["t", "HR0", "int16"]]);
  d.simulator = { t: { generator: "wobble" }, ghost: { generator: "sine" } };
  assertEquals(modbusTcp.validate!(d).map((i) => i.path), [["simulator", "t"], [
    "simulator",
    "ghost",
  ]]);
});

Deno.test("minIntervalMs() grows with the number of requests, from 10 ms", () => {
  const d = device([["a", "HR0", "int16"]]);
  assertEquals(modbusTcp.minIntervalMs!(d, [...d.tags.values()]), 10);
  const many = device(Array.from({ length: 8 }, (_, i) => [`t${i}`, `HR${i * 100}`, "int16"]));
  assertEquals(modbusTcp.minIntervalMs!(many, [...many.tags.values()]), 40);
});

Deno.test("parseModbusUrl() builds a device and a tag", () => {
  const { device, tag } = parseModbusUrl("modbus://plc.local:5020/3/HR100:float32:CDAB?timeout=2s");
  assertEquals(device.config, { host: "plc.local", port: 5020, unitId: 3, timeout: "2s" });
  assertEquals(device.driver, "modbus-tcp");
  assertEquals([tag.address, tag.type, tag.config.order], ["HR100", "float32", "CDAB"]);
  assertEquals(device.tags.get("HR100"), tag);
  const coil = parseModbusUrl("modbus://10.0.0.5/C3");
  assertEquals([coil.device.config.port, coil.device.config.unitId, coil.tag.type], [
    502,
    1,
    "bool",
  ]);
  assertEquals(parseModbusUrl("modbus://h/40001").tag.type, "uint16");
  assertEquals(parseModbusUrl("modbus://h/HR20:string:8").tag.config.length, 8);
});

Deno.test("parseModbusUrl() says what is wrong", () => {
  const cases: [string, string][] = [
    ["http://h/HR1", "the scheme must be modbus://"],
    ["modbus://h/", "no address"],
    ["modbus://h/300/HR1", "unit id must be 0..255"],
    ["modbus://h/HX1", 'Cannot parse Modbus address "HX1"'],
    ["modbus://h/HR1:float33", '"float33" is neither a type'],
    ["modbus://h/C1:float32", "coils and discrete inputs hold single bits"],
    ["modbus://h/HR1:string", "a string needs a length"],
    ["modbus://h/HR1?speed=3", 'unknown parameter "speed"'],
  ];
  for (const [url, msg] of cases) {
    const e = assertThrows(() => parseModbusUrl(url), BifrostError, msg);
    assertEquals((e as BifrostError).code, "CONFIG_INVALID");
  }
});
