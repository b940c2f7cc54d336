import type { ReadSink, TagConfig, Value } from "../../../engine/plugin.ts";
import { assertEquals } from "../_test_assert.ts";
import { decodeInto, Decoder } from "./plan_decode.ts";
import { type PlanLimits, type PlannedRequest, planRead } from "./planner.ts";
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
  const r = p.requests[0]!;
  assertEquals(r.tagIndexes(), [0, 1, 2, 3]);
  assertEquals(
    [...r.slots.offset.subarray(r.first, r.end)],
    [2, 6, 10, 22],
    "byte offsets in the response PDU",
  );
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

/** Decodes a request of a plan from `pdu` into an array by slot. */
function decoded(r: PlannedRequest, pdu: Uint8Array): Value[] {
  const out: Value[] = [];
  const sink: ReadSink = {
    value: (_index, value) => void out.push(value),
    fail: () => {
      throw new Error("unexpected fail()");
    },
  };
  decodeInto(r, pdu, 0, sink);
  return out;
}

Deno.test("a plan of ordinary tags keeps only typed arrays, no object per tag", () => {
  const n = 1000;
  const tags = Array.from(
    { length: n },
    (_, i) =>
      i % 4 === 3
        ? tag(`c${i}`, `C${i}`, "bool")
        : i % 4 === 2
        ? tag(`b${i}`, `HR${4000 + i}.${i % 16}`, "bool")
        : tag(`t${i}`, `HR${2 * i}`, i % 2 ? "int16" : "float32", {
          order: ["ABCD", "CDAB", "BADC", "DCBA"][i % 4],
        }),
  );
  const p = planRead(tags, tags.map((t) => resolveTag(t, "ABCD")), LIMITS);
  const s = p.requests[0]!.slots;
  for (const a of [s.index, s.offset, s.code, s.bit]) assertEquals(a.length, n);
  assertEquals(s.index.buffer.byteLength, 8 * n, "8 bytes a tag, in one buffer");
  assertEquals(s.code.includes(Decoder.GENERIC), false);
  let first = 0;
  for (const r of p.requests) {
    assertEquals(r.slots, s, "the requests share the plan's arrays");
    assertEquals(r.first, first, "and own consecutive ranges of them");
    assertEquals(r.generic.length, 0, `${r.range} keeps no resolved tag`);
    first = r.end;
  }
  assertEquals(first, n);
  assertEquals([...s.index].sort((a, b) => a - b), [...tags.keys()]);
});

Deno.test("only arrays, strings and 64-bit tags keep their resolved tag", () => {
  const p = plan([
    tag("a", "HR0", "int16", { count: 2 }),
    tag("b", "HR2", "uint32"),
    tag("c", "HR4", "string", { length: 2 }),
    tag("d", "HR6", "float64"),
    tag("e", "C0", "bool", { count: 3 }),
    tag("f", "C3", "bool"),
  ]);
  assertEquals(p.requests.map((r) => r.generic.map((t) => t.name)), [["a", "c", "d"], ["e"]]);
});

Deno.test("decodeInto() decodes like decodeItem() for every type, byte order and shape", () => {
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
      // `at` comes from the request's start (HR0, planned with a tag at HR0).
      const tags = [0, 3].map((at) => tag(`x${at}`, `HR${at}`, type, extra));
      const resolved = tags.map((t) => resolveTag(t, order));
      const p = planRead(tags, resolved, LIMITS);
      assertEquals(p.requests.length, 1);
      const expected = resolved.map((t) => decodeItem(data, t.start, t));
      assertEquals(decoded(p.requests[0]!, pdu), expected, `${type} ${order}`);
    }
  }
  for (const [first, address] of [["C0", "C13"], ["DI0", "DI7"], ["HR0.0", "HR2.5"]]) {
    const tags = [tag("b0", first!, "bool"), tag("b", address!, "bool")];
    tags.push(tag("b2", address!.replace(/\d+$/, (d) => String(Number(d) + 7)), "bool"));
    const resolved = tags.map((t) => resolveTag(t, "ABCD"));
    const p = planRead(tags, resolved, LIMITS);
    const expected = resolved.map((t) => decodeItem(data, t.start, t));
    assertEquals(decoded(p.requests[0]!, pdu), expected, address);
  }
  const coils = [tag("c0", "C0", "bool"), tag("arr", "C5", "bool", { count: 12 })];
  const p = planRead(coils, coils.map((t) => resolveTag(t, "ABCD")), LIMITS);
  assertEquals(decoded(p.requests[0]!, pdu), [
    decodeItem(data, 0, resolveTag(coils[0]!, "ABCD")),
    decodeItem(data, 5, resolveTag(coils[1]!, "ABCD")),
  ]);
});
