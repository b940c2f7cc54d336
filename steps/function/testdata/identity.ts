/** @module Test fixture: returns its input. */
import type { DataRecord } from "../../../engine/functions/api.ts";

export default function (records: DataRecord[]): DataRecord[] {
  return records;
}
