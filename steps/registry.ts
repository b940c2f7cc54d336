/**
 * @module
 * Every built-in step, by its `use:` name (the list is `loaders.ts`), imported together: for
 * the flow schema, the loader and the CLI. User edge functions run through `function`. A
 * running gateway imports only the steps its flows name (`app/sources.ts`).
 */

import type { StepModule } from "../engine/plugin.ts";
import { stepLoaders } from "./loaders.ts";

/** The registered steps. */
export const steps: readonly StepModule[] = await Promise.all(
  Object.values(stepLoaders).map((load) => load()),
);
