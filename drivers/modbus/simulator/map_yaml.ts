/**
 * @module
 * Loads a simulator map from YAML text. Kept apart from `map.ts` so that the gateway, which
 * starts virtual devices from flows, never loads the YAML parser (resident memory).
 */

import { parse } from "yaml";
import { parseDuration } from "../../../engine/plugin.ts";
import type { SimulatorMap } from "./map.ts";

/** Parses a YAML map. */
export function parseMapYaml(text: string): SimulatorMap {
  const doc = parse(text) as SimulatorMap | null;
  if (!doc || typeof doc !== "object" || typeof doc.units !== "object" || doc.units === null) {
    throw new RangeError(`Cannot load simulator map: expected a "units:" mapping at the top`);
  }
  if (doc.update !== undefined) parseDuration(doc.update);
  return doc;
}
