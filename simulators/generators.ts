/**
 * @module
 * Value generators of the simulators. A generator is a pure function of time plus state:
 * `stepGenerator(spec, state, tMs)` returns the next state (whose `value` is the output)
 * without touching the old one, so tests drive it with chosen times and no sleeping.
 *
 * Generators (fields in brackets are optional):
 * - `constant`: `value` (default 0).
 * - `ramp`: sawtooth from `min` (0) to `max` (100) over `period` (10s).
 * - `sine`: `min` (0) to `max` (100), `period` (10s), starts at the middle going up.
 * - `square`: `max` (1) for the first half of each `period` (10s), `min` (0) for the second.
 * - `random-walk`: moves by a uniform step in `[-step, step]` (1) per update, clamped to
 *   `[min, max]` (0..100); starts at `value` or the middle; `seed` (1) makes it repeatable.
 * - `counter`: starts at `value` (0), adds `step` (1) every `every` (1s); wraps to `min` (0)
 *   above `max` when `max` is given.
 *
 * Durations are strings as in flows (`"30s"`) or milliseconds.
 */

import { parseDuration } from "../engine/plugin.ts";

/** Generator names. */
export const GENERATORS = ["constant", "ramp", "sine", "square", "random-walk", "counter"] as const;
/** A generator name. */
export type GeneratorName = (typeof GENERATORS)[number];

/** A generator as a flow's `simulator:` block or a simulator map writes it. */
export interface GeneratorSpec {
  generator: GeneratorName;
  value?: number | boolean;
  min?: number;
  max?: number;
  period?: string | number;
  step?: number;
  every?: string | number;
  seed?: number;
}

/** The state of a generator; `value` is its current output. */
export interface GeneratorState {
  readonly value: number;
  /** PRNG state (random-walk). */
  readonly rng: number;
  /** Updates counted so far (counter: ticks of `every` since start). */
  readonly ticks: number;
  /** Time of the first step, ms. */
  readonly t0: number | undefined;
}

/** Checks a spec; throws a `RangeError` naming the problem. */
export function checkGeneratorSpec(spec: GeneratorSpec): void {
  if (!GENERATORS.includes(spec.generator)) {
    throw new RangeError(
      `Cannot use generator ${JSON.stringify(spec.generator)}: expected one of ${
        GENERATORS.join(", ")
      }`,
    );
  }
  if (spec.period !== undefined && ms(spec.period) <= 0) {
    throw new RangeError(`Cannot use period ${JSON.stringify(spec.period)}: it must be above 0`);
  }
  if (spec.every !== undefined && ms(spec.every) <= 0) {
    throw new RangeError(`Cannot use every ${JSON.stringify(spec.every)}: it must be above 0`);
  }
  if ((spec.min ?? 0) > (spec.max ?? Infinity)) {
    throw new RangeError(`Cannot use min ${spec.min} above max ${spec.max}`);
  }
}

function ms(d: string | number): number {
  return parseDuration(d);
}

function num(v: number | boolean | undefined, d: number): number {
  return v === undefined ? d : typeof v === "boolean" ? (v ? 1 : 0) : v;
}

/** The state before the first step. */
export function initGenerator(spec: GeneratorSpec): GeneratorState {
  checkGeneratorSpec(spec);
  const min = spec.min ?? 0;
  const max = spec.max ?? (spec.generator === "square" ? 1 : 100);
  let value = num(spec.value, 0);
  if (spec.generator === "random-walk" && spec.value === undefined) value = (min + max) / 2;
  if (spec.generator === "sine" || spec.generator === "ramp" || spec.generator === "square") {
    value = stepGenerator(spec, { value, rng: 0, ticks: 0, t0: 0 }, 0).value;
  }
  return { value, rng: (spec.seed ?? 1) >>> 0, ticks: 0, t0: undefined };
}

/** mulberry32: a tiny, fast, seedable PRNG. Returns [0, 1) and the next state. */
function mulberry32(s: number): [number, number] {
  const next = (s + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, next];
}

/**
 * The state at time `tMs` (ms, any origin: the first call sets it).
 *
 * @example
 * ```ts
 * const spec = { generator: "sine", min: 0, max: 10, period: "4s" } as const;
 * stepGenerator(spec, initGenerator(spec), 1000).value; // 10 (a quarter period in)
 * ```
 */
export function stepGenerator(
  spec: GeneratorSpec,
  state: GeneratorState,
  tMs: number,
): GeneratorState {
  const t0 = state.t0 ?? tMs;
  const t = tMs - t0;
  const min = spec.min ?? 0;
  const max = spec.max ?? (spec.generator === "square" ? 1 : 100);
  const period = ms(spec.period ?? 10_000);
  const phase = (((t % period) + period) % period) / period;
  switch (spec.generator) {
    case "constant":
      return { ...state, value: num(spec.value, 0), t0 };
    case "ramp":
      return { ...state, value: min + (max - min) * phase, t0 };
    case "sine":
      return {
        ...state,
        value: min + (max - min) * (0.5 + 0.5 * Math.sin(2 * Math.PI * phase)),
        t0,
      };
    case "square":
      return { ...state, value: phase < 0.5 ? max : min, t0 };
    case "random-walk": {
      const [r, rng] = mulberry32(state.rng);
      const step = spec.step ?? 1;
      const v = Math.min(max, Math.max(min, state.value + (2 * r - 1) * step));
      return { value: v, rng, ticks: state.ticks + 1, t0 };
    }
    case "counter": {
      const every = ms(spec.every ?? 1000);
      const ticks = Math.max(0, Math.floor(t / every));
      let v = state.value + (ticks - state.ticks) * (spec.step ?? 1);
      if (spec.max !== undefined && v > spec.max) {
        const span = spec.max - min + 1;
        v = min + ((((v - min) % span) + span) % span);
      }
      return { ...state, value: v, ticks, t0 };
    }
  }
}
