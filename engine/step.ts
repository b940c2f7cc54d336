/**
 * @module
 * The step contract. A step takes a batch and returns a batch (possibly the same object,
 * possibly empty). Steps keep their state in memory under their name, so that a new revision
 * of a flow can carry it over. Built-in steps live in `steps/<name>/mod.ts`; user functions
 * run through the `function` step, in a worker.
 */

import type { TSchema } from "@sinclair/typebox";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { Batch } from "./record.ts";

/** What the engine gives a step. */
export interface StepContext {
  /** The step's name in the flow. */
  name: string;
  log: Logger;
  clock: Clock;
  /** Directory of the flow files (functions are resolved against it). */
  flowDir: string;
  /** Counts a problem without throwing (shown in metrics). */
  countError(reason: string): void;
  /** The gateway's data directory (steps that persist their state write under `steps/`). */
  dataDir?: string;
}

/** A running step. */
export interface Step {
  /** Processes one batch. May return the input batch, mutated or not. */
  process(batch: Batch): Batch | Promise<Batch>;
  /** Starts resources (workers); called once before the first batch. */
  start?(): Promise<void>;
  close?(): Promise<void>;
  /** Figures for metrics (the function step: `restarts`). */
  stats?(): Record<string, number>;
}

/** A semantic problem found in a step's config. */
export interface StepIssue {
  message: string;
  path: (string | number)[];
  /**
   * Character offset inside the string value at `path` (an expression's offending token): the
   * issue is then located at that character of the source, not at the start of the value.
   */
  offset?: number;
}

/** One entry of the step registry. */
export interface StepModule<C = Record<string, unknown>> {
  /** The `use:` value in flows, e.g. `scale`. */
  name: string;
  description: string;
  status: "stable" | "beta" | "experimental";
  /** The step's own fields (beside the common `use` and `from`). */
  spec: TSchema;
  /** A flow excerpt using the step, shown in `docs/reference.md`. */
  example?: string;
  create(config: C, ctx: StepContext): Step | Promise<Step>;
  /** Semantic checks beyond the schema (e.g. a function file that does not exist). */
  validate?(
    config: C,
    ctx: { flowDir: string; file: string; typeCheck?: boolean },
  ): Promise<StepIssue[]> | StepIssue[];
}
