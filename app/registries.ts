/**
 * @module
 * The three registries together, and the flow schema built from them.
 */

import { drivers } from "../drivers/registry.ts";
import { sinks } from "../sinks/registry.ts";
import { steps } from "../steps/registry.ts";
import { buildFlowSchema, type SchemaSources } from "../engine/flow/schema.ts";
import type { LoadOptions, LoadResult } from "../engine/flow/load.ts";

/** Drivers, steps and sinks. */
export const registries: SchemaSources = { drivers, steps, sinks };

/** The flow schema of the registered extensions. */
export function flowSchema(): Record<string, unknown> {
  return buildFlowSchema(registries);
}

/**
 * Loads and checks the flow files of `dir` against the registered drivers, steps and sinks.
 * The loader (YAML parser, schema compiler) loads on the first call: a gateway imports this
 * module for the registries and must not carry them (see `app/cli/_load.ts`).
 */
export async function loadFlows(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const { loadFlowsWith } = await import("../engine/flow/load.ts");
  return await loadFlowsWith(dir, registries, options);
}
