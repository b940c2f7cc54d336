/** @module Tests of the `device/tag` globs of the live-data API. */

import assert from "node:assert/strict";
import { compilePattern } from "./glob.ts";

Deno.test("* matches any run within a segment and ? one character", () => {
  const p = compilePattern("press-?/temp*");
  assert.ok(p.matches("press-1", "temp"));
  assert.ok(p.matches("press-9", "temp_outlet"));
  assert.ok(!p.matches("press-10", "temp"));
  assert.ok(!p.matches("press-1", "xtemp"));
  assert.ok(compilePattern("*/*").matches("a", "b"));
  assert.ok(compilePattern("plc/*a*b*c").matches("plc", "xaybzc"));
  assert.ok(!compilePattern("plc/*a*b*c").matches("plc", "xaybz"));
  assert.ok(compilePattern("plc/a*a").matches("plc", "aa"));
  assert.ok(!compilePattern("plc/a*a").matches("plc", "a"));
  assert.ok(compilePattern("plc/temp").matches("plc", "temp"));
  assert.ok(!compilePattern("plc/temp").matches("plc", "temp1"));
});

Deno.test("a pathological pattern takes linear time, not exponential", () => {
  const p = compilePattern(`d/${"*a".repeat(60)}b`);
  const name = "a".repeat(5000);
  const t0 = performance.now();
  assert.ok(!p.matches("d", name));
  assert.ok(performance.now() - t0 < 200, "matching took too long");
});

Deno.test("compilePattern() says what is wrong with a pattern", () => {
  assert.throws(() => compilePattern(""), /Pattern must have 1 to 256 characters, got 0/);
  assert.throws(() => compilePattern("x".repeat(257)), /got 257/);
  assert.throws(
    () => compilePattern("plant1/*/temp"),
    /Pattern "plant1\/\*\/temp" must be "device\/tag" \(one "\/"/,
  );
  assert.throws(() => compilePattern("plc/"), /must be "device\/tag"/);
});
