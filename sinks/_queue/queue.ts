/**
 * @module
 * The durable store-and-forward queue of network sinks: a `node:sqlite` database in WAL
 * mode, one file per sink. `enqueue()` commits a batch before it returns, so a record whose
 * `write()` resolved survives a killed process; the sender `peek()`s from the oldest record,
 * publishes, and `ack()`s only what the destination confirmed.
 *
 * Storage: one row per batch (split into rows of at most {@linkcode ROW_RECORDS}), the
 * batch encoded by {@linkcode encodeBatch}. Every record gets an id, consecutive in
 * enqueue order; a row's key is the id of its last record, so "rows holding ids after X"
 * and "rows wholly acknowledged" are range scans on the primary key. Records are only ever
 * removed from the head (acknowledged or dropped), so the ids held are always the one range
 * `(head, last]`, and `head` (kept in the `meta` table) is all the state an ack writes.
 * A row partly acknowledged stays until its last record is; `peek()` skips what is before
 * the head.
 *
 * Bounds (`maxRecords`, `maxAgeMs`, `maxBytes`) drop the oldest records, counted in
 * `dropped` and logged at most once per {@linkcode DROP_LOG_INTERVAL_MS}, the lines adding
 * up to that count (what the interval held back is logged later, at the latest on close).
 * Age is the time since enqueue (gateway clock); bytes are the encoded batches (the file is
 * a little larger: page overhead; freed pages are reused, and handed back once the queue
 * empties).
 *
 * Memory stays flat whatever the backlog: nothing is loaded at open but counters, and
 * `peek()` decodes a few rows at a time (the last decoded row is cached, so reading a large
 * row in small steps decodes it once).
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  Batch,
  BifrostError,
  type Clock,
  errorMessage,
  type Logger,
  parseDuration,
  type SinkContext,
} from "../../engine/plugin.ts";
import { parseSize } from "../sqlite/size.ts";
import { QUEUE_DEFAULTS, type QueueConfig, queuePath } from "./spec.ts";
import { decodeBatch, encodeBatch, sliceBatch } from "./codec.ts";

/** Records per stored row at most (a larger batch is split). */
export const ROW_RECORDS = 4096;
/** Drops are logged at most this often (the count is always exact). */
export const DROP_LOG_INTERVAL_MS = 10_000;
/** Free pages above which an emptied queue hands space back to the file system. */
const VACUUM_FREE_PAGES = 1024;

const DDL = `
CREATE TABLE IF NOT EXISTS queue (
  last_id INTEGER PRIMARY KEY,
  n INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (k, v) VALUES ('head', 0);
`;

/** Settings of a {@linkcode DurableQueue}. */
export interface DurableQueueOptions {
  /** Database file (parent directories are created), or `:memory:` for tests. */
  path: string;
  /** Records held at most; the oldest are dropped beyond. */
  maxRecords?: number;
  /** Records enqueued longer ago than this are dropped (ms). */
  maxAgeMs?: number;
  /** Encoded bytes held at most; the oldest rows are dropped beyond. */
  maxBytes?: number;
  clock: Clock;
  /** Where drops are reported. */
  log?: Logger;
  /** Name used in messages, e.g. the sink's. */
  name?: string;
}

/** Records read by {@linkcode DurableQueue.peek}: record `i` has id `firstId + i`. */
export interface QueueChunk {
  firstId: number;
  lastId: number;
  batch: Batch;
}

/** Figures of a queue since it was opened (depth and age: now). */
export interface QueueStats {
  [key: string]: number;
  enqueued: number;
  /** Records acknowledged (removed because the destination confirmed them). */
  sent: number;
  dropped: number;
  depth: number;
  oldestAgeMs: number;
  bytes: number;
}

/** Why records were dropped. */
export type DropReason = "maxRecords" | "maxAge" | "maxSize";

interface Row {
  last_id: number;
  n: number;
  enqueued_at: number;
  data: Uint8Array;
}

/** An open durable queue. Not safe to open the same file twice at once. */
export class DurableQueue {
  readonly path: string;
  readonly db: DatabaseSync;
  readonly #o: DurableQueueOptions;
  readonly #name: string;
  readonly #insert: StatementSync;
  readonly #setHead: StatementSync;
  readonly #deleteUpTo: StatementSync;
  readonly #rowsAfter: StatementSync;
  readonly #firstRow: StatementSync;
  readonly #rowSizes: StatementSync;
  readonly #bytesUpTo: StatementSync;
  /** Last removed id (acknowledged or dropped). */
  #head: number;
  /** Last enqueued id. */
  #last: number;
  #bytes: number;
  /** enqueued_at of the row holding `#head + 1`, or undefined when empty. */
  #oldestAt: number | undefined;
  #cache: { lastId: number; batch: Batch } | undefined;
  #stats = { enqueued: 0, sent: 0, dropped: 0 };
  #unlogged: Record<DropReason, number> = { maxRecords: 0, maxAge: 0, maxSize: 0 };
  #unloggedTotal = 0;
  #lastDropLog = -Infinity;

