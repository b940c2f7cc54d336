/**
 * @module
 * `bifrost schema`: prints the flow JSON Schema built from the registered extensions.
 */

import { flowSchema } from "../registries.ts";

/** Prints the schema; returns 0. */
export function schemaCommand(): number {
  console.log(JSON.stringify(flowSchema(), null, 2));
  return 0;
}
