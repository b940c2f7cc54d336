/**
 * @module
 * The dead-letter table of a forwarding sink: records the destination refused for good
 * (HTTP 400, a PostgreSQL constraint violation…) with the reason it gave, so the queue moves
 * on and an operator can still see, fix and replay them. One `node:sqlite` file per sink
 * beside its queue (`<queue dir>/<sink>.dead.db`, table `dead_letter`), bounded to
 * `maxRecords` (the oldest go first), readable with any SQLite client:
 *
 * ```sh
 * sqlite3 data/queue/history.dead.db "SELECT datetime(at/1000,'unixepoch'), reason, record FROM dead_letter"
 * ```
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type Batch,
  BifrostError,
  type Clock,
  type DataRecord,
  errorMessage,
} from "../../engine/plugin.ts";
import { DEAD_LETTER_MAX } from "./spec.ts";

const DDL = `
CREATE TABLE IF NOT EXISTS dead_letter (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  device TEXT NOT NULL,
  tag TEXT NOT NULL,
  seq INTEGER NOT NULL,
  historical INTEGER NOT NULL,
  code TEXT,
  reason TEXT NOT NULL,
  record TEXT NOT NULL
);
`;

/** One stored dead letter. */
export interface DeadLetter {
  id: number;
  /** When it was dead-lettered (ms since epoch). */
  at: number;
  record: DataRecord;
  historical: boolean;
  /** Short cause, e.g. `http 400`, `pg 23514`. */
  code: string | undefined;
  /** The destination's message. */
  reason: string;
}

/** Settings of a {@linkcode DeadLetterStore}. */
export interface DeadLetterOptions {
  /** Database file (parent directories are created), or `:memory:`. */
  path: string;
  /** Dead letters kept at most; the oldest are deleted beyond. */
  maxRecords?: number;
  clock: Clock;
}

const bigintSafe = (_k: string, v: unknown) => typeof v === "bigint" ? v.toString() : v;

/** The dead-letter table of one sink. */
export class DeadLetterStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #o: DeadLetterOptions;
  readonly #insert: StatementSync;
  #count: number;

  constructor(o: DeadLetterOptions) {
    this.#o = o;
    this.path = o.path;
    try {
      if (o.path !== ":memory:") mkdirSync(dirname(o.path), { recursive: true });
      this.#db = new DatabaseSync(o.path);
      this.#db.exec("PRAGMA journal_mode = WAL");
      this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#db.exec(DDL);
      this.#insert = this.#db.prepare(
        "INSERT INTO dead_letter (at, device, tag, seq, historical, code, reason, record) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      );
      this.#count = (this.#db.prepare("SELECT count(*) AS n FROM dead_letter").get() as {
        n: number;
      }).n;
    } catch (e) {
      throw new BifrostError(
        "SINK_FAILED",
        `Cannot open dead-letter table "${o.path}": ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }

  /** Dead letters held. */
  count(): number {
    return this.#count;
  }

  /** Stores records `from`..`to` (exclusive) of `b` with the destination's reason. */
  add(
    b: Batch,
    from: number,
    to: number,
    reason: string,
    code: string | undefined,
    historical: boolean,
  ): void {
    const at = this.#o.clock.now();
    try {
      this.#db.exec("BEGIN");
      for (let i = from; i < to; i++) {
        this.#insert.run(
          at,
          b.device[i]!,
          b.tag[i]!,
          b.seq[i]!,
          historical ? 1 : 0,
          code ?? null,
          reason,
          JSON.stringify(b.get(i), bigintSafe),
        );
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw new BifrostError(
        "SINK_FAILED",
        `Cannot store ${to - from} dead letters in "${this.path}": ${errorMessage(e)}`,
        { cause: e },
      );
    }
    this.#count += to - from;
    const max = this.#o.maxRecords ?? DEAD_LETTER_MAX;
    if (this.#count > max) {
      const r = this.#db.prepare(
        "DELETE FROM dead_letter WHERE id <= (SELECT max(id) FROM dead_letter) - ?",
      ).run(max);
      this.#count -= Number(r.changes);
    }
  }

  /** The latest dead letters, newest first. */
  recent(limit = 100): DeadLetter[] {
    const rows = this.#db.prepare(
      "SELECT id, at, historical, code, reason, record FROM dead_letter ORDER BY id DESC LIMIT ?",
    ).all(limit) as unknown as {
      id: number;
      at: number;
      historical: number;
      code: string | null;
      reason: string;
      record: string;
    }[];
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      record: JSON.parse(r.record) as DataRecord,
      historical: r.historical === 1,
      code: r.code ?? undefined,
      reason: r.reason,
    }));
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
