/** @module Tests of the mqtt sink's topic template and payload. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, isBifrostError } from "../../engine/plugin.ts";
import { compileTopic, payload } from "./format.ts";

Deno.test("topic template fills device, tag and vars, and cleans wildcards", () => {
  const t = compileTopic("acme/{site}/{area}/{device}/{tag}", { site: "plant1", area: "boiler" });
  assert.equal(t("plc-1", "temp1"), "acme/plant1/boiler/plc-1/temp1");
  assert.equal(t("plc-1", "temp1"), "acme/plant1/boiler/plc-1/temp1"); // cached
  assert.equal(t("a+b", "c#d"), "acme/plant1/boiler/a_b/c_d");
  assert.equal(compileTopic("bifrost/{device}/{tag}")("d", "t"), "bifrost/d/t");
  assert.equal(compileTopic("fixed/topic")("d", "t"), "fixed/topic");
});

Deno.test("topic template with an unknown placeholder or a wildcard is a config error", () => {
  assert.throws(
    () => compileTopic("acme/{site}/{line}/{tag}", { site: "p1" }, "uns"),
    (e) =>
      isBifrostError(e, "CONFIG_INVALID") &&
      e.message ===
        'Cannot use topic "acme/{site}/{line}/{tag}" of sink "uns": unknown placeholder {line} (known: device, tag, site)',
  );
  assert.throws(() => compileTopic("acme/+/{tag}"), /may not contain \+, #/);
  assert.throws(() => compileTopic("acme/{tag"), /unmatched braces/);
});

Deno.test("payload carries value, quality, reason, timestamps, seq and historical", () => {
  const base = { device: "d", tag: "t", sourceTs: 1_700_000_000_123, gatewayTs: 1_700_000_000_125 };
  const records: DataRecord[] = [
    { ...base, value: 71.3, quality: "good", seq: 1 },
    { ...base, value: NaN, quality: "uncertain", reason: 'odd "value"', seq: 2 },
    { ...base, value: true, quality: "good", seq: 3 },
    { ...base, value: "auto", quality: "good", seq: 4 },
    { ...base, value: 2n ** 70n, quality: "good", seq: 5 },
    { ...base, value: { a: [1, null] }, quality: "good", seq: 6 },
    { ...base, value: null, quality: "bad", reason: "Cannot read HR0: timeout", seq: 7 },
  ];
  const b = Batch.from(records);
  const parsed = records.map((_, i) => JSON.parse(payload(b, i, i === 6)));
  const ts = { sourceTs: base.sourceTs, gatewayTs: base.gatewayTs };
  assert.deepEqual(parsed, [
    { value: 71.3, quality: "good", ...ts, seq: 1 },
    { value: "NaN", quality: "uncertain", reason: 'odd "value"', ...ts, seq: 2 },
    { value: true, quality: "good", ...ts, seq: 3 },
    { value: "auto", quality: "good", ...ts, seq: 4 },
    { value: String(2n ** 70n), quality: "good", ...ts, seq: 5 },
    { value: { a: [1, null] }, quality: "good", ...ts, seq: 6 },
    {
      value: null,
      quality: "bad",
      reason: "Cannot read HR0: timeout",
      ...ts,
      seq: 7,
      historical: true,
    },
  ]);
  // Field order as documented.
  assert.equal(
    payload(b, 0, true),
    '{"value":71.3,"quality":"good","sourceTs":1700000000123,"gatewayTs":1700000000125,"seq":1,"historical":true}',
  );
});
