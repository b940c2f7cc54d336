/**
 * @module
 * `bifrost schema`: prints the flow JSON Schema built from the registered extensions.
 */

import { flowSchema } from "../registries.ts";

/** Prints the schema; returns 0. */
export function schemaCommand(args: string[] = []): number {
  if (args.length > 0 && args[0] !== "--help" && args[0] !== "-h") {
    console.error(`Unexpected argument "${args[0]}"`);
    console.error("Usage: bifrost schema");
    return 2;
  }
  if (args.length > 0) {
    console.log("Usage: bifrost schema");
    return 0;
  }
  console.log(JSON.stringify(flowSchema(), null, 2));
  return 0;
}
