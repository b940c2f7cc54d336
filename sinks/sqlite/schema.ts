/**
 * @module
 * The history table and how values are stored in it. Numbers and booleans go into the REAL
 * column `value`; strings, bigints, JSON values and null go into `value_text`, and the `kind`
 * column (a {@linkcode ValueKind} code) says how to read them back, so every value kind
 * round-trips. NaN is stored as NULL in `value` (SQLite has no NaN) and read back as NaN.
 * Quality is the numeric {@linkcode Quality} code; timestamps are ms since the epoch.
 */

import type { DatabaseSync } from "node:sqlite";
import {
  type Batch,
  type DataRecord,
  QUALITY_NAMES,
  type Value,
  ValueKind,
} from "../../engine/record.ts";

/** DDL of the history table and its index. */
export const HISTORY_DDL = `
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  tag TEXT NOT NULL,
  kind INTEGER NOT NULL,
  value REAL,
  value_text TEXT,
  quality INTEGER NOT NULL,
  reason TEXT,
  source_ts INTEGER NOT NULL,
  gateway_ts INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_device_tag_ts ON history (device, tag, source_ts);
`;

/** The insert statement's SQL (parameters in column order). */
export const INSERT_SQL = "INSERT INTO history " +
  "(device, tag, kind, value, value_text, quality, reason, source_ts, gateway_ts, seq) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** The text stored for a non-numeric value of record `i`. */
export function valueText(b: Batch, i: number): string | null {
  switch (b.kind[i]) {
    case ValueKind.string:
      return b.obj[i] as string;
    case ValueKind.bigint:
      return String(b.obj[i]);
    case ValueKind.json:
      return JSON.stringify(
        b.obj[i],
        (_k, v) => typeof v === "bigint" ? { $bigint: v.toString() } : v,
      );
    default:
      return null;
  }
}

/** A row as `SELECT` returns it. */
export interface HistoryRow {
  device: string;
  tag: string;
  kind: number;
  value: number | null;
  value_text: string | null;
  quality: number;
  reason: string | null;
  source_ts: number;
  gateway_ts: number;
  seq: number;
}

/** The columns to select for {@linkcode rowToRecord}. */
export const ROW_COLUMNS =
  "device, tag, kind, value, value_text, quality, reason, source_ts, gateway_ts, seq";

function decodeValue(row: HistoryRow): Value {
  switch (row.kind) {
    case ValueKind.number:
      return row.value ?? NaN;
    case ValueKind.boolean:
      return row.value !== 0;
    case ValueKind.string:
      return row.value_text ?? "";
    case ValueKind.bigint:
      return BigInt(row.value_text ?? "0");
    case ValueKind.json:
      return JSON.parse(
        row.value_text ?? "null",
        (_k, v) =>
          v !== null && typeof v === "object" && !Array.isArray(v) &&
            Object.keys(v).length === 1 && typeof v.$bigint === "string"
            ? BigInt(v.$bigint)
            : v,
      ) as Value;
    default:
      return null;
  }
}

/** A stored row as a record. */
export function rowToRecord(row: HistoryRow): DataRecord {
  const r: DataRecord = {
    device: row.device,
    tag: row.tag,
    value: decodeValue(row),
    quality: QUALITY_NAMES[row.quality] ?? "bad",
    sourceTs: row.source_ts,
    gatewayTs: row.gateway_ts,
    seq: row.seq,
  };
  if (row.reason !== null) r.reason = row.reason;
  return r;
}

/** Size of the database in bytes: `page_count * page_size` (the WAL file is not counted). */
export function databaseBytes(db: DatabaseSync): number {
  const pc = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const ps = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return pc.page_count * ps.page_size;
}
