/**
 * @module
 * Reading history back: {@linkcode queryHistory} for the API, the CLI and tests. It takes an
 * open database (the sink's own connection) or a path (opened read-only for the call; WAL
 * lets it read while the sink writes).
 */

import { existsSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import type { DataRecord } from "../../engine/record.ts";
import { type HistoryRow, ROW_COLUMNS, rowToRecord } from "./schema.ts";

/** What to read from history. */
export interface HistoryQuery {
  device?: string;
  tag?: string;
  /** Earliest source timestamp, ms since the epoch, inclusive. */
  from?: number;
  /** Latest source timestamp, ms since the epoch, inclusive. */
  to?: number;
  /** Most records returned; 10,000 by default. */
  limit?: number;
  /** Return the last `limit` records of the range instead of the first (still in time order). */
  latest?: boolean;
}

/** Default of {@linkcode HistoryQuery.limit}. */
export const DEFAULT_QUERY_LIMIT = 10_000;

/**
 * Reads records from a history database in time order (source timestamp, then sequence).
 *
 * @example
 * ```ts
 * const last = queryHistory("data/history.db", { device: "boiler-plc", tag: "temp1", limit: 100, latest: true });
 * ```
 */
export function queryHistory(db: DatabaseSync | string, q: HistoryQuery = {}): DataRecord[] {
  if (typeof db === "string") {
    if (!existsSync(db)) {
      throw new BifrostError("NOT_FOUND", `Cannot read history "${db}": the file does not exist`);
    }
    let conn: DatabaseSync;
    try {
      conn = new DatabaseSync(db, { readOnly: true });
    } catch (e) {
      throw new BifrostError("SINK_FAILED", `Cannot open history "${db}": ${errorMessage(e)}`, {
        cause: e,
      });
    }
    try {
      return queryHistory(conn, q);
    } finally {
      conn.close();
    }
  }
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  if (q.device !== undefined) where.push("device = ?"), args.push(q.device);
  if (q.tag !== undefined) where.push("tag = ?"), args.push(q.tag);
  if (q.from !== undefined) where.push("source_ts >= ?"), args.push(q.from);
  if (q.to !== undefined) where.push("source_ts <= ?"), args.push(q.to);
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`Cannot query history with limit ${limit}: it must be an integer >= 0`);
  }
  const dir = q.latest ? "DESC" : "ASC";
  const sql = `SELECT ${ROW_COLUMNS} FROM history` +
    (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY source_ts ${dir}, seq ${dir}, id ${dir} LIMIT ?`;
  args.push(limit);
  let rows: HistoryRow[];
  try {
    rows = db.prepare(sql).all(...args) as unknown as HistoryRow[];
  } catch (e) {
    throw new BifrostError("SINK_FAILED", `Cannot query history: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const out = rows.map(rowToRecord);
  if (q.latest) out.reverse();
  return out;
}
