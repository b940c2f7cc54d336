import assert from "node:assert/strict";
import { didYouMean, editDistance, MAX_DISTANCES } from "./suggest.ts";

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
  // 1,000 unknown names against 50,000 tags compared every pair: over a minute. The budget
  // (MAX_DISTANCES edit distances a lookup) is what bounds it; its speed is in bench:validate.
  const tags = Array.from({ length: 50_000 }, (_, i) => `tag${i}`);
  assert.equal(didYouMean("tga1", tags), "tag1", "a close name early in the set is still found");
  assert.equal(didYouMean("TAG49999", tags), "tag49999", "a case difference is found anywhere");
  // Same-length names, each needing an edit distance: past the budget none is computed.
  const same = Array.from(
    { length: MAX_DISTANCES + 10 },
    (_, i) => `x${String(i).padStart(5, "0")}`,
  );
  same.push("pumpA1");
  assert.equal(
    didYouMean("pumpA2", same),
    undefined,
    "a candidate past the budget is not compared",
  );
  assert.equal(
    didYouMean("pumpA2", same.slice(-5)),
    "pumpA1",
    "the same candidate within the budget is",
  );
});
