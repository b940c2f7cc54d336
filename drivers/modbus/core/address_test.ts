import { assertEquals, assertThrows } from "../_test_assert.ts";
import { formatAddress, parseAddress } from "./address.ts";

Deno.test("parseAddress() reads table letters with 0-based offsets, any case", () => {
  assertEquals(parseAddress("HR100"), { table: "HR", offset: 100 });
  assertEquals(parseAddress("ir0"), { table: "IR", offset: 0 });
  assertEquals(parseAddress("C5"), { table: "C", offset: 5 });
  assertEquals(parseAddress("DI65535"), { table: "DI", offset: 65535 });
});

Deno.test("parseAddress() reads 5- and 6-digit Modicon numbers as 1-based", () => {
  assertEquals(parseAddress("40101"), { table: "HR", offset: 100 });
  assertEquals(parseAddress("400101"), { table: "HR", offset: 100 });
  assertEquals(parseAddress("465536"), { table: "HR", offset: 65535 });
  assertEquals(parseAddress("30001"), { table: "IR", offset: 0 });
  assertEquals(parseAddress("10001"), { table: "DI", offset: 0 });
  assertEquals(parseAddress("00001"), { table: "C", offset: 0 });
});

Deno.test("parseAddress() reads a bit of a register", () => {
  assertEquals(parseAddress("HR100.3"), { table: "HR", offset: 100, bit: 3 });
  assertEquals(parseAddress("40101.15"), { table: "HR", offset: 100, bit: 15 });
});

Deno.test("parseAddress() says what is wrong with a bad address", () => {
  assertThrows(
    () => parseAddress("XR1"),
    RangeError,
    'Cannot parse Modbus address "XR1": expected',
  );
  assertThrows(() => parseAddress("HR70000"), RangeError, "offset must be 0..65535, got 70000");
  assertThrows(() => parseAddress("40000"), RangeError, "counts from 1 to 9999, got 0");
  assertThrows(() => parseAddress("20001"), RangeError, "starts with 0 (coil)");
  assertThrows(() => parseAddress("HR1.16"), RangeError, "bit must be 0..15, got 16");
  assertThrows(() => parseAddress("C1.2"), RangeError, "only registers (HR, IR) have bits, not C");
  assertThrows(() => parseAddress("4001"), RangeError, "expected a table and offset");
});

Deno.test("formatAddress() writes the canonical form", () => {
  assertEquals(formatAddress(parseAddress("40101.2")), "HR100.2");
  assertEquals(formatAddress(parseAddress("00003")), "C2");
});