  /** Opens (creating if needed) the queue file and its parent directory. */
  constructor(o: DurableQueueOptions) {
    this.#o = o;
    this.path = o.path;
    this.#name = o.name ?? o.path;
    try {
      if (o.path !== ":memory:") mkdirSync(dirname(o.path), { recursive: true });
      this.db = new DatabaseSync(o.path);
    } catch (e) {
      throw fail(`Cannot open queue "${o.path}"`, e);
    }
    try {
      this.db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      this.db.exec("PRAGMA journal_mode = WAL");
      // NORMAL: a commit survives a killed process (the WAL is in the OS's hands); only a
      // power cut may lose the last commits.
      this.db.exec("PRAGMA synchronous = NORMAL");
      this.db.exec("PRAGMA busy_timeout = 5000");
      this.db.exec(DDL);
      this.#insert = this.db.prepare(
        "INSERT INTO queue (last_id, n, enqueued_at, data) VALUES (?, ?, ?, ?)",
      );
      this.#setHead = this.db.prepare("UPDATE meta SET v = ? WHERE k = 'head'");
      this.#deleteUpTo = this.db.prepare("DELETE FROM queue WHERE last_id <= ?");
      this.#rowsAfter = this.db.prepare(
        "SELECT last_id, n, enqueued_at, data FROM queue WHERE last_id > ? ORDER BY last_id LIMIT ?",
      );
      this.#firstRow = this.db.prepare(
        "SELECT last_id, n, enqueued_at FROM queue WHERE last_id > ? ORDER BY last_id LIMIT 1",
      );
      this.#rowSizes = this.db.prepare(
        "SELECT last_id, n, enqueued_at, length(data) AS size FROM queue WHERE last_id > ? " +
          "ORDER BY last_id LIMIT 64",
      );
      this.#bytesUpTo = this.db.prepare(
        "SELECT coalesce(sum(length(data)), 0) AS b FROM queue WHERE last_id <= ?",
      );
      const head = this.db.prepare("SELECT v FROM meta WHERE k = 'head'").get() as { v: number };
      this.#head = head.v;
      // Rows wholly before the head cannot be left by a committed ack; clear them anyway.
      this.#deleteUpTo.run(this.#head);
      const agg = this.db.prepare(
        "SELECT max(last_id) AS last, coalesce(sum(length(data)), 0) AS bytes FROM queue",
      ).get() as { last: number | null; bytes: number };
      this.#last = Math.max(agg.last ?? 0, this.#head);
      this.#bytes = agg.bytes;
      this.#refreshOldest();
    } catch (e) {
      this.db.close();
      throw fail(`Cannot open queue "${o.path}"`, e);
    }
  }

  /** Id of the last record removed (acknowledged or dropped); 0 when none ever was. */
  get headId(): number {
    return this.#head;
  }

  /** Id of the last record enqueued; equals {@linkcode headId} when the queue is empty. */
  get lastId(): number {
    return this.#last;
  }

  /** Records held. */
  depth(): number {
    return this.#last - this.#head;
  }

  /** How long ago the oldest held record was enqueued (ms); 0 when empty. */
  oldestAgeMs(): number {
    return this.#oldestAt === undefined ? 0 : Math.max(0, this.#o.clock.now() - this.#oldestAt);
  }

  /**
   * Stores the batch in one transaction and applies the bounds; returns the id of its last
   * record. When this returns, the records survive a killed process.
   */
  enqueue(b: Batch): number {
    if (b.length === 0) return this.#last;
    const now = this.#o.clock.now();
    let id = this.#last;
    let bytes = 0;
    try {
      this.db.exec("BEGIN");
      for (let from = 0; from < b.length; from += ROW_RECORDS) {
        const to = Math.min(b.length, from + ROW_RECORDS);
        const blob = encodeBatch(b, from, to);
        id += to - from;
        this.#insert.run(id, to - from, now, blob);
        bytes += blob.length;
      }
      this.db.exec("COMMIT");
    } catch (e) {
      this.#rollback();
      throw fail(`Cannot enqueue ${b.length} records to queue "${this.#name}"`, e);
    }
    if (this.#oldestAt === undefined) this.#oldestAt = now;
    this.#last = id;
    this.#bytes += bytes;
    this.#stats.enqueued += b.length;
    if (this.#unloggedTotal > 0) this.#logDrops(false);
    try {
      this.trim();
    } catch (e) {
      // The batch is committed: a failed trim must not make the caller enqueue it again.
      this.#o.log?.warn(`Queue "${this.#name}" could not apply its bounds`, {
        error: errorMessage(e),
      });
    }
    return id;
  }

  /**
   * The oldest held records with ids after `after` (default: from the head), at most `max`,
   * without removing them; undefined when there are none.
   */
  peek(max: number, after = this.#head): QueueChunk | undefined {
    const from = Math.max(after, this.#head);
    if (from >= this.#last || max <= 0) return undefined;
    this.#trimAge();
    const start = Math.max(from, this.#head);
    if (start >= this.#last) return undefined;
    const parts: Batch[] = [];
    let got = 0;
    let cursor = start;
    while (got < max && cursor < this.#last) {
      const c = this.#cache;
      if (c && c.lastId > cursor && c.lastId - c.batch.length <= cursor) {
        got += this.#take(parts, c.lastId, c.batch, cursor, max - got);
        cursor = start + got;
        continue;
      }
      const rows = this.#rowsAfter.all(cursor, 8) as unknown as Row[];
      if (rows.length === 0) break;
      for (const row of rows) {
        if (got >= max) break;
        const batch = decodeBatch(row.data);
        this.#cache = { lastId: row.last_id, batch };
        got += this.#take(parts, row.last_id, batch, cursor, max - got);
        cursor = start + got;
      }
    }
    if (got === 0) return undefined;
    const batch = parts.length === 1 ? parts[0]! : Batch.concat(parts);
    return { firstId: start + 1, lastId: start + got, batch };
  }

  #take(parts: Batch[], lastId: number, b: Batch, cursor: number, room: number): number {
    const firstId = lastId - b.length + 1;
    const from = cursor + 1 - firstId;
    const to = Math.min(b.length, from + room);
    parts.push(sliceBatch(b, from, to));
    return to - from;
  }

  /**
   * Removes every record with an id up to `upTo` (the destination confirmed them); returns
   * how many were removed. Ids at or before the head are ignored (already removed).
   */
  ack(upTo: number): number {
    const to = Math.min(upTo, this.#last);
    if (to <= this.#head) return 0;
    const n = this.#removeTo(to, `acknowledge records up to ${to}`);
    this.#stats.sent += n;
    if (this.#unloggedTotal > 0) this.#logDrops(false);
    if (this.depth() === 0) this.#reclaim();
    return n;
  }

  /** Applies maxRecords, maxAge and maxSize now; returns the records dropped. */
  trim(): number {
    let dropped = this.#trimAge();
    const maxRecords = this.#o.maxRecords ?? Infinity;
    if (this.depth() > maxRecords) {
      const n = this.#removeTo(this.#last - maxRecords, "drop the oldest records");
      this.#dropped(n, "maxRecords");
      dropped += n;
    }
    const maxBytes = this.#o.maxBytes ?? Infinity;
    while (this.#bytes > maxBytes && this.depth() > 0) {
      // Whole rows: bytes are only freed when a row goes.
      let to = this.#head;
      let bytes = this.#bytes;
      for (
        const r of this.#rowSizes.all(this.#head) as unknown as { last_id: number; size: number }[]
      ) {
        if (bytes <= maxBytes) break;
        to = r.last_id;
        bytes -= r.size;
      }
      if (to === this.#head) break;
      const n = this.#removeTo(to, "drop the oldest records");
      this.#dropped(n, "maxSize");
      dropped += n;
    }
    return dropped;
  }

  #trimAge(): number {
    const maxAge = this.#o.maxAgeMs ?? Infinity;
    if (this.#oldestAt === undefined || !Number.isFinite(maxAge)) return 0;
    const cutoff = this.#o.clock.now() - maxAge;
    let dropped = 0;
    while (this.#oldestAt !== undefined && this.#oldestAt < cutoff) {
      let to = this.#head;
      for (const r of this.#rowSizes.all(this.#head) as unknown as Row[]) {
        if (r.enqueued_at >= cutoff) break;
        to = r.last_id;
      }
      if (to === this.#head) break;
      const n = this.#removeTo(to, "drop expired records");
      this.#dropped(n, "maxAge");
      dropped += n;
    }
    return dropped;
  }

  /** Moves the head to `to`, deleting wholly removed rows, in one transaction. */
  #removeTo(to: number, what: string): number {
    const n = to - this.#head;
    try {
      this.db.exec("BEGIN");
      this.#setHead.run(to);
      const freed = this.#bytesUpTo.get(to) as { b: number };
      this.#deleteUpTo.run(to);
      this.db.exec("COMMIT");
      this.#bytes -= freed.b;
    } catch (e) {
      this.#rollback();
      throw fail(`Cannot ${what} in queue "${this.#name}"`, e);
    }
    this.#head = to;
    if (this.#cache && this.#cache.lastId <= to) this.#cache = undefined;
    this.#refreshOldest();
    return n;
  }

  #refreshOldest(): void {
    const r = this.#firstRow.get(this.#head) as Row | undefined;
    this.#oldestAt = r?.enqueued_at;
  }

  #dropped(n: number, reason: DropReason): void {
    if (n <= 0) return;
    this.#stats.dropped += n;
    this.#unlogged[reason] += n;
    this.#unloggedTotal += n;
    this.#logDrops(false);
  }

  /**
   * Logs the drops not yet logged: at once the first time, then at most once per
   * {@linkcode DROP_LOG_INTERVAL_MS} (at the next enqueue, ack or drop after it), and
   * whatever is left on close. The `records` of every line add up to `stats().dropped`:
   * a tail held back by the interval is never left out.
   */
  #logDrops(force: boolean): void {
    const log = this.#o.log;
    if (!log || this.#unloggedTotal === 0) return;
    const t = this.#o.clock.monotonic();
    if (!force && t - this.#lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.#lastDropLog = t;
    const by = Object.entries(this.#unlogged).filter(([, v]) => v > 0);
    log.warn(`Queue "${this.#name}" dropped its oldest records to stay within its bounds`, {
      records: this.#unloggedTotal,
      dropped: Object.fromEntries(by),
      totalDropped: this.#stats.dropped,
      limits: {
        maxRecords: this.#o.maxRecords,
        maxAgeMs: this.#o.maxAgeMs,
        maxBytes: this.#o.maxBytes,
      },
    });
    this.#unlogged = { maxRecords: 0, maxAge: 0, maxSize: 0 };
    this.#unloggedTotal = 0;
  }

  /** Hands free pages back once the queue has emptied after a large backlog. */
  #reclaim(): void {
    try {
      const free = this.db.prepare("PRAGMA freelist_count").get() as { freelist_count: number };
      if (free.freelist_count < VACUUM_FREE_PAGES) return;
      this.db.prepare("PRAGMA incremental_vacuum").all();
      this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // Space is reclaimed at a later empty queue; the data is consistent either way.
    }
  }

  #rollback(): void {
    if (!this.db.isTransaction) return;
    try {
      this.db.exec("ROLLBACK");
    } catch { /* a failed commit may not roll back either; the caller's error says why */ }
  }

  /** Figures since opening; depth and age as of now. */
  stats(): QueueStats {
    return {
      ...this.#stats,
      depth: this.depth(),
      oldestAgeMs: this.oldestAgeMs(),
      bytes: this.#bytes,
    };
  }

  /** Copies the WAL into the database file (passive: never waits). */
  checkpoint(): void {
    try {
      this.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (e) {
      throw fail(`Cannot checkpoint queue "${this.#name}"`, e);
    }
  }

  /** Logs the drops not logged yet, then closes the database (idempotent). */
  close(): void {
    this.#logDrops(true);
    this.#cache = undefined;
    if (this.db.isOpen) this.db.close();
  }
}

function fail(what: string, e: unknown): BifrostError {
  return new BifrostError("SINK_FAILED", `${what}: ${errorMessage(e)}`, { cause: e });
}

/** Opens the durable queue of a sink from its `queue:` block. */
export function openSinkQueue(
  config: QueueConfig | undefined,
  ctx: Pick<SinkContext, "name" | "clock"> & Partial<Pick<SinkContext, "log" | "dataDir">>,
): DurableQueue {
  const o: ConstructorParameters<typeof DurableQueue>[0] = {
    path: queuePath(config, ctx.name, ctx.dataDir),
    maxRecords: config?.maxRecords ?? QUEUE_DEFAULTS.maxRecords,
    maxAgeMs: parseDuration(config?.maxAge ?? QUEUE_DEFAULTS.maxAge),
    maxBytes: parseSize(config?.maxSize ?? QUEUE_DEFAULTS.maxSize),
    clock: ctx.clock,
    name: ctx.name,
  };
  if (ctx.log) o.log = ctx.log;
  return new DurableQueue(o);
}
