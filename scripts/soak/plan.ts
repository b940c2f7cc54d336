/**
 * @module
 * The soak's fault timetable: every selected fault once per cycle, staggered evenly across
 * it, with a duration drawn (seeded) from the fault's range, all of them over before the
 * quiet tail that lets the gateway catch up before it is stopped. Pure: tested without
 * running anything.
 */

import type { FaultName } from "./args.ts";

/** Shortest and longest duration of each fault, seconds. */
export const FAULT_DURATIONS: Record<FaultName, [number, number]> = {
  restart: [2, 15],
  blackhole: [5, 45],
  malformed: [5, 20],
  broker: [5, 60],
  throw: [5, 20],
  timeout: [3, 15],
  memory: [3, 10],
  forge: [3, 10],
};

/** No fault starts before this (s): the gateway starts and connects first. */
export const LEAD_IN_S = 15;
/** No fault lasts past the end of the run minus this (s): a clean catch-up before the stop. */
export const TAIL_S = 20;
/** Longest cycle (s): each fault comes back every few minutes. */
export const MAX_CYCLE_S = 240;

/** One fault occurrence. */
export interface FaultEvent {
  /** Seconds since the gateway started. */
  at: number;
  fault: FaultName;
  /** Seconds. */
  duration: number;
  /** The how-manieth occurrence of this fault (0-based): picks the device and variant. */
  occurrence: number;
}

/** A small seeded PRNG (mulberry32), [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The timetable of a run of `runS` seconds, in start order. The cycle is the fault window
 * (`runS - LEAD_IN_S - TAIL_S`) up to {@linkcode MAX_CYCLE_S}; fault k of n starts at
 * `LEAD_IN_S + k·cycle/n` in each cycle. A duration that would run into the tail is cut to
 * fit, and an occurrence left shorter than its fault's minimum is dropped.
 */
export function faultPlan(faults: readonly FaultName[], runS: number, seed: number): FaultEvent[] {
  const end = runS - TAIL_S;
  const windowS = end - LEAD_IN_S;
  if (faults.length === 0 || windowS <= 0) return [];
  const cycle = Math.min(MAX_CYCLE_S, windowS);
  const random = seededRandom(seed);
  const events: FaultEvent[] = [];
  faults.forEach((fault, k) => {
    const [min, max] = FAULT_DURATIONS[fault];
    let occurrence = 0;
    for (let at = LEAD_IN_S + (k * cycle) / faults.length; at < end; at += cycle) {
      const duration = Math.min(Math.round(min + random() * (max - min)), end - at);
      if (duration < min) break;
      events.push({ at, fault, duration, occurrence: occurrence++ });
    }
  });
  return events.sort((a, b) => a.at - b.at);
}
