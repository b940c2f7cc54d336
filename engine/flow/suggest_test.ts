import assert from "node:assert/strict";
import { didYouMean, editDistance } from "./suggest.ts";

Deno.test("editDistance() counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("tmep1", "temp1"), 1);
  assert.equal(editDistance("hots", "host"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
});

Deno.test("didYouMean() suggests the closest candidate within reach", () => {
  assert.equal(didYouMean("tmep1", ["pressure", "temp1", "temp2"]), "temp1");
  assert.equal(didYouMean("modbus-tpc", ["modbus-tcp", "opcua"]), "modbus-tcp");
  assert.equal(didYouMean("Host", ["host", "port"]), "host");
});

Deno.test("didYouMean() stays silent for unrelated words and exact matches", () => {
  assert.equal(didYouMean("xyz", ["temp1", "pressure"]), undefined);
  assert.equal(didYouMean("a", ["b"]), undefined);
  assert.equal(didYouMean("temp1", ["temp1"]), undefined);
  assert.equal(didYouMean("abc", []), undefined);
});

Deno.test("didYouMean() bounds its work on a device of 50,000 tags", () => {
  // 1,000 unknown names against 50,000 tags compared every pair: over a minute.
  const tags = Array.from({ length: 50_000 }, (_, i) => `tag${i}`);
  const t0 = performance.now();
  for (let i = 0; i < 1_000; i++) didYouMean(`tga${i}x`, tags);
  const ms = performance.now() - t0;
  assert.ok(ms < 10_000, `took ${ms.toFixed(0)} ms`);
  assert.equal(didYouMean("tga1", tags), "tag1", "a close name early in the set is still found");
  assert.equal(didYouMean("TAG49999", tags), "tag49999", "a case difference is found anywhere");
});
