import { assertEquals, assertThrows } from "../_test_assert.ts";
import type { ByteOrder, DataType } from "./spec.ts";
import {
  decodeRegisters,
  encodeRegisters,
  getBit,
  getRegisterBit,
  packBits,
  registerCount,
} from "./values.ts";
import type { Value } from "../../../engine/plugin.ts";

type Case = { type: DataType; value: Value; length?: number; bytes: Record<ByteOrder, number[]> };

const CASES: Case[] = [
  {
    type: "int16",
    value: -2,
    bytes: { ABCD: [0xff, 0xfe], CDAB: [0xff, 0xfe], BADC: [0xfe, 0xff], DCBA: [0xfe, 0xff] },
  },
  {
    type: "uint16",
    value: 0x1234,
    bytes: { ABCD: [0x12, 0x34], CDAB: [0x12, 0x34], BADC: [0x34, 0x12], DCBA: [0x34, 0x12] },
  },
  {
    type: "int32",
    value: 0x01020304,
    bytes: {
      ABCD: [1, 2, 3, 4],
      CDAB: [3, 4, 1, 2],
      BADC: [2, 1, 4, 3],
      DCBA: [4, 3, 2, 1],
    },
  },
  {
    type: "int32",
    value: -123456789, // 0xF8A432EB
    bytes: {
      ABCD: [0xf8, 0xa4, 0x32, 0xeb],
      CDAB: [0x32, 0xeb, 0xf8, 0xa4],
      BADC: [0xa4, 0xf8, 0xeb, 0x32],
      DCBA: [0xeb, 0x32, 0xa4, 0xf8],
    },
  },
  {
    type: "uint32",
    value: 0xdeadbeef,
    bytes: {
      ABCD: [0xde, 0xad, 0xbe, 0xef],
      CDAB: [0xbe, 0xef, 0xde, 0xad],
      BADC: [0xad, 0xde, 0xef, 0xbe],
      DCBA: [0xef, 0xbe, 0xad, 0xde],
    },
  },
  {
    type: "float32",
    value: 42,
    bytes: {
      ABCD: [0x42, 0x28, 0, 0],
      CDAB: [0, 0, 0x42, 0x28],
      BADC: [0x28, 0x42, 0, 0],
      DCBA: [0, 0, 0x28, 0x42],
    },
  },
  {
    type: "int64",
    value: 0x0102030405060708n,
    bytes: {
      ABCD: [1, 2, 3, 4, 5, 6, 7, 8],
      CDAB: [7, 8, 5, 6, 3, 4, 1, 2],
      BADC: [2, 1, 4, 3, 6, 5, 8, 7],
      DCBA: [8, 7, 6, 5, 4, 3, 2, 1],
    },
  },
  {
    type: "int64",
    value: -2n,
    bytes: {
      ABCD: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
      CDAB: [0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      BADC: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff],
      DCBA: [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    },
  },
  {
    type: "uint64",
    value: 0xfedcba9876543210n,
    bytes: {
      ABCD: [0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10],
      CDAB: [0x32, 0x10, 0x76, 0x54, 0xba, 0x98, 0xfe, 0xdc],
      BADC: [0xdc, 0xfe, 0x98, 0xba, 0x54, 0x76, 0x10, 0x32],
      DCBA: [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe],
    },
  },
  {
    type: "float64",
    value: 123.456, // 0x405EDD2F1A9FBE77
    bytes: {
      ABCD: [0x40, 0x5e, 0xdd, 0x2f, 0x1a, 0x9f, 0xbe, 0x77],
      CDAB: [0xbe, 0x77, 0x1a, 0x9f, 0xdd, 0x2f, 0x40, 0x5e],
      BADC: [0x5e, 0x40, 0x2f, 0xdd, 0x9f, 0x1a, 0x77, 0xbe],
      DCBA: [0x77, 0xbe, 0x9f, 0x1a, 0x2f, 0xdd, 0x5e, 0x40],
    },
  },
  {
    type: "string",
    value: "ABC",
    length: 2,
    bytes: {
      ABCD: [0x41, 0x42, 0x43, 0],
      CDAB: [0x41, 0x42, 0x43, 0],
      BADC: [0x42, 0x41, 0, 0x43],
      DCBA: [0x42, 0x41, 0, 0x43],
    },
  },
];

for (const c of CASES) {
  for (const order of ["ABCD", "CDAB", "BADC", "DCBA"] as const) {
    const expected = c.bytes[order];
    Deno.test(`encodeRegisters(${c.type} ${c.value}, ${order}) gives bytes ${expected.join(",")}`, () => {
      assertEquals([...encodeRegisters(c.value, c.type, order, c.length)], expected);
    });
    Deno.test(`decodeRegisters(${c.type}, ${order}) reads ${c.value} at an offset`, () => {
      const bytes = new Uint8Array([0xaa, 0xbb, ...expected, 0xcc, 0xdd]);
      assertEquals(decodeRegisters(bytes, 2, c.type, order, c.length), c.value);
    });
  }
}

Deno.test("registerCount() counts registers per type", () => {
  assertEquals(
    (["bool", "int16", "uint32", "float32", "int64", "float64"] as const).map((t) =>
      registerCount(t)
    ),
    [1, 1, 2, 2, 4, 4],
  );
  assertEquals(registerCount("string", 10), 10);
});

Deno.test("decodeRegisters() reads a string up to its first NUL and a full one without", () => {
  assertEquals(
    decodeRegisters(new Uint8Array([0x48, 0x69, 0, 0x41]), 0, "string", "ABCD", 2),
    "Hi",
  );
  assertEquals(
    decodeRegisters(new Uint8Array([0x48, 0x69, 0x21, 0x41]), 0, "string", "ABCD", 2),
    "Hi!A",
  );
});

Deno.test("decodeRegisters() refuses to read past the data", () => {
  assertThrows(
    () => decodeRegisters(new Uint8Array(2), 0, "float32", "ABCD"),
    RangeError,
    "needs 4 bytes",
  );
});

Deno.test("encodeRegisters() rejects values that do not fit the type", () => {
  assertThrows(
    () => encodeRegisters(70000, "int16", "ABCD"),
    RangeError,
    "out of range -32768..32767",
  );
  assertThrows(() => encodeRegisters(-1, "uint32", "ABCD"), RangeError, "out of range");
  assertThrows(() => encodeRegisters(1.5, "int32", "ABCD"), RangeError, "not an integer");
  assertThrows(() => encodeRegisters(2n ** 64n, "uint64", "ABCD"), RangeError, "out of range");
  assertThrows(() => encodeRegisters("abc", "float32", "ABCD"), RangeError, "not a number");
  assertThrows(() => encodeRegisters("toolong", "string", "ABCD", 2), RangeError, "7-byte string");
});

Deno.test("encodeRegisters() takes integers as number, bigint or text for 64-bit types", () => {
  assertEquals([...encodeRegisters(1, "uint64", "ABCD")], [0, 0, 0, 0, 0, 0, 0, 1]);
  assertEquals([...encodeRegisters("258", "int64", "ABCD")], [0, 0, 0, 0, 0, 0, 1, 2]);
});

Deno.test("bit helpers read packed coils LSB first and register bits from bit 0", () => {
  const packed = packBits([true, false, false, true, false, false, false, false, true]);
  assertEquals([...packed], [0b1001, 0b1]);
  assertEquals([0, 1, 3, 8].map((i) => getBit(packed, i)), [true, false, true, true]);
  const reg = new Uint8Array([0x80, 0x01]);
  assertEquals([0, 1, 15].map((b) => getRegisterBit(reg, 0, b)), [true, false, true]);
});

Deno.test("decodeRegisters() gives a float32 as the shortest decimal of that float32", () => {
  for (const order of ["ABCD", "CDAB", "BADC", "DCBA"] as const) {
    const bytes = encodeRegisters(123.456, "float32", order);
    assertEquals(decodeRegisters(bytes, 0, "float32", order), 123.456);
    assertEquals(
      decodeRegisters(encodeRegisters(-0.1, "float32", order), 0, "float32", order),
      -0.1,
    );
  }
});
