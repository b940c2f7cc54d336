/**
 * @module
 * Every sink, by its `use:` name (the list is `loaders.ts`), imported together: for the flow
 * schema, the loader and the CLI. A running gateway imports only the sinks its flows name
 * (`app/sources.ts`).
 */

import type { SinkModule } from "../engine/plugin.ts";
import { sinkLoaders } from "./loaders.ts";

/** The registered sinks. */
export const sinks: readonly SinkModule[] = await Promise.all(
  Object.values(sinkLoaders).map((load) => load()),
);
