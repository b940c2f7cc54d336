/**
 * @module
 * The three registries together, and the flow schema built from them.
 */

import { drivers } from "../drivers/registry.ts";
import { sinks } from "../sinks/registry.ts";
import { steps } from "../steps/registry.ts";
import { buildFlowSchema, type SchemaSources } from "../engine/flow/schema.ts";
import { loadFlowsWith, type LoadOptions, type LoadResult } from "../engine/flow/load.ts";

/** Drivers, steps and sinks. */
export const registries: SchemaSources = { drivers, steps, sinks };

/** The flow schema of the registered extensions. */
export function flowSchema(): Record<string, unknown> {
  return buildFlowSchema(registries);
}

/** Loads and checks the flow files of `dir` against the registered drivers, steps and sinks. */
export function loadFlows(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  return loadFlowsWith(dir, registries, options);
}
