/**
 * @module
 * Value generators of a simulator map: a tag whose entry has `generator:` (the shared
 * generators: constant, ramp, sine, square, random-walk, counter) is stepped on one timer.
 */

import {
  type GeneratorSpec,
  type GeneratorState,
  initGenerator,
  stepGenerator,
} from "../../../simulators/generators.ts";
import type { SimTag, SimTagSpec } from "./store.ts";
import { writeElement } from "./store.ts";

/** Starts the generators of `specs` (by tag name; `program` scopes them); returns the stop. */
export function startGenerators(
  specs: { tag: SimTag; spec: SimTagSpec }[],
  everyMs = 200,
): () => void {
  const gens: { tag: SimTag; spec: GeneratorSpec; state: GeneratorState }[] = [];
  for (const { tag, spec } of specs) {
    const g = spec as SimTagSpec & Partial<GeneratorSpec>;
    if (g.generator === undefined || typeof tag.type !== "string") continue;
    const gspec = g as GeneratorSpec;
    gens.push({ tag, spec: gspec, state: initGenerator(gspec) });
  }
  if (gens.length === 0) return () => {};
  const put = (g: (typeof gens)[number]) => {
    const t = g.tag.type as string;
    const v = g.state.value;
    const value = t === "BOOL"
      ? v !== 0
      : t === "REAL" || t === "LREAL"
      ? v
      : t.endsWith("LINT")
      ? BigInt(Math.round(v))
      : Math.round(v);
    try {
      writeElement(g.tag.data, g.tag.type as never, 0, value);
    } catch { /* a value beyond the type stays out */ }
  };
  for (const g of gens) put(g);
  const timer = setInterval(() => {
    const now = Date.now();
    for (const g of gens) {
      g.state = stepGenerator(g.spec, g.state, now);
      put(g);
    }
  }, everyMs);
  Deno.unrefTimer(timer as unknown as number);
  return () => clearInterval(timer);
}
