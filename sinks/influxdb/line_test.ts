/**
 * @module
 * Line protocol encoding without a server: escaping of tricky names and values, value
 * types, timestamps, static and record tags.
 */

import assert from "node:assert/strict";
import { Batch, Quality } from "../../engine/plugin.ts";
import { escapeKey, escapeMeasurement, lineEncoder, quoteString } from "./line.ts";

function one(
  device: string,
  tag: string,
  value: Parameters<Batch["setValue"]>[1],
  reason?: string,
) {
  const b = new Batch(1);
  b.add(device, tag, value, reason ? Quality.bad : Quality.good, reason, 1_700_000_000_123.4, 0, 1);
  return b;
}

Deno.test("escapeMeasurement escapes commas and spaces only", () => {
  assert.equal(escapeMeasurement("boiler 1,a=b"), "boiler\\ 1\\,a=b");
});

Deno.test("escapeKey escapes commas, equals signs and spaces", () => {
  assert.equal(escapeKey("a b,c=d"), "a\\ b\\,c\\=d");
});

Deno.test("names lose trailing backslashes and spell out control characters", () => {
  assert.equal(escapeKey("path\\"), "path");
  assert.equal(escapeKey("a\\\\"), "a");
  assert.equal(escapeKey("x\ny\tz"), "x\\ny\\tz");
  assert.equal(escapeMeasurement("m\\"), "m");
});

Deno.test("quoteString escapes double quotes and backslashes", () => {
  assert.equal(quoteString('he said "hi" \\o/'), '"he said \\"hi\\" \\\\o/"');
});

Deno.test("lineEncoder writes sorted tags, the value field and a ms timestamp", () => {
  const enc = lineEncoder("{device}", { site: "north", zone: "A 1" });
  assert.equal(
    enc.line(one("boiler", "temp", 71.5), 0, false),
    "boiler,device=boiler,quality=good,site=north,tag=temp,zone=A\\ 1 value=71.5 1700000000123",
  );
  assert.equal(
    enc.line(one("boiler", "temp", 3), 0, true),
    "boiler,device=boiler,historical=true,quality=good,site=north,tag=temp,zone=A\\ 1 value=3 1700000000123",
  );
});

Deno.test("lineEncoder types values: bool, string, bigint, JSON", () => {
  const enc = lineEncoder("m");
  const v = (x: Parameters<Batch["setValue"]>[1]) => {
    const l = enc.line(one("d", "t", x), 0, false)!;
    return l.slice(l.indexOf(" ") + 1, l.lastIndexOf(" "));
  };
  assert.equal(v(true), "value=true");
  assert.equal(v('a "b"'), 'value="a \\"b\\""');
  assert.equal(v(123n), "value=123i");
  assert.equal(v({ a: [1, 2] }), 'value="{\\"a\\":[1,2]}"');
  assert.equal(v(1e21), "value=1e+21");
});

Deno.test("lineEncoder escapes tricky device and tag names", () => {
  const enc = lineEncoder("{device}.{tag}");
  assert.equal(
    enc.line(one("line 3,west", "a=b c", 1), 0, false),
    "line\\ 3\\,west.a=b\\ c,device=line\\ 3\\,west,quality=good,tag=a\\=b\\ c value=1 1700000000123",
  );
});

Deno.test("lineEncoder writes a missing value as reason only, or not at all", () => {
  const enc = lineEncoder("m");
  assert.equal(
    enc.line(one("d", "t", null, 'timeout "5s"'), 0, false),
    'm,device=d,quality=bad,tag=t reason="timeout \\"5s\\"" 1700000000123',
  );
  assert.equal(enc.line(one("d", "t", NaN), 0, false), undefined);
  assert.equal(enc.line(one("d", "t", null), 0, false), undefined);
});

Deno.test("lineEncoder refuses static tags that records set", () => {
  assert.throws(() => lineEncoder("m", { device: "x" }), /Cannot use static tag "device"/);
});
