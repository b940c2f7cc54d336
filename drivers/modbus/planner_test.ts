import type { TagConfig } from "../../engine/driver.ts";
import { assertEquals } from "./_test_assert.ts";
import { itemReader, type PlanLimits, planRead } from "./planner.ts";
import { resolveTag } from "./tags.ts";
import { decodeItem } from "./write.ts";

const LIMITS: PlanLimits = {
  unitId: 1,
  maxRegistersPerRequest: 125,
  maxBitsPerRequest: 2000,
  maxGap: 16,
};

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: false, config: { address, type, ...extra } };
}

function plan(tags: TagConfig[], limits: Partial<PlanLimits> = {}) {
  return planRead(tags, tags.map((t) => resolveTag(t, "ABCD")), { ...LIMITS, ...limits });
}

Deno.test("planRead() joins neighbouring tags of one table into one request", () => {
  const p = plan([
    tag("temp1", "HR0", "float32"),
    tag("temp2", "HR2", "float32"),
    tag("pressure", "HR4", "int16"),
    tag("setpoint", "HR10", "float32"),
  ]);
  assertEquals(p.describe(), ["FC3 HR0..HR11 (12 regs) unit 1: temp1, temp2, pressure, setpoint"]);
  assertEquals(p.requests[0]!.items.map((i) => [i.index, i.at]), [[0, 0], [1, 2], [2, 4], [3, 10]]);
});

Deno.test("planRead() never mixes tables and keeps plan order for results", () => {
  const p = plan([
    tag("flow", "IR0", "uint32"),
    tag("burner", "C0", "bool"),
    tag("t", "HR0", "int16"),
    tag("alarm", "DI3", "bool"),
    tag("run", "C9", "bool"),
  ]);
  assertEquals(p.describe(), [
    "FC3 HR0 (1 reg) unit 1: t",
    "FC4 IR0..IR1 (2 regs) unit 1: flow",
    "FC1 C0..C9 (10 bits) unit 1: burner, run",
    "FC2 DI3 (1 bit) unit 1: alarm",
  ]);
  assertEquals(p.tags.map((t) => t.name), ["flow", "burner", "t", "alarm", "run"]);
});

Deno.test("planRead() reads through gaps up to maxGap and splits beyond it", () => {
  const tags = [tag("a", "HR0", "int16"), tag("b", "HR17", "int16"), tag("c", "HR35", "int16")];
  assertEquals(plan(tags).describe(), [
    "FC3 HR0..HR17 (18 regs) unit 1: a, b",
    "FC3 HR35 (1 reg) unit 1: c",
  ]);
  assertEquals(plan(tags, { maxGap: 0 }).requests.length, 3);
});

Deno.test("planRead() splits at maxRegistersPerRequest and maxBitsPerRequest", () => {
  const regs = Array.from({ length: 10 }, (_, i) => tag(`r${i}`, `HR${i * 2}`, "float32"));
  assertEquals(plan(regs, { maxRegistersPerRequest: 8 }).describe(), [
    "FC3 HR0..HR7 (8 regs) unit 1: r0, r1, r2, r3",
    "FC3 HR8..HR15 (8 regs) unit 1: r4, r5, r6, r7",
    "FC3 HR16..HR19 (4 regs) unit 1: r8, r9",
  ]);
  const bits = Array.from({ length: 5 }, (_, i) => tag(`c${i}`, `C${i}`, "bool"));
  assertEquals(plan(bits, { maxBitsPerRequest: 2, unitId: 7 }).describe(), [
    "FC1 C0..C1 (2 bits) unit 7: c0, c1",
    "FC1 C2..C3 (2 bits) unit 7: c2, c3",
    "FC1 C4 (1 bit) unit 7: c4",
  ]);
});

Deno.test("planRead() shares a register between bit tags and overlapping tags", () => {
  const p = plan([
    tag("b3", "HR100.3", "bool"),
    tag("b0", "HR100.0", "bool"),
    tag("word", "HR100", "uint16"),
    tag("wide", "40101", "uint32"),
  ]);
  assertEquals(p.describe(), ["FC3 HR100..HR101 (2 regs) unit 1: b3, b0, word, wide"]);
});

Deno.test("planRead() of no tags makes no request", () => {
  assertEquals(plan([]).describe(), []);
});

Deno.test("itemReader() decodes like decodeItem() for every type, byte order and shape", () => {
  const data = new Uint8Array(40).map((_, i) => (i * 37 + 11) & 0xff);
  const pdu = new Uint8Array([3, data.length, ...data]);
  const shapes: [string, Record<string, unknown>][] = [
    ["int16", {}],
    ["uint16", {}],
    ["int32", {}],
    ["uint32", {}],
    ["float32", {}],
    ["float64", {}],
    ["int64", {}],
    ["uint64", {}],
    ["string", { length: 3 }],
    ["int16", { count: 3 }],
    ["float32", { count: 2 }],
  ];
  for (const order of ["ABCD", "CDAB", "BADC", "DCBA"] as const) {
    for (const [type, extra] of shapes) {
      for (const at of [0, 3]) {
        const t = resolveTag(tag("x", `HR${at}`, type, extra), order);
        assertEquals(itemReader(t, at)(pdu), decodeItem(data, at, t), `${type} ${order} @${at}`);
      }
    }
  }
  for (const address of ["C0", "C13", "DI7", "HR2.5", "HR2.12"]) {
    for (const at of [0, 5]) {
      const t = resolveTag(tag("b", address, "bool"), "ABCD");
      assertEquals(itemReader(t, at)(pdu), decodeItem(data, at, t), `${address} @${at}`);
    }
  }
});
