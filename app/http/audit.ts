/**
 * @module
 * The audit log of writes made through the API: who (token id), when, device, tag, the old
 * value (the last one cached), the new value and the result. Kept in SQLite
 * (`<data dir>/audit.db`, WAL) with retention by age and by row count, pruned every
 * hundred writes and at open, so it never grows without bound on an unattended box.
 */

import { DatabaseSync } from "node:sqlite";
import type { Clock } from "../../engine/clock.ts";
import type { Value } from "../../engine/record.ts";
import { toJson } from "./json.ts";

/** One audited write. */
export interface AuditEntry {
  id: number;
  ts: number;
  who: string;
  device: string;
  tag: string;
  oldValue?: unknown;
  newValue: unknown;
  result: string;
  message?: string;
}

/** What is recorded of a write. */
export interface AuditWrite {
  who: string;
  device: string;
  tag: string;
  oldValue: Value | undefined;
  newValue: Value;
  /** `ok`, or the error code. */
  result: string;
  message?: string;
}

/** Options of an {@linkcode AuditLog}. */
export interface AuditOptions {
  clock: Clock;
  /** Entries older than this are deleted; default 90 days. */
  maxAgeMs?: number;
  /** At most this many entries are kept (the oldest go); default 100,000. */
  maxRows?: number;
}

const PRUNE_EVERY = 100;

/** The audit log's database. */
export class AuditLog {
  #db: DatabaseSync;
  #clock: Clock;
  #maxAge: number;
  #maxRows: number;
  #sinceprune = 0;

  constructor(path: string, o: AuditOptions) {
    this.#db = new DatabaseSync(path);
    this.#clock = o.clock;
    this.#maxAge = o.maxAgeMs ?? 90 * 86_400_000;
    this.#maxRows = o.maxRows ?? 100_000;
    this.#db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, who TEXT NOT NULL,
        device TEXT NOT NULL, tag TEXT NOT NULL, old_value TEXT, new_value TEXT NOT NULL,
        result TEXT NOT NULL, message TEXT);
      CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts);`);
    this.prune();
  }

  /** Records one write. */
  record(w: AuditWrite): void {
    this.#db.prepare(
      "INSERT INTO audit (ts, who, device, tag, old_value, new_value, result, message) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      this.#clock.now(),
      w.who,
      w.device,
      w.tag,
      w.oldValue === undefined ? null : JSON.stringify(toJson(w.oldValue)),
      JSON.stringify(toJson(w.newValue)),
      w.result,
      w.message ?? null,
    );
    if (++this.#sinceprune >= PRUNE_EVERY) this.prune();
  }

  /** Deletes what is past the retention. */
  prune(): void {
    this.#sinceprune = 0;
    this.#db.prepare("DELETE FROM audit WHERE ts < ?").run(this.#clock.now() - this.#maxAge);
    this.#db.prepare(
      "DELETE FROM audit WHERE id <= (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?)",
    ).run(this.#maxRows);
  }

  /** The newest entries first, optionally of one device and tag. */
  list(q: { limit?: number; device?: string; tag?: string } = {}): AuditEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.device !== undefined) where.push("device = ?"), args.push(q.device);
    if (q.tag !== undefined) where.push("tag = ?"), args.push(q.tag);
    const sql = `SELECT * FROM audit ${where.length ? "WHERE " + where.join(" AND ") : ""} ` +
      "ORDER BY id DESC LIMIT ?";
    const rows = this.#db.prepare(sql).all(...args, q.limit ?? 100) as Record<string, unknown>[];
    return rows.map((r) => {
      const e: AuditEntry = {
        id: r.id as number,
        ts: r.ts as number,
        who: r.who as string,
        device: r.device as string,
        tag: r.tag as string,
        newValue: JSON.parse(r.new_value as string),
        result: r.result as string,
      };
      if (r.old_value !== null) e.oldValue = JSON.parse(r.old_value as string);
      if (r.message !== null) e.message = r.message as string;
      return e;
    });
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }
}
