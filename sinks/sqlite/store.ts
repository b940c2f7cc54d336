/**
 * @module
 * The history store behind the `sqlite` sink: a `node:sqlite` database in WAL mode
 * (`synchronous = NORMAL`, `auto_vacuum = INCREMENTAL`) holding blocks of records (schema.ts).
 *
 * `write()` splits a batch by device, maps each (device, tag) to its series id through an
 * in-memory cache of the `series` table, packs each device's records into one block (codec.ts)
 * and inserts the blocks inside a transaction that stays open for up to `flushIntervalMs`
 * (the sink's `flushInterval`, 1 s by default), so 1,000 small writes a second cost a few
 * commits instead of 1,000 (a commit costs about 100 µs, four times the insert of a
 * 100-record block). A crash, even SIGKILL, loses at most that window: what `commit()`,
 * `checkpoint()` (the sink's `flush()`) and `close()` have committed is in the WAL.
 * Other connections see writes once committed; the sink's own connection at once. With
 * `flushIntervalMs = 0` every write is committed before it returns.
 *
 * Retention runs on write, at most once per `retentionIntervalMs` (monotonic clock), in
 * insertion order (block id). Age is measured on `gateway_ts` (the gateway's clock, which a
 * device with a wrong clock cannot push into the past or future): blocks wholly older than
 * the cutoff are deleted and a block straddling it is rewritten without its old records.
 * Size is `page_count * page_size`; the oldest blocks are deleted until it fits, then
 * `PRAGMA incremental_vacuum` hands the freed pages back and a WAL checkpoint truncates the WAL.
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  Batch,
  BifrostError,
  type Clock,
  errorMessage,
  type QualityCode,
} from "../../engine/plugin.ts";
import { Checkpointer } from "./checkpointer.ts";
import { BlockEncoder, blockValue, decodeBlock } from "./codec.ts";
import { migrate } from "./migrate.ts";
import { databaseBytes, INSERT_BLOCK_SQL, maxSpan, SCHEMA_DDL } from "./schema.ts";

/** The device of every record of `b` (not empty), or undefined when there are several. */
function singleDevice(b: Batch): string | undefined {
  const device = b.device;
  const first = device[0]!;
  for (let i = 1; i < b.length; i++) if (device[i] !== first) return undefined;
  return first;
}

/** Settings of a {@linkcode HistoryStore}. */
export interface HistoryStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  maxAgeMs: number;
  maxBytes: number;
  retentionIntervalMs: number;
  /**
   * Writes are grouped into one transaction for at most this long (monotonic clock); 0
   * commits every write. A crash loses at most the writes of this window.
   */
  flushIntervalMs?: number;
  clock: Clock;
  /** Told when retention run by `write()` fails (the write itself succeeded). */
  onRetentionError?: (e: BifrostError) => void;
  /** Called when WAL checkpoints fall back from their worker to the writer. */
  onCheckpointError?: (message: string) => void;
}

/**
 * Records in one commit group from which checkpoints move to a worker (see
 * {@linkcode Checkpointer}): 10,000 values a second with the default 1 s flushInterval. Below
 * that, checkpoints are short and a worker's few MB of memory are not worth it.
 */
export const WORKER_CHECKPOINT_RECORDS = 10_000;

/** Page cache bound of a history connection, KiB (`PRAGMA cache_size`, SQLite's default). */
const CACHE_KIB = 2048;
/** Size the WAL file is truncated to after a checkpoint (`PRAGMA journal_size_limit`). */
const WAL_LIMIT_BYTES = 16 * 1024 * 1024;
/** Blocks handled per retention statement. */
const CHUNK = 256;
/** Size retention trims to this share of `maxBytes`, so it does not run on every interval. */
const SIZE_TARGET = 0.95;

/** Figures of a {@linkcode HistoryStore}. */
export interface HistoryStats {
  [key: string]: number;
  rows: number;
  bytes: number;
  written: number;
  deleted: number;
}

interface DeviceEntry {
  id: number;
  tags: Map<string, number>;
}

interface BlockHead {
  id: number;
  n: number;
  gw_min: number;
  gw_max: number;
}

