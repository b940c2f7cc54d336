/** @module Tests of the Modbus tags' value kinds. */

import type { TagConfig } from "../../../engine/plugin.ts";
import { assertEquals } from "../_test_assert.ts";
import { modbusValueKind } from "./kind.ts";
import { modbusRtu, modbusRtuTcp, modbusTcp } from "../mod.ts";

function tag(type: string, extra: Record<string, unknown> = {}): TagConfig {
  return { name: "t", address: "HR0", type, writable: false, config: { type, ...extra } };
}

Deno.test("modbusValueKind() gives each type's kind, and array for count above 1", () => {
  const kinds = Object.fromEntries(
    [
      "bool",
      "int16",
      "uint16",
      "int32",
      "uint32",
      "int64",
      "uint64",
      "float32",
      "float64",
      "string",
    ]
      .map((t) => [t, modbusValueKind(tag(t))]),
  );
  assertEquals(kinds, {
    bool: "boolean",
    int16: "integer",
    uint16: "integer",
    int32: "integer",
    uint32: "integer",
    int64: "bigint",
    uint64: "bigint",
    float32: "float",
    float64: "float",
    string: "string",
  });
  assertEquals(modbusValueKind(tag("int16", { count: 4 })), "array");
  assertEquals(modbusValueKind(tag("int16", { count: 1 })), "integer");
  for (const m of [modbusTcp, modbusRtu, modbusRtuTcp]) {
    assertEquals(m.valueKind(tag("float32")), "float");
    assertEquals(m.subscribeSpec, undefined);
  }
});
