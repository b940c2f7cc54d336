/**
 * @module
 * The simulator's value generators on its tick. Time is the tick count times `changeEvery`
 * (simulated time, not the wall clock): a timer that fires late neither skips nor repeats a
 * counter value, and with `changeEvery: 1s` a `ramp` of period 100s is `tick % 100`, as the
 * simulator's dynamic values always were. The shapes are `simulators/generators.ts`'s, plus
 * `random` (uniform in min..max) and `toggle` (a Boolean square wave).
 */

import type { Value } from "../../../engine/plugin.ts";
import {
  type GeneratorSpec,
  type GeneratorState,
  initGenerator,
  stepGenerator,
} from "../../../simulators/generators.ts";
import { INTEGER_RANGES } from "../core/types.ts";
import type { SimGenerator, SimVariableDef } from "./config.ts";

/** A variable with a generator and the generator's state. */
export interface Ticking {
  id: string;
  v: SimVariableDef;
  spec: GeneratorSpec;
  state: GeneratorState;
  /** random: mulberry32 state. */
  rng: number;
}

/** The generator of a variable on a tick of `everyMs`. */
export function ticking(v: SimVariableDef, g: SimGenerator, everyMs: number): Ticking {
  const start = typeof v.value === "bigint"
    ? Number(v.value)
    : typeof v.value === "number"
    ? v.value
    : v.value === true
    ? 1
    : 0;
  const square = g.kind === "toggle" || g.kind === "square";
  const spec: GeneratorSpec = {
    generator: g.kind === "toggle" ? "square" : g.kind === "random" ? "constant" : g.kind,
    value: start,
    min: g.min ?? 0,
    // A counter wraps above max only when one is given.
    ...(g.kind === "counter" && g.max === undefined ? {} : { max: g.max ?? (square ? 1 : 100) }),
    period: g.periodMs ?? 10_000,
    step: g.step ?? 1,
    every: g.everyMs ?? everyMs,
    seed: g.seed ?? 1,
  };
  return { id: v.id, v, spec, state: { ...initGenerator(spec), t0: 0 }, rng: g.seed ?? 1 };
}

/** The value of `t` at tick `n` (time `n * everyMs`), in the variable's type. */
export function valueAt(t: Ticking, n: number, everyMs: number, kind: SimGenerator["kind"]): Value {
  const min = t.spec.min ?? 0;
  const max = t.spec.max ?? Infinity;
  let x: number;
  if (kind === "random") {
    t.rng = (t.rng + 0x6d2b79f5) >>> 0;
    let r = t.rng;
    r = Math.imul(r ^ (r >>> 15), r | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    x = min + (max - min) * (((r ^ (r >>> 14)) >>> 0) / 4294967296);
  } else {
    t.state = stepGenerator(t.spec, t.state, n * everyMs);
    x = t.state.value;
  }
  return inType(t.v, x, min, max);
}

function inType(v: SimVariableDef, x: number, min: number, max: number): Value {
  if (v.type === "Boolean") return Number.isFinite(max) ? x >= (min + max) / 2 : x % 2 === 1;
  const range = INTEGER_RANGES[v.type];
  if (!range) return v.type === "Float" ? Math.fround(x) : x;
  const n = BigInt(Math.round(x));
  const clamped = n < range[0] ? range[0] : n > range[1] ? range[1] : n;
  return v.type === "Int64" || v.type === "UInt64" ? clamped : Number(clamped);
}