/** An open history database. */
export class HistoryStore {
  readonly db: DatabaseSync;
  readonly #o: HistoryStoreOptions;
  readonly #enc = new BlockEncoder();
  #s!: Record<
    | "insert"
    | "device"
    | "addDevice"
    | "series"
    | "addSeries"
    | "span"
    | "heads"
    | "data"
    | "update"
    | "deleteUpTo"
    | "deleteId"
    | "savepoint"
    | "release",
    StatementSync
  >;
  /** device name -> id and its tags' series ids; cleared when a transaction rolls back. */
  #devices = new Map<string, DeviceEntry>();
  #span = 0;
  #idx = new Int32Array(1024);
  #ser = new Int32Array(1024);
  #rows = 0;
  #written = 0;
  /** Records written in the open transaction, and when it began (monotonic). */
  #pending = 0;
  #txStart = 0;
  #deleted = 0;
  #lastRetention = -Infinity;
  #checkpointer: Checkpointer | undefined;
  #closing = false;

  /** Opens (creating or migrating if needed) the database and its parent directory. */
  constructor(o: HistoryStoreOptions) {
    this.#o = o;
    try {
      if (o.path !== ":memory:") mkdirSync(dirname(o.path), { recursive: true });
      this.db = new DatabaseSync(o.path);
    } catch (e) {
      throw fail(`Cannot open history "${o.path}"`, e);
    }
    try {
      // auto_vacuum only takes effect on a database without tables; set it first.
      this.db.exec("PRAGMA auto_vacuum = INCREMENTAL");
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec("PRAGMA synchronous = NORMAL");
      this.db.exec("PRAGMA busy_timeout = 5000");
      // Memory bounds, set explicitly so that no build default can move them: a 2 MiB page
      // cache (a 1 s group at 100k values a second dirties 600-1,500 pages; the excess spills
      // to the WAL, and an 8 MiB cache measured no less I/O), no memory-mapped I/O, and a WAL
      // file cut back to 16 MiB once checkpointed (a migration or a long group can grow it).
      this.db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
      this.db.exec("PRAGMA mmap_size = 0");
      this.db.exec(`PRAGMA journal_size_limit = ${WAL_LIMIT_BYTES}`);
      const p = (sql: string) => this.db.prepare(sql);
      migrate(this.db, o.path, () => {
        this.db.exec(SCHEMA_DDL);
        this.#prepare(p);
      }, (b) => this.#append(b));
      this.#span = maxSpan(this.db);
      this.#rows = (p("SELECT coalesce(sum(n), 0) AS n FROM blocks").get() as { n: number }).n;
    } catch (e) {
      this.db.close();
      if (e instanceof BifrostError) throw e;
      throw fail(`Cannot open history "${o.path}"`, e);
    }
  }

  #prepare(p: (sql: string) => StatementSync): void {
    this.#s = {
      insert: p(INSERT_BLOCK_SQL),
      device: p("SELECT id FROM devices WHERE name = ?"),
      addDevice: p("INSERT INTO devices (name) VALUES (?)"),
      series: p("SELECT id, tag FROM series WHERE device_id = ?"),
      addSeries: p("INSERT INTO series (device_id, tag) VALUES (?, ?)"),
      span: p("INSERT OR REPLACE INTO meta (key, value) VALUES ('max_span', ?)"),
      heads: p("SELECT id, n, gw_min, gw_max FROM blocks WHERE id > ? ORDER BY id LIMIT ?"),
      data: p("SELECT data FROM blocks WHERE id = ?"),
      update: p(
        "UPDATE blocks SET n = ?, ts_min = ?, ts_max = ?, gw_min = ?, gw_max = ?, data = ? WHERE id = ?",
      ),
      deleteUpTo: p("DELETE FROM blocks WHERE id <= ?"),
      deleteId: p("DELETE FROM blocks WHERE id = ?"),
      // Prepared once: exec() would parse them again for every batch.
      savepoint: p("SAVEPOINT w"),
      release: p("RELEASE w"),
    };
  }

  /** Whether the database reclaims space with incremental vacuum (false for files made before). */
  get incrementalVacuum(): boolean {
    return (this.db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number })
      .auto_vacuum === 2;
  }

  /**
   * Writes a batch: into the open transaction, committed when `flushIntervalMs` has passed
   * since it began (at once when 0). Runs retention when its interval has passed.
   */
  write(b: Batch): void {
    const n = b.length;
    if (n > 0) {
      const span = this.#span;
      const db = this.db;
      const group = this.#pending;
      try {
        if (!db.isTransaction) db.exec("BEGIN"), this.#txStart = this.#o.clock.monotonic();
        // A poll's batch of known tags is one INSERT, atomic by itself. Anything else runs
        // under a savepoint: a failed batch leaves the earlier ones of the group intact.
        if (!this.#insertKnown(b)) {
          this.#s.savepoint.run();
          this.#append(b);
          this.#s.release.run();
        }
      } catch (e) {
        if (db.isTransaction) {
          try {
            db.exec("ROLLBACK TO w");
            db.exec("RELEASE w");
          } catch { /* no savepoint (the one-INSERT path); the error below says why */ }
        }
        // Ids cached during the failed write were rolled back with it.
        this.#devices.clear();
        this.#span = span;
        // Free space at the next write: the failure may be a full disk.
        this.#lastRetention = -Infinity;
        let lost = "";
        if (!db.isTransaction && group > 0) {
          // SQLite rolled the whole transaction back (a full disk or an I/O error does):
          // the group's earlier records are gone too; count them out and say so.
          this.#pending = 0;
          this.#rows = Math.max(0, this.#rows - group);
          this.#written -= group;
          this.#span = maxSpan(this.db);
          lost =
            ` (SQLite rolled back the open transaction: ${group} records written before it are lost too)`;
        }
        throw fail(`Cannot write ${n} records to history "${this.#o.path}"${lost}`, e);
      }
      this.#pending += n;
      this.#rows += n;
      this.#written += n;
      if (this.#o.clock.monotonic() - this.#txStart >= (this.#o.flushIntervalMs ?? 0)) {
        this.commit();
      }
    }
    if (this.#o.clock.monotonic() - this.#lastRetention >= this.#o.retentionIntervalMs) {
      // The batch is written: a retention failure must not make the caller write it again.
      try {
        this.retain();
      } catch (e) {
        this.#o.onRetentionError?.(e as BifrostError);
      }
    }
  }

  /** Records written but not committed yet. */
  get pending(): number {
    return this.#pending;
  }

  /** Commits the open transaction, if any. On failure its records are lost and counted out. */
  commit(): void {
    if (!this.db.isTransaction) return;
    const n = this.#pending;
    try {
      this.db.exec("COMMIT");
      this.#pending = 0;
    } catch (e) {
      try {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
      } catch { /* the error below says why */ }
      this.#pending = 0;
      this.#rows = Math.max(0, this.#rows - n);
      this.#written -= n;
      this.#devices.clear();
      this.#span = maxSpan(this.db);
      this.#lastRetention = -Infinity;
      throw fail(`Cannot commit ${n} records to history "${this.#o.path}"`, e);
    }
    if (
      n >= WORKER_CHECKPOINT_RECORDS && !this.#checkpointer && !this.#closing &&
      this.#o.path !== ":memory:"
    ) {
      this.#checkpointer = new Checkpointer(
        this.db,
        this.#o.path,
        (m) => this.#o.onCheckpointError?.(m),
      );
    }
  }

  /**
   * Inserts `b` as one block with one statement when that is all it takes: one device whose
   * id and series ids are all cached, and a time span within `max_span`. Returns false,
   * having written nothing, otherwise.
   */
  #insertKnown(b: Batch): boolean {
    const n = b.length;
    const device = singleDevice(b);
    const dev = device === undefined ? undefined : this.#devices.get(device);
    if (dev === undefined) return false;
    this.#room(n);
    const idx = this.#idx;
    for (let i = 0; i < n; i++) idx[i] = i;
    if (!this.#series(b, dev, idx, n, false)) return false;
    return this.#insert(b, dev, idx, n, false);
  }

  /** Inserts the blocks of a batch (inside the caller's transaction). */
  #append(b: Batch): void {
    const n = b.length;
    this.#room(n);
    const single = singleDevice(b);
    if (single !== undefined) {
      for (let i = 0; i < n; i++) this.#idx[i] = i;
      this.#block(b, this.#entry(single), this.#idx, n);
      return;
    }
    // Several devices: one block each, in order of first appearance.
    const groups = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const d = b.device[i]!;
      const g = groups.get(d);
      if (g) g.push(i);
      else groups.set(d, [i]);
    }
    for (const [d, g] of groups) {
      this.#idx.set(g);
      this.#block(b, this.#entry(d), this.#idx, g.length);
    }
  }

  #room(n: number): void {
    if (this.#idx.length < n) {
      this.#idx = new Int32Array(n * 2);
      this.#ser = new Int32Array(n * 2);
    }
  }

  #block(b: Batch, dev: DeviceEntry, idx: Int32Array, n: number): void {
    this.#series(b, dev, idx, n, true);
    this.#insert(b, dev, idx, n, true);
  }

  /**
   * Puts the series ids of records `idx[0..n)` of `b` in `#ser`, adding the missing series
   * when `add`; without `add`, returns false at the first one missing.
   */
  #series(b: Batch, dev: DeviceEntry, idx: Int32Array, n: number, add: boolean): boolean {
    const ser = this.#ser;
    const tags = b.tag;
    for (let j = 0; j < n; j++) {
      const tag = tags[idx[j]!]!;
      const id = dev.tags.get(tag);
      if (id !== undefined) ser[j] = id;
      else if (add) ser[j] = this.#addSeries(dev, tag);
      else return false;
    }
    return true;
  }

  /**
   * Inserts records `idx[0..n)` of `b` (series ids in `#ser`) as one block. Without `grow`,
   * returns false without writing when the block would widen `max_span`.
   */
  #insert(b: Batch, dev: DeviceEntry, idx: Int32Array, n: number, grow: boolean): boolean {
    let tsMin = Infinity, tsMax = -Infinity, gwMin = Infinity, gwMax = -Infinity;
    for (let j = 0; j < n; j++) {
      const i = idx[j]!;
      const ts = b.sourceTs[i]!, gw = b.gatewayTs[i]!;
      if (ts < tsMin) tsMin = ts;
      if (ts > tsMax) tsMax = ts;
      if (gw < gwMin) gwMin = gw;
      if (gw > gwMax) gwMax = gw;
    }
    if (!(tsMin <= tsMax)) tsMin = tsMax = 0; // only NaN timestamps
    if (!(gwMin <= gwMax)) gwMin = gwMax = 0;
    if (tsMax - tsMin > this.#span) {
      if (!grow) return false;
      this.#span = tsMax - tsMin;
      this.#s.span.run(this.#span);
    }
    const data = this.#enc.encode(b, idx, this.#ser, n);
    this.#s.insert.run(dev.id, n, tsMin, tsMax, gwMin, gwMax, data);
    return true;
  }

  #entry(name: string): DeviceEntry {
    let e = this.#devices.get(name);
    if (e) return e;
    const row = this.#s.device.get(name) as { id: number } | undefined;
    const id = row ? row.id : Number(this.#s.addDevice.run(name).lastInsertRowid);
    e = { id, tags: new Map() };
    if (row) {
      for (const s of this.#s.series.all(id) as { id: number; tag: string }[]) {
        e.tags.set(s.tag, s.id);
      }
    }
    this.#devices.set(name, e);
    return e;
  }

  #addSeries(dev: DeviceEntry, tag: string): number {
    const id = Number(this.#s.addSeries.run(dev.id, tag).lastInsertRowid);
    dev.tags.set(tag, id);
    return id;
  }

  /** Enforces maxAge and maxSize now; returns the number of records deleted. */
  retain(): number {
    this.#lastRetention = this.#o.clock.monotonic();
    this.commit();
    const before = this.#deleted;
    try {
      this.#trimToAge(this.#o.clock.now() - this.#o.maxAgeMs);
      this.#trimToSize();
      if (this.#deleted > before) {
        this.#vacuum();
        this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (e) {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
      throw fail(`Cannot apply retention to history "${this.#o.path}"`, e);
    }
    return this.#deleted - before;
  }

  /** Deletes, oldest block first, the records whose gateway time is before `cutoff`. */
  #trimToAge(cutoff: number): void {
    for (let after = 0;;) {
      const heads = this.#s.heads.all(after, CHUNK) as unknown as BlockHead[];
      let done = heads.length < CHUNK;
      this.db.exec("BEGIN");
      for (const h of heads) {
        if (h.gw_min >= cutoff) {
          done = true;
          break;
        }
        if (h.gw_max < cutoff) this.#s.deleteId.run(h.id), this.#count(h.n);
        else this.#count(this.#rewrite(h, cutoff));
        after = h.id;
      }
      this.db.exec("COMMIT");
      if (done) return;
    }
  }

  /** Rewrites a block without its records older than `cutoff`; returns how many it dropped. */
  #rewrite(h: BlockHead, cutoff: number): number {
    const data = (this.#s.data.get(h.id) as { data: Uint8Array }).data;
    const bl = decodeBlock(data);
    const keep = new Batch(bl.n);
    const series: number[] = [];
    let tsMin = Infinity, tsMax = -Infinity, gwMin = Infinity, gwMax = -Infinity;
    for (let j = 0; j < bl.n; j++) {
      const gw = bl.gatewayTs(j);
      if (gw < cutoff) continue;
      const ts = bl.sourceTs(j);
      const f = bl.flags[j]!;
      keep.add(
        "",
        "",
        blockValue(bl, j),
        ((f >> 3) & 3) as QualityCode,
        bl.reason(j),
        ts,
        gw,
        bl.seq(j),
      );
      series.push(bl.series[j]!);
      tsMin = Math.min(tsMin, ts), tsMax = Math.max(tsMax, ts);
      gwMin = Math.min(gwMin, gw), gwMax = Math.max(gwMax, gw);
    }
    const idx = Array.from({ length: keep.length }, (_, i) => i);
    const enc = this.#enc.encode(keep, idx, series, keep.length);
    this.#s.update.run(keep.length, tsMin, tsMax, gwMin, gwMax, enc, h.id);
    return bl.n - keep.length;
  }

  #trimToSize(): void {
    const max = this.#o.maxBytes;
    let bytes = databaseBytes(this.db);
    if (bytes <= max) return;
    const target = max * SIZE_TARGET;
    // Deleting a share of the records frees a little less than that share of the pages
    // (index pages empty out unevenly), so measure again after each round.
    for (let round = 0; round < 50 && bytes > target && this.#rows > 0; round++) {
      const todo = Math.max(1, Math.ceil(this.#rows * ((bytes - target) / bytes) * 1.05));
      let upTo = -1, n = 0;
      for (let after = 0; n < todo;) {
        const heads = this.#s.heads.all(after, CHUNK) as unknown as BlockHead[];
        for (const h of heads) {
          upTo = after = h.id, n += h.n;
          if (n >= todo) break;
        }
        if (heads.length < CHUNK) break;
      }
      if (upTo < 0) break;
      this.#s.deleteUpTo.run(upTo);
      this.#count(n);
      this.#vacuum();
      bytes = databaseBytes(this.db);
    }
  }

  /** Returns free pages to the file system. */
  #vacuum(): void {
    // Each result row of incremental_vacuum frees one page, and exec() steps only once here:
    // all() runs it to the end.
    this.db.prepare("PRAGMA incremental_vacuum").all();
  }

  #count(deleted: number): void {
    this.#deleted += deleted;
    this.#rows = Math.max(0, this.#rows - deleted);
  }

  /** Records held, database bytes, records written and deleted since opening, series known. */
  stats(): HistoryStats {
    let bytes = 0;
    try {
      bytes = databaseBytes(this.db);
    } catch { /* closed */ }
    return { rows: this.#rows, bytes, written: this.#written, deleted: this.#deleted };
  }

  /** Commits pending writes and checkpoints the WAL into the database file. */
  checkpoint(): void {
    this.commit();
    try {
      this.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (e) {
      throw fail(`Cannot checkpoint history "${this.#o.path}"`, e);
    }
  }

  /**
   * Commits pending writes and closes the database (idempotent; closes even if the commit
   * fails). The checkpoint worker is stopped and awaited first: no checkpoint runs on the file
   * once the writer has closed it.
   */
  async close(): Promise<void> {
    if (!this.db.isOpen || this.#closing) return;
    this.#closing = true;
    await this.#checkpointer?.stop();
    try {
      this.commit();
    } finally {
      this.db.close();
    }
  }
}

function fail(what: string, e: unknown): BifrostError {
  return new BifrostError("SINK_FAILED", `${what}: ${errorMessage(e)}`, { cause: e });
}
