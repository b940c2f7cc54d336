/** @module Tests of the expression language and the expression step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, ManualClock, type Value } from "../../engine/plugin.ts";
import { compile } from "./compile.ts";
import { createExpression, expressionStep } from "./mod.ts";
import { ExprError, parseExpression, variables } from "./parse.ts";

/** Evaluates `src` with variables from `vars`. */
function evaluate(src: string, vars: Record<string, number> = {}): number {
  const names = Object.keys(vars);
  const env = Float64Array.from(Object.values(vars));
  return compile(parseExpression(src), (n) => names.indexOf(n))(env);
}

/** The error offset and message of `src`. */
function error(src: string): [number, string] {
  try {
    parseExpression(src);
  } catch (e) {
    if (e instanceof ExprError) return [e.offset, e.message];
    throw e;
  }
  throw new Error(`no error for ${src}`);
}

Deno.test("expressions follow arithmetic precedence and associativity", () => {
  assert.equal(evaluate("1 + 2 * 3"), 7);
  assert.equal(evaluate("(1 + 2) * 3"), 9);
  assert.equal(evaluate("10 - 4 - 3"), 3);
  assert.equal(evaluate("2 ^ 3 ^ 2"), 512);
  assert.equal(evaluate("-2 ^ 2"), -4);
  assert.equal(evaluate("7 % 4 + 1e3"), 1003);
  assert.equal(
    evaluate("voltage * current * 0.001", { voltage: 230, current: 10 }),
    230 * 10 * 0.001,
  );
});

Deno.test("expressions compare, combine and choose", () => {
  assert.equal(evaluate("t > 80 && on", { t: 81, on: 1 }), 1);
  assert.equal(evaluate("t > 80 and not on", { t: 81, on: 1 }), 0);
  assert.equal(evaluate("t > 80 || t < 10", { t: 5 }), 1);
  assert.equal(evaluate("if(t > 80, 2, t > 60 ? 1 : 0)", { t: 70 }), 1);
  assert.equal(evaluate("t == 3 ? 10 : 20", { t: 3 }), 10);
  assert.equal(evaluate("x > 1", { x: NaN }), 0);
});

Deno.test("expressions call math functions", () => {
  assert.equal(evaluate("min(3, 1, 2) + max(4, 9)"), 10);
  assert.equal(evaluate("avg(1, 2, 3, 6)"), 3);
  assert.equal(evaluate("round(3.14159, 2)"), 3.14);
  assert.equal(evaluate("clamp(120, 0, 100)"), 100);
  assert.equal(evaluate("abs(-2) + sqrt(16) + floor(1.7) + ceil(1.2)"), 9);
  assert.equal(evaluate("hypot(3, 4)"), 5);
  assert.ok(Math.abs(evaluate("sin(pi / 2) + ln(e)") - 2) < 1e-12);
  assert.equal(evaluate("isnan(x)", { x: NaN }), 1);
  assert.equal(evaluate("`burner-on` * 2", { "burner-on": 1 }), 2);
});

Deno.test("expression errors name the problem and point at the offending token", () => {
  assert.deepEqual(error("voltage * sqr(current)"), [
    10,
    'Unknown function "sqr"; known: if, min, max, abs, sqrt, exp, ln, log10, pow, round, floor, ceil, clamp, sin, cos, tan, atan2, hypot, avg, isnan',
  ]);
  assert.deepEqual(error("(a + b * 2"), [
    10,
    'Expected ")" to close the "(" at character 1 but found "end of expression"',
  ]);
  assert.deepEqual(error("(a > 2) * 2"), [
    0,
    'Cannot use a true/false value with "*": it needs a number',
  ]);
  assert.deepEqual(error("a = 2"), [2, 'Cannot read "=" here (compare with ==)']);
  assert.deepEqual(error("a > b > c"), [6, "Cannot chain comparisons: write a > b && b > c"]);
  assert.deepEqual(error("if(2, 1, 2)"), [
    3,
    "Cannot use a number as a condition: compare it (e.g. x > 0)",
  ]);
  assert.equal(error("if(a > 1, 1)")[1], "Cannot call if() with 2 arguments: it takes 3");
  assert.equal(
    error("a > 1 ? 1 : a > 2")[1],
    "Cannot mix a number and a boolean as the two results",
  );
  assert.deepEqual(error("a +"), [3, "Expected a value but the expression ended"]);
  assert.deepEqual(error("a b"), [2, 'Expected an operator or the end but found "b"']);
  assert.deepEqual(
    error("Max(a, b)")[1].slice(0, 47),
    'Unknown function "Max" (did you mean "max"?); k',
  );
});

