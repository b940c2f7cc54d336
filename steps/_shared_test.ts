/** @module Tests of the steps' shared helpers. */

import assert from "node:assert/strict";
import { Batch } from "../engine/plugin.ts";
import { globToRegExp, moveRecord, nameMatcher, truncate } from "./_shared.ts";

Deno.test("globs match * and ? and treat other characters literally", () => {
  assert.ok(globToRegExp("temp*").test("temp12"));
  assert.ok(globToRegExp("t?mp").test("tamp"));
  assert.ok(!globToRegExp("a.b").test("axb"));
  assert.ok(globToRegExp("a.b(1)").test("a.b(1)"));
  assert.ok(!globToRegExp("temp*").test("xtemp1"));
});

Deno.test("nameMatcher mixes exact names and globs, and matches everything when absent", () => {
  const m = nameMatcher(["flow", "temp*"])!;
  assert.deepEqual(["flow", "flow2", "temp", "temp9", "x"].map(m), [
    true,
    false,
    true,
    true,
    false,
  ]);
  assert.equal(m("temp9"), true); // from the cache
  assert.equal(nameMatcher(undefined), undefined);
  assert.equal(nameMatcher(["*"]), undefined);
});

Deno.test("moveRecord and truncate compact a batch in place", () => {
  const b = new Batch();
  b.add("d", "a", 1, 0, undefined, 1, 1, 1);
  b.add("d", "b", "x", 2, "timeout", 2, 2, 2);
  moveRecord(b, 1, 0);
  truncate(b, 1);
  assert.deepEqual(b.toArray(), [{
    device: "d",
    tag: "b",
    value: "x",
    quality: "bad",
    reason: "timeout",
    sourceTs: 2,
    gatewayTs: 2,
    seq: 2,
  }]);
});

Deno.test("a glob with many stars matches a long name in linear time", () => {
  // As a JavaScript RegExp this took over 4 s at 50 characters, and grew without bound.
  const m = nameMatcher(["*a*a*a*a*a*a*b"])!;
  // A backtracking matcher would not return here (the test would hang, not pass).
  assert.equal(m("a".repeat(5_000)), false);
  assert.equal(m("a".repeat(5_000) + "b"), true);
  assert.ok(globToRegExp("a*\nb?").test("axx\nyy\nbz"), "* and ? match newlines too");
});
