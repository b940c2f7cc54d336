/** @module Test fixture: returns its input. */
import type { DataRecord } from "bifrost/functions";

export default function (records: DataRecord[]): DataRecord[] {
  return records;
}