Deno.test("expression variables lists the names read, once each", () => {
  assert.deepEqual(variables(parseExpression("a * b + a > c ? d : pi")), ["a", "b", "c", "d"]);
});

const rec = (device: string, tag: string, value: Value, extra: Partial<DataRecord> = {}) =>
  ({
    device,
    tag,
    value,
    quality: "good",
    sourceTs: 5,
    gatewayTs: 5,
    seq: 1,
    ...extra,
  }) as DataRecord;

Deno.test("expression step adds computed records per device, from current and remembered values", () => {
  const step = createExpression(
    { set: { power_kw: "voltage * current * 0.001", high: "power_kw > 2" } },
    { clock: new ManualClock(1000) },
  );
  const out = step.process(Batch.from([
    rec("m1", "voltage", 230, { sourceTs: 7 }),
    rec("m1", "current", 10),
    rec("m2", "voltage", 400),
  ])).toArray();
  assert.deepEqual(out.map((r) => `${r.device}/${r.tag}=${r.value}`), [
    "m1/voltage=230",
    "m1/current=10",
    "m2/voltage=400",
    `m1/power_kw=${230 * 10 * 0.001}`,
    "m1/high=true",
  ]);
  assert.equal(out[3]!.sourceTs, 7);
  assert.equal(out[3]!.gatewayTs, 1000);
  assert.equal(step.stats().waiting, 1); // m2 has no current yet (and "high" reads nothing new)
  // m2's current arrives: its voltage is remembered.
  const out2 = step.process(Batch.from([rec("m2", "current", 1)])).toArray();
  assert.deepEqual(out2.map((r) => `${r.device}/${r.tag}=${r.value}`), [
    "m2/current=1",
    "m2/power_kw=0.4",
    "m2/high=false",
  ]);
  // A batch without any input of an expression computes nothing.
  assert.equal(step.process(Batch.from([rec("m1", "other", 1)])).length, 1);
});

Deno.test("expression step carries the worst input quality and marks non-finite results bad", () => {
  const step = createExpression({ set: { ratio: "a / b" }, keep: false });
  const out = step.process(Batch.from([
    rec("d", "a", 1, { quality: "uncertain", reason: "stale" }),
    rec("d", "b", 2),
  ])).toArray();
  assert.equal(out.length, 1);
  assert.equal(out[0]!.quality, "uncertain");
  assert.equal(out[0]!.reason, 'input "a" is uncertain: stale');
  const zero = step.process(Batch.from([rec("d", "a", 1), rec("d", "b", 0)])).toArray();
  assert.equal(zero[0]!.quality, "bad");
  assert.equal(zero[0]!.reason, 'result of "ratio" is not a finite number (Infinity)');
});

Deno.test("expression validate reports each bad expression with its offset", () => {
  const issues = expressionStep.validate!(
    { set: { ok: "a + 1", bad: "a + * 2" } },
    { flowDir: ".", file: "f" },
  ) as { path: unknown[]; offset?: number; message: string }[];
  assert.deepEqual(issues.map((i) => [i.path, i.offset]), [[["set", "bad"], 4]]);
  assert.match(
    issues[0]!.message,
    /^Cannot use expression of "bad": Expected a value but found "\*"/,
  );
});
