/**
 * @module
 * Flow loading: `loadFlows(dir)` reads every flow file of a directory and returns the merged
 * {@linkcode FlowSet}, or every error of every file at once with `file:line:column`.
 *
 * @example
 * ```ts
 * const { flows, errors, warnings } = await loadFlows("flows", { env: Deno.env.toObject(), sources });
 * for (const i of [...errors, ...warnings]) console.error(formatIssue(i));
 * ```
 */

import { loadFlowsWith, type LoadOptions, type LoadResult } from "./load.ts";
import type { SchemaSources } from "./schema.ts";
import type { FlowSet } from "./types.ts";

export { configError, loadFlowsWith, type LoadOptions, type LoadResult } from "./load.ts";
export {
  type ConfigIssue,
  formatIssue,
  positionOf,
  toPointer,
  type YamlSource,
} from "./positions.ts";
export { FlowFileCache, type FlowFileCacheStats } from "./load_file.ts";
export { didYouMean, editDistance } from "./suggest.ts";
export { flowValidator, validateFlowSchema } from "./validate.ts";
export { type FlowEnv, substituteEnv } from "./env.ts";
export { MIN_INTERVAL_MS } from "./semantic.ts";
export type { FlowSet };

/**
 * Loads and checks the flow files of `dir` (not recursive, sorted by name) against the
 * drivers, steps and sinks of `options.sources` (the engine knows none of its own: the
 * application passes its registries, see app/registries.ts).
 */
export function loadFlows(
  dir: string,
  options: LoadOptions & { sources: SchemaSources },
): Promise<LoadResult> {
  return loadFlowsWith(dir, options.sources, options);
}
