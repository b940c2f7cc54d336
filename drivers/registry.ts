/**
 * @module
 * Every driver Bifrost knows (the list is `loaders.ts`), imported together: for the flow
 * schema, the loader and the CLI. A running gateway imports only the drivers its flows name
 * (`app/sources.ts`).
 */

import type { DriverModule } from "../engine/plugin.ts";
import { driverLoaders } from "./loaders.ts";

/** The registered drivers. */
export const drivers: readonly DriverModule[] = await Promise.all(
  Object.values(driverLoaders).map((load) => load()),
);
