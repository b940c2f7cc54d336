/** @module Sorting delivery errors, Retry-After, and the dead-letter table's bound. */

import assert from "node:assert/strict";
import { Batch, ManualClock, Quality } from "../../engine/plugin.ts";
import { DeadLetterStore } from "./dead_letter.ts";
import { excerpt, httpError, isRetryableStatus, parseRetryAfter } from "./errors.ts";

Deno.test("5xx, 408, 429 and the listed 4xx are retried; other 4xx are not", () => {
  for (const s of [500, 502, 503, 408, 429, 401, 403, 404, 407]) {
    assert.ok(isRetryableStatus(s), `${s}`);
  }
  for (const s of [400, 409, 413, 415, 422]) assert.ok(!isRetryableStatus(s), `${s}`);
  assert.ok(!isRetryableStatus(401, []));
});

Deno.test("parseRetryAfter reads seconds and HTTP dates, and caps them", () => {
  assert.equal(parseRetryAfter("2"), 2_000);
  assert.equal(parseRetryAfter("0.5"), 500);
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("999999"), 600_000);
  assert.equal(parseRetryAfter("soon"), undefined);
  assert.equal(parseRetryAfter(null), undefined);
});

Deno.test("httpError carries status, body excerpt and Retry-After", async () => {
  const e = await httpError(
    new Response("x".repeat(300), { status: 503, headers: { "retry-after": "3" } }),
    "POST http://h/i",
  );
  assert.equal(e.permanent, false);
  assert.equal(e.retryAfterMs, 3_000);
  assert.equal(e.reasonCode, "http 503");
  assert.ok(e.message.startsWith("POST http://h/i failed: HTTP 503: xxx"));
  assert.ok(e.message.endsWith("x…"));
  const p = await httpError(new Response("bad\n value", { status: 422 }), "POST /");
  assert.equal(p.permanent, true);
  assert.equal(p.message, "POST / failed: HTTP 422: bad value");
  assert.equal(excerpt("  a \n b  "), "a b");
});

Deno.test("the dead-letter table keeps at most maxRecords, the newest", () => {
  const store = new DeadLetterStore({ path: ":memory:", maxRecords: 5, clock: new ManualClock(7) });
  try {
    const b = new Batch(8);
    for (let s = 0; s < 8; s++) b.add("d", "t", s, Quality.good, undefined, s, s, s);
    store.add(b, 0, 4, "nope", "test", false);
    store.add(b, 4, 8, "still nope", "test", true);
    assert.equal(store.count(), 5);
    const r = store.recent();
    assert.deepEqual(r.map((d) => d.record.seq), [7, 6, 5, 4, 3]);
    assert.equal(r[0]!.reason, "still nope");
    assert.equal(r[0]!.historical, true);
    assert.equal(r[0]!.at, 7);
  } finally {
    store.close();
  }
});
