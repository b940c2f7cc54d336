/**
 * @module
 * The history tables (schema version 2).
 *
 * - `devices` and `series` name every device and every (device, tag) pair once; records
 *   refer to series by integer id.
 * - `blocks` holds the records: one row per device per written batch, its records packed
 *   column by column into `data` (see codec.ts), with the row's source-time range
 *   (`ts_min`..`ts_max`), gateway-time range and count beside it. A batch of 100 values of
 *   one device is one row and one index entry per index, so a commit touches a handful of
 *   pages however many series there are (version 1 kept one row per record and an index on
 *   (device, tag, source_ts), which dirtied about one index page per series per commit).
 * - `meta` holds `max_span`, the widest `ts_max - ts_min` of any block, which bounds the
 *   index range a time query must scan.
 *
 * `PRAGMA user_version` is the schema version. A version-1 database (table `history`, user
 * version 0) is migrated in place on open (see migrate.ts).
 */

import type { DatabaseSync } from "node:sqlite";

/** The schema version this code writes. */
export const SCHEMA_VERSION = 2;

/** DDL of schema version 2. */
export const SCHEMA_DDL = `
CREATE TABLE IF NOT EXISTS devices (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  UNIQUE (device_id, tag)
);
CREATE INDEX IF NOT EXISTS series_tag ON series (tag);
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  device_id INTEGER NOT NULL,
  n INTEGER NOT NULL,
  ts_min NUMERIC NOT NULL,
  ts_max NUMERIC NOT NULL,
  gw_min NUMERIC NOT NULL,
  gw_max NUMERIC NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS blocks_device_ts ON blocks (device_id, ts_max, ts_min);
CREATE INDEX IF NOT EXISTS blocks_ts ON blocks (ts_max, ts_min, n);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
`;

/** Inserts a block; parameters in column order. */
export const INSERT_BLOCK_SQL = "INSERT INTO blocks " +
  "(device_id, n, ts_min, ts_max, gw_min, gw_max, data) VALUES (?, ?, ?, ?, ?, ?, ?)";

/** The schema version of an open database (`PRAGMA user_version`). */
export function schemaVersion(db: DatabaseSync): number {
  return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/** Whether a table exists. */
export function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
    undefined;
}

/** The widest source-time span of any block, in ms (0 for an empty history). */
export function maxSpan(db: DatabaseSync): number {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'max_span'").get() as
    | { value: number }
    | undefined;
  return row?.value ?? 0;
}

/** Size of the database in bytes: `page_count * page_size` (the WAL file is not counted). */
export function databaseBytes(db: DatabaseSync): number {
  const pc = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const ps = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return pc.page_count * ps.page_size;
}
