/**
 * @module Test fixture: a function that imports a helper module by relative path and
 * tries to read a file given as the record's value (its process has no read permission).
 */
import type { DataRecord } from "bifrost/functions";
import { double, LABEL } from "./lib/helper.ts";

export default async function (records: DataRecord[]): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for (const r of records) {
    if (typeof r.value === "string") {
      try {
        out.push({ ...r, value: await Deno.readTextFile(r.value) });
      } catch (e) {
        out.push({ ...r, value: `${(e as Error).name}: ${(e as Error).message}` });
      }
    } else if (typeof r.value === "number") {
      out.push({ ...r, tag: `${r.tag}-${LABEL}`, value: double(r.value) });
    } else out.push(r);
  }
  return out;
}
