/**
 * @module
 * The history store behind the `sqlite` sink: a `node:sqlite` database in WAL mode with
 * `auto_vacuum = INCREMENTAL`, batches inserted in one transaction through a prepared
 * statement, and retention by age and by size.
 *
 * Retention runs on write, at most once per `retentionIntervalMs` (monotonic clock), and
 * deletes the oldest rows (lowest id: insertion order) in chunks so no single statement holds
 * the database for long. Age is measured on `gateway_ts` (the gateway's clock, which a
 * device with a wrong clock cannot push into the past or future). Size is
 * `page_count * page_size`; after deleting, `PRAGMA incremental_vacuum` hands the freed
 * pages back to the file system and a WAL checkpoint truncates the WAL.
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Clock } from "../../engine/clock.ts";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import type { Batch } from "../../engine/record.ts";
import { databaseBytes, HISTORY_DDL, INSERT_SQL, valueText } from "./schema.ts";

/** Settings of a {@linkcode HistoryStore}. */
export interface HistoryStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  maxAgeMs: number;
  maxBytes: number;
  retentionIntervalMs: number;
  clock: Clock;
  /** Told when retention run by `write()` fails (the write itself succeeded). */
  onRetentionError?: (e: BifrostError) => void;
}

/** Rows deleted per statement. */
const CHUNK = 5_000;
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

/** An open history database. */
export class HistoryStore {
  readonly db: DatabaseSync;
  readonly #o: HistoryStoreOptions;
  readonly #insert: StatementSync;
  readonly #oldest: StatementSync;
  readonly #deleteOld: StatementSync;
  readonly #deleteFirst: StatementSync;
  readonly #vacuumStmt: StatementSync;
  #rows: number;
  #written = 0;
  #deleted = 0;
  #lastRetention = -Infinity;

  /** Opens (creating if needed) the database and its parent directory. */
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
      this.db.exec(HISTORY_DDL);
      this.#insert = this.db.prepare(INSERT_SQL);
      this.#oldest = this.db.prepare("SELECT gateway_ts FROM history ORDER BY id LIMIT 1");
      this.#deleteOld = this.db.prepare(
        "DELETE FROM history WHERE id IN (SELECT id FROM history ORDER BY id LIMIT ?) AND gateway_ts < ?",
      );
      this.#deleteFirst = this.db.prepare(
        "DELETE FROM history WHERE id IN (SELECT id FROM history ORDER BY id LIMIT ?)",
      );
      this.#vacuumStmt = this.db.prepare("PRAGMA incremental_vacuum");
      this.#rows = (this.db.prepare("SELECT count(*) AS n FROM history").get() as { n: number }).n;
    } catch (e) {
      this.db.close();
      throw fail(`Cannot open history "${o.path}"`, e);
    }
  }

  /** Whether the database reclaims space with incremental vacuum (false for files made before). */
  get incrementalVacuum(): boolean {
    return (this.db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number })
      .auto_vacuum === 2;
  }

  /** Inserts a batch in one transaction; runs retention when its interval has passed. */
  write(b: Batch): void {
    const n = b.length;
    if (n > 0) {
      const ins = this.#insert;
      try {
        this.db.exec("BEGIN");
        for (let i = 0; i < n; i++) {
          const k = b.kind[i]!;
          const num = k <= 1 ? b.num[i]! : null;
          ins.run(
            b.device[i]!,
            b.tag[i]!,
            k,
            num,
            k <= 1 ? null : valueText(b, i),
            b.quality[i]!,
            b.reason[i] ?? null,
            b.sourceTs[i]!,
            b.gatewayTs[i]!,
            b.seq[i]!,
          );
        }
        this.db.exec("COMMIT");
      } catch (e) {
        if (this.db.isTransaction) {
          try {
            this.db.exec("ROLLBACK");
          } catch { /* the rollback of a failed commit may fail too; the error below says why */ }
        }
        // Free space at the next write: the failure may be a full disk.
        this.#lastRetention = -Infinity;
        throw fail(`Cannot write ${n} records to history "${this.#o.path}"`, e);
      }
      this.#rows += n;
      this.#written += n;
    }
    if (this.#o.clock.monotonic() - this.#lastRetention >= this.#o.retentionIntervalMs) {
      // The batch is committed: a retention failure must not make the caller write it again.
      try {
        this.retain();
      } catch (e) {
        this.#o.onRetentionError?.(e as BifrostError);
      }
    }
  }

  /** Enforces maxAge and maxSize now; returns the number of rows deleted. */
  retain(): number {
    this.#lastRetention = this.#o.clock.monotonic();
    const before = this.#deleted;
    try {
      const cutoff = this.#o.clock.now() - this.#o.maxAgeMs;
      for (;;) {
        const oldest = this.#oldest.get() as { gateway_ts: number } | undefined;
        if (oldest === undefined || oldest.gateway_ts >= cutoff) break;
        this.#count(Number(this.#deleteOld.run(CHUNK, cutoff).changes));
      }
      this.#trimToSize();
      if (this.#deleted > before) {
        this.#vacuum();
        this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      }
    } catch (e) {
      throw fail(`Cannot apply retention to history "${this.#o.path}"`, e);
    }
    return this.#deleted - before;
  }

  #trimToSize(): void {
    const max = this.#o.maxBytes;
    let bytes = databaseBytes(this.db);
    if (bytes <= max) return;
    const target = max * SIZE_TARGET;
    // Deleting a share of the rows frees a little less than that share of the pages (index
    // pages empty out unevenly), so measure again after each round.
    for (let round = 0; round < 50 && bytes > target && this.#rows > 0; round++) {
      let todo = Math.max(1, Math.ceil(this.#rows * ((bytes - target) / bytes) * 1.05));
      while (todo > 0 && this.#rows > 0) {
        const changes = Number(this.#deleteFirst.run(Math.min(CHUNK, todo)).changes);
        if (changes === 0) break;
        this.#count(changes);
        todo -= changes;
      }
      this.#vacuum();
      bytes = databaseBytes(this.db);
    }
  }

  /** Returns free pages to the file system. */
  #vacuum(): void {
    // Each result row of incremental_vacuum frees one page, and exec() steps only once here:
    // all() runs it to the end.
    this.#vacuumStmt.all();
  }

  #count(deleted: number): void {
    this.#deleted += deleted;
    this.#rows = Math.max(0, this.#rows - deleted);
  }

  /** Rows held, database bytes, rows written and deleted since opening. */
  stats(): HistoryStats {
    let bytes = 0;
    try {
      bytes = databaseBytes(this.db);
    } catch { /* closed */ }
    return { rows: this.#rows, bytes, written: this.#written, deleted: this.#deleted };
  }

  /** Checkpoints the WAL into the database file. */
  checkpoint(): void {
    try {
      this.db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (e) {
      throw fail(`Cannot checkpoint history "${this.#o.path}"`, e);
    }
  }

  /** Closes the database (idempotent). */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

function fail(what: string, e: unknown): BifrostError {
  return new BifrostError("SINK_FAILED", `${what}: ${errorMessage(e)}`, { cause: e });
}
