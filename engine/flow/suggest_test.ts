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
