/**
 * @module
 * Reading history back: {@linkcode queryHistory} for the API, the CLI and tests. It takes an
 * open database (the sink's own connection) or a path (opened read-only for the call; WAL
 * lets it read while the sink writes).
 *
 * A query walks block heads (id, source-time range) through an index in `ts_max` order —
 * `(device_id, ts_max)` when it names a device or a tag held by a few devices, `(ts_max)`
 * otherwise — reads and decodes only the blocks whose time range overlaps the query, and
 * stops as soon as the `limit` records it will return can no longer change: a block's
 * records all lie within `max_span` of its `ts_max` (schema.ts).
 */

import { existsSync } from "node:fs";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { BifrostError, type DataRecord, errorMessage, QUALITY_NAMES } from "../../engine/plugin.ts";
import { type Block, blockValue, decodeBlock } from "./codec.ts";
import { maxSpan } from "./schema.ts";

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

/** Devices walked one index range each (merged here) at most; more use the time index. */
const MAX_MERGED_DEVICES = 8;
/** Blocks read between two checks of whether the result is complete. */
const CHECK_EVERY = 16;

/**
 * Reads records from a history database in time order: source timestamp, then sequence, then
 * the order they were written in (for records of different devices written in one batch
 * with equal timestamp and sequence: the order their devices first appear in the batch).
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
  const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`Cannot query history with limit ${limit}: it must be an integer >= 0`);
  }
  try {
    return run(db, q, limit);
  } catch (e) {
    throw new BifrostError("SINK_FAILED", `Cannot query history: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

interface Head {
  id: number;
  device_id: number;
  ts_min: number;
  ts_max: number;
}

interface Hit {
  ts: number;
  seq: number;
  block: number;
  j: number;
  bl: Block;
}

function run(db: DatabaseSync, q: HistoryQuery, limit: number): DataRecord[] {
  let devices: number[] | undefined;
  let series: Set<number> | undefined;
  if (q.device !== undefined) {
    const d = db.prepare("SELECT id FROM devices WHERE name = ?").get(q.device) as
      | { id: number }
      | undefined;
    if (!d) return [];
    devices = [d.id];
    if (q.tag !== undefined) {
      const s = db.prepare("SELECT id FROM series WHERE device_id = ? AND tag = ?")
        .get(d.id, q.tag) as { id: number } | undefined;
      if (!s) return [];
      series = new Set([s.id]);
    }
  } else if (q.tag !== undefined) {
    const rows = db.prepare("SELECT id, device_id FROM series WHERE tag = ?").all(q.tag) as {
      id: number;
      device_id: number;
    }[];
    if (!rows.length) return [];
    series = new Set(rows.map((r) => r.id));
    devices = [...new Set(rows.map((r) => r.device_id))];
  }
  if (limit === 0) return [];
  const desc = q.latest === true;
  const span = maxSpan(db);
  const from = q.from ?? -Infinity, to = q.to ?? Infinity;
  const data = db.prepare("SELECT data FROM blocks WHERE id = ?");
  const hits: Hit[] = [];
  let sinceCheck = 0;
  const settled = (next: number): boolean => {
    // Unread blocks hold records at or after next - span (ascending) or at or before next.
    let n = 0;
    if (desc) { for (const h of hits) n += h.ts > next ? 1 : 0; }
    else for (const h of hits) n += h.ts < next - span ? 1 : 0;
    return n >= limit;
  };
  for (const h of heads(db, devices, from, to + span, desc)) {
    if (hits.length >= limit && ++sinceCheck >= CHECK_EVERY) {
      sinceCheck = 0;
      if (settled(h.ts_max)) break;
    }
    if (h.ts_min > to || h.ts_max < from) continue;
    if (devices && devices.length > MAX_MERGED_DEVICES && !devices.includes(h.device_id)) continue;
    const bl = decodeBlock((data.get(h.id) as { data: Uint8Array }).data);
    for (let j = 0; j < bl.n; j++) {
      if (series && !series.has(bl.series[j]!)) continue;
      const ts = bl.sourceTs(j);
      if (ts < from || ts > to) continue;
      hits.push({ ts, seq: bl.seq(j), block: h.id, j, bl });
    }
  }
  const sign = desc ? -1 : 1;
  hits.sort((a, b) => sign * (a.ts - b.ts || a.seq - b.seq || a.block - b.block || a.j - b.j) || 0);
  if (hits.length > limit) hits.length = limit;
  if (desc) hits.reverse();
  return toRecords(db, hits);
}

/** Block heads in `ts_max` order with `from <= ts_max <= toMax`. */
function* heads(
  db: DatabaseSync,
  devices: number[] | undefined,
  from: number,
  toMax: number,
  desc: boolean,
): Generator<Head> {
  const dir = desc ? "DESC" : "ASC";
  const cols = "SELECT id, device_id, ts_min, ts_max FROM blocks";
  const range = "ts_max >= ? AND ts_max <= ?";
  const bounds: SQLInputValue[] = [bound(from), bound(toMax)];
  if (!devices || devices.length > MAX_MERGED_DEVICES) {
    const sql = `${cols} INDEXED BY blocks_ts WHERE ${range} ORDER BY ts_max ${dir}`;
    yield* db.prepare(sql).iterate(...bounds) as Iterable<Head>;
    return;
  }
  const sql = `${cols} INDEXED BY blocks_device_ts WHERE device_id = ? AND ${range} ` +
    `ORDER BY ts_max ${dir}`;
  // Merge the devices' ranges: each iterator is already in ts_max order.
  const its = devices.map((d) =>
    (db.prepare(sql).iterate(d, ...bounds) as IterableIterator<Head>)[Symbol.iterator]()
  );
  const cur = its.map((it) => it.next());
  for (;;) {
    let k = -1;
    for (let i = 0; i < cur.length; i++) {
      const c = cur[i]!;
      if (c.done) continue;
      const best = k < 0 ? undefined : cur[k]!.value as Head;
      const v = c.value as Head;
      if (!best || (desc ? v.ts_max > best.ts_max : v.ts_max < best.ts_max)) k = i;
    }
    if (k < 0) return;
    yield cur[k]!.value as Head;
    cur[k] = its[k]!.next();
  }
}

/** SQLite compares numbers with -/+Infinity but cannot bind them in every build: clamp. */
function bound(x: number): number {
  return Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, x));
}

function toRecords(db: DatabaseSync, hits: Hit[]): DataRecord[] {
  const nameOf = db.prepare(
    "SELECT s.tag, d.name AS device FROM series s JOIN devices d ON d.id = s.device_id WHERE s.id = ?",
  );
  const names = new Map<number, { device: string; tag: string }>();
  return hits.map(({ ts, seq, j, bl }) => {
    const sid = bl.series[j]!;
    let nm = names.get(sid);
    if (!nm) names.set(sid, nm = nameOf.get(sid) as { device: string; tag: string });
    const r: DataRecord = {
      device: nm.device,
      tag: nm.tag,
      value: blockValue(bl, j),
      quality: QUALITY_NAMES[(bl.flags[j]! >> 3) & 3] ?? "bad",
      sourceTs: ts,
      gatewayTs: bl.gatewayTs(j),
      seq,
    };
    const reason = bl.reason(j);
    if (reason !== undefined) r.reason = reason;
    return r;
  });
}
