/**
 * @module
 * The status of an object from a reply (ReadPropertyMultiple results or a COV
 * notification): its status flags (fault, out of service) and reliability.
 */

import { PropertyId as P } from "../core/enums.ts";
import type { ObjectResults } from "../core/services.ts";

/** Status of an object: flags and reliability. */
export interface Status {
  fault: boolean;
  outOfService: boolean;
  reliability: number;
}

/** Status flags and reliability of an object's results (absent ones count as healthy). */
export function statusOf(o: ObjectResults): Status {
  let fault = false;
  let outOfService = false;
  let reliability = 0;
  for (const r of o.results) {
    if ("error" in r) continue;
    const v = r.values[0];
    if (r.property === P["status-flags"] && v?.type === "bitString") {
      fault = v.value[1] === true;
      outOfService = v.value[3] === true;
    } else if (r.property === P["reliability"] && v?.type === "enumerated") reliability = v.value;
  }
  return { fault, outOfService, reliability };
}
