/**
 * @module
 * The pure codecs, without sockets: addresses and their request paths, route paths, atomic
 * values and STRING, Multiple Service Packets, Forward Open parameters, symbol entries,
 * templates, ListIdentity, status names, and the planner's packing.
 */

import { assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { decodePath, encodePath, parseAddress, parseRoutePath } from "./address.ts";
import {
  encodeSymbols,
  forwardOpen,
  multipleService,
  readForwardOpen,
  readSymbols,
  request,
  splitMultiple,
} from "./cip.ts";
import { encodeIdentity, readIdentities } from "./encap.ts";
import { describeStatus } from "./status.ts";
import { decodeTemplate } from "./template.ts";
import {
  type AtomicType,
  decodeAtomic,
  decodeAtomicAt,
  decodeString,
  decodeValues,
  encodeAtomic,
  encodeString,
  TYPE_CODES,
  unpackBits,
} from "./types.ts";
import { makePlan } from "../tcp/driver.ts";
import { TagStore, templateDefinition } from "../simulator/store.ts";

Deno.test("addresses parse into program, parts, indexes and bit, and refuse what Logix would", () => {
  assertEquals(parseAddress("Program:Main.Motor[2,1].Speed.3"), {
    text: "Program:Main.Motor[2,1].Speed.3",
    program: "Program:Main",
    parts: [{ name: "Motor", indexes: [2, 1] }, { name: "Speed", indexes: [] }],
    bit: 3,
  });
  for (
    const [bad, why] of [
      ["", /empty/],
      ["Tag[1,2,3,4]", /at most 3 dimensions/],
      ["3Tag", /can only be the last part|not a tag/],
      ["A..B", /empty part/],
      ["Program:Main", /Program:<program>.<tag>/],
      ["T.64", /beyond 63/],
    ] as const
  ) {
    assertMatch(msg(() => parseAddress(bad)), why);
  }
});

function msg(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

Deno.test("request paths: symbolic segments padded to even, 8/16/32-bit elements, and back", () => {
  const p = encodePath(parseAddress("Program:P.Abc[5,300,70000]"));
  assertEquals([...p.subarray(0, 12)], [
    0x91,
    9,
    ..."Program:P".split("").map((c) => c.charCodeAt(0)),
    0,
  ]);
  assertEquals(decodePath(p), {
    names: ["Program:P", "Abc"],
    indexes: [[], [5, 300, 70000]],
    logical: [],
  });
  assertEquals(p.length % 2, 0);
});

Deno.test("route paths: backplane slots and IP links as port segments", () => {
  assertEquals([...parseRoutePath("1,0")], [1, 0]);
  assertEquals([...parseRoutePath("1,1,2,10.0.0.9,1,0")], [
    1,
    1,
    0x12,
    8,
    ..."10.0.0.9".split("").map((c) => c.charCodeAt(0)),
    1,
    0,
  ]);
  assertMatch(msg(() => parseRoutePath("1")), /pairs of port,link/);
  assertMatch(msg(() => parseRoutePath("1,x")), /neither a slot/);
});

Deno.test("atomic values encode within range, STRING holds 82 Latin-1 characters, BOOL arrays unpack", () => {
  const v = new DataView(new ArrayBuffer(8));
  assertMatch(msg(() => encodeAtomic(v, 0, "SINT", 128)), /does not fit SINT \(-128..127\)/);
  assertMatch(msg(() => encodeAtomic(v, 0, "UDINT", -1)), /does not fit UDINT/);
  assertMatch(msg(() => encodeAtomic(v, 0, "LINT", 2n ** 63n)), /does not fit LINT/);
  encodeAtomic(v, 0, "ULINT", 2n ** 64n - 1n);
  assertEquals(decodeValues({ atomic: "ULINT" }, new Uint8Array(v.buffer), 1), 2n ** 64n - 1n);
  assertEquals(decodeString(encodeString("Pump 1"), 0), "Pump 1");
  assertMatch(msg(() => encodeString("x".repeat(83))), /a STRING holds 82/);
  assertMatch(msg(() => encodeString("€")), /cannot hold/);
  assertEquals(unpackBits([0b1010, 1], 1, 33), [
    true,
    false,
    true,
    ...Array(28).fill(false),
    true,
    false,
  ]);
  assertMatch(msg(() => decodeValues({ atomic: "DINT" }, new Uint8Array(4), 2)), /holds 1 of 2/);
});

Deno.test("decodeAtomicAt reads every atomic type from the bytes as decodeAtomic does through a view", () => {
  // Edge patterns (sign bits, all ones, NaN and infinities of both float sizes) and random bytes.
  const patterns = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
    [0x00, 0x00, 0x80, 0x7f, 0x00, 0x00, 0xf0, 0x7f],
    [0x00, 0x00, 0xc0, 0x7f, 0x00, 0x00, 0xf8, 0xff],
    [0x7f, 0x01, 0xfe, 0x80, 0x12, 0x34, 0x56, 0x78],
  ];
  let seed = 7;
  for (let i = 0; i < 200; i++) {
    patterns.push(
      Array.from({ length: 8 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24),
    );
  }
  for (const p of patterns) {
    // At an odd offset inside a larger buffer, as values sit in a reply.
    const b = new Uint8Array([9, 9, 9, ...p, 9]);
    for (const type of Object.keys(TYPE_CODES) as AtomicType[]) {
      const want = decodeAtomic(new DataView(b.buffer, 3), 0, type);
      const got = decodeAtomicAt(b, 3, type);
      assertEquals(
        Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)),
        true,
        `${type} of ${p}: ${got} vs ${want}`,
      );
    }
  }
});

