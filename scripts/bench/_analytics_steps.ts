/**
 * @module
 * The analytics steps measured side by side with hand-written loops by `bench:analytics`: each
 * entry builds the step and a baseline that does the same arithmetic, both returning the number
 * of records they output for a batch (the bench checks that they agree).
 */

import type { Batch } from "../../engine/plugin.ts";

/** A step and its hand-written twin. */
export interface SideBySide {
  name: string;
  step(): (b: Batch) => number;
  hand(): (b: Batch) => number;
}

/** Every pair, in the order printed. */
export function analyticsSteps(): SideBySide[] {
  return [];
}
