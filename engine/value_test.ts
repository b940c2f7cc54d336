import assert from "node:assert/strict";
import type { ValueKind } from "./driver.ts";
import { isBifrostError } from "./errors.ts";
import { engineeringKind, parseValue, shortestFloat32 } from "./value.ts";

Deno.test("shortestFloat32() gives the shortest decimal that reads back as the same float32", () => {
  assert.equal(shortestFloat32(Math.fround(123.456)), 123.456);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(-21.37)), -21.37);
  assert.equal(shortestFloat32(Math.fround(3.4028234663852886e38)), 3.4028235e38);
  assert.equal(shortestFloat32(Math.fround(1e-40)), 1e-40);
  assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
  assert.equal(shortestFloat32(Math.fround(1e10)), 1e10);
  assert.equal(shortestFloat32(42), 42);
  assert.equal(shortestFloat32(-0), -0);
  assert.ok(Number.isNaN(shortestFloat32(NaN)));
  assert.equal(shortestFloat32(-Infinity), -Infinity);
});

Deno.test("shortestFloat32() reads back exactly and is never longer than toPrecision's shortest", () => {
  const dv = new DataView(new ArrayBuffer(4));
  // A fixed spread of bit patterns over every exponent (no randomness in tests).
  for (let bits = 0x00000001; bits < 0x7f800000; bits += 0x000a3d71) {
    for (const sign of [0, 0x80000000]) {
      dv.setUint32(0, (bits | sign) >>> 0);
      const x = dv.getFloat32(0);
      const y = shortestFloat32(x);
      assert.equal(Math.fround(y), x, `${x} -> ${y}`);
      let p = 1;
      while (Math.fround(+x.toPrecision(p)) !== x) p++;
      // Same digit count as toPrecision's shortest (at an exact tie either neighbour will do).
      const digits = (v: number) => v.toExponential().replace(/e.*|[-.]/g, "").length;
      assert.equal(digits(y), digits(+x.toPrecision(p)), `${x} -> ${y}: ${p} digits`);
    }
  }
});

Deno.test("parseValue() parses a typed value by kind", () => {
  assert.equal(parseValue("float", "21.5", "sp"), 21.5);
  assert.equal(parseValue("float", " -4.25 ", "sp"), -4.25);
  assert.equal(parseValue("integer", "-12", "sp"), -12);
  assert.equal(parseValue("bigint", "9007199254740993", "sp"), 9007199254740993n);
  assert.equal(parseValue("boolean", "ON", "sp"), true);
  assert.equal(parseValue("boolean", "0", "sp"), false);
  assert.equal(parseValue("string", " a b ", "sp"), " a b ");
  assert.equal(parseValue("bytes", "0x0A 1B ff", "sp"), "0a1bff");
  assert.deepEqual(parseValue("array", "[1, 2.5, true]", "sp"), [1, 2.5, true]);
});

Deno.test("engineeringKind(): a scaled integer tag is written in engineering units, any number", () => {
  assert.equal(engineeringKind("integer", true), "float");
  assert.equal(engineeringKind("integer", false), "integer");
  assert.equal(engineeringKind("bigint", true), "bigint");
  assert.equal(engineeringKind("float", true), "float");
});

Deno.test("parseValue() refuses a wrong value naming the text, the tag and what it expected", () => {
  const cases: [ValueKind, string, string][] = [
    ["float", "abc", 'Cannot write "abc" to "setpoint": expected a number (float)'],
    ["float", "", 'Cannot write "" to "setpoint": expected a number (float)'],
    ["integer", "2.5", 'Cannot write "2.5" to "setpoint": expected a whole number (integer)'],
    ["bigint", "1e3", 'Cannot write "1e3" to "setpoint": expected a whole number (64-bit integer)'],
    ["boolean", "yes", 'Cannot write "yes" to "setpoint": expected true or false (boolean)'],
    [
      "bytes",
      "abc",
      'Cannot write "abc" to "setpoint": expected hex digits, two per byte, e.g. 0a1bff (bytes)',
    ],
    [
      "array",
      "1,2",
      'Cannot write "1,2" to "setpoint": expected a JSON array, e.g. [1, 2, 3] (array)',
    ],
  ];
  for (const [kind, text, message] of cases) {
    assert.throws(
      () => parseValue(kind, text, "setpoint"),
      (e) => isBifrostError(e, "CONFIG_INVALID") && e.message === message,
    );
  }
});