Deno.test("Multiple Service Packets carry offsets from the count and split back", () => {
  const a = request(0x4c, encodePath(parseAddress("A")), new Uint8Array([1, 0]));
  const b = request(0x4c, encodePath(parseAddress("Bb")), new Uint8Array([1, 0]));
  const msp = multipleService([a, b]);
  assertEquals([...msp.subarray(0, 6)], [0x0a, 2, 0x20, 0x02, 0x24, 0x01]);
  assertEquals(splitMultiple(msp.subarray(6)).map((x) => [...x]), [[...a], [...b]]);
});

Deno.test("Forward Open: large and standard parameters, read back by the target", () => {
  const triad = { serial: 7, vendorId: 0x1337, originatorSerial: 99 };
  for (const [large, size] of [[true, 4002], [false, 504]] as const) {
    const fo = forwardOpen({ large, size, toConnectionId: 5, triad, route: parseRoutePath("1,0") });
    assertEquals(fo[0], large ? 0x5b : 0x54);
    assertEquals(readForwardOpen(fo.subarray(6), large), { toConnectionId: 5, triad, size });
  }
});

Deno.test("symbol entries, templates and ListIdentity round-trip through their codecs", () => {
  const e = {
    instance: 300,
    name: "Speed",
    type: 0xca,
    dims: [0, 0, 0] as [number, number, number],
  };
  assertEquals(readSymbols(encodeSymbols([e, { ...e, instance: 301, name: "X" }])).length, 2);
  const store = new TagStore({
    Motor: { Run: "BOOL", Stop: "BOOL", Amps: "REAL", Tags: { type: "DINT", dims: 3 } },
  });
  const t = [...store.templates.values()].find((x) => x.name === "Motor")!;
  const d = decodeTemplate(templateDefinition(t), t.members.length);
  assertEquals(d.name, "Motor");
  assertEquals(
    d.members.filter((m) => !m.hidden).map((m) => [m.name, m.type, m.offset, m.bit ?? m.array]),
    [["Run", "BOOL", 0, 0], ["Stop", "BOOL", 0, 1], ["Amps", "REAL", 4, 0], ["Tags", "DINT", 8, 3]],
  );
  const id = {
    vendorId: 1,
    deviceType: 14,
    productCode: 166,
    revision: "33.011",
    status: 0x60,
    serial: 0xc0ffee,
    productName: "1756-L83E/B",
    state: 3,
    address: "10.0.0.5",
  };
  assertEquals(readIdentities(encodeIdentity(id)), [id]);
});

Deno.test("statuses are named with their extended status", () => {
  assertEquals(describeStatus(0x05), "Path destination unknown (CIP status 0x05)");
  assertEquals(
    describeStatus(0x01, [0x0113]),
    "Connection failure (CIP status 0x01, extended 0x0113: Out of connections)",
  );
  assertEquals(
    describeStatus(0xff, [0x2105]),
    "General error (CIP status 0xFF, extended 0x2105: Number of elements beyond the end of the tag)",
  );
});

Deno.test("the planner keeps requests and replies under the connection size and reports bad tags", () => {
  const tags = Array.from({ length: 200 }, (_, i) => ({
    name: `t${i}`,
    address: i === 7 ? "Bad..Tag" : `T${i}`,
    type: "REAL",
    writable: false,
    config: {},
  }));
  const plan = makePlan(tags, 504);
  for (const p of plan.packets) {
    assertEquals(
      p.requestBytes <= 504 && p.replyBytes <= 504,
      true,
      JSON.stringify(p.requestBytes),
    );
  }
  assertEquals(plan.packets.reduce((n, p) => n + p.tags.length, 0), 199);
  assertMatch(plan.describe().join("\n"), /not read: t7: Cannot parse tag address "Bad..Tag"/);
});
