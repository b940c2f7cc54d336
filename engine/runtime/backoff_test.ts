import { assertEquals } from "../../tests/_assert.ts";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoffDelay() doubles its ceiling per failure up to the maximum", () => {
  const o = { baseMs: 500, maxMs: 30_000, random: () => 1 };
  assertEquals([1, 2, 3, 4, 7, 20].map((n) => backoffDelay(n, o)), [
    500,
    1000,
    2000,
    4000,
    30_000,
    30_000,
  ]);
});

Deno.test("backoffDelay() spreads retries over [base, ceiling] with jitter", () => {
  assertEquals(backoffDelay(4, { baseMs: 500, maxMs: 30_000, random: () => 0 }), 500);
  assertEquals(backoffDelay(4, { baseMs: 500, maxMs: 30_000, random: () => 0.5 }), 2250);
});

Deno.test("backoffDelay() rejects a failure count below one", () => {
  let msg = "";
  try {
    backoffDelay(0, { baseMs: 1, maxMs: 2 });
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, "Cannot compute backoff: 'failures' must be >= 1, got 0");
});
