/**
 * @module
 * Moves a history database's WAL checkpoints off the gateway's main thread. A checkpoint
 * copies the WAL into the database file and syncs it: 20-200 ms at 100k values a second,
 * during which no poll could start when SQLite ran it inside a commit (its auto-checkpoint).
 * The main connection turns auto-checkpoints off; a Worker with a connection of its own
 * checkpoints every second instead, concurrently with the writer (WAL mode allows it). If
 * the Worker cannot start or fails, the main connection's auto-checkpoints come back on.
 */

import type { DatabaseSync } from "node:sqlite";

/** Default interval between checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** SQLite's default auto-checkpoint threshold, in WAL pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/** A checkpointing Worker bound to one database file. */
export class Checkpointer {
  #worker: Worker | undefined;

  /**
   * Starts checkpointing `path` (which `db` has open) every `intervalMs`. `onError` hears a
   * failure once, when the main connection takes checkpoints back.
   */
  constructor(
    readonly db: DatabaseSync,
    readonly path: string,
    onError: (message: string) => void,
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    const fallBack = (message: string) => {
      if (!this.#worker) return;
      this.stop();
      try {
        if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      } catch { /* the writer reports its own errors */ }
      onError(`${message}; checkpointing in the writer again`);
    };
    try {
      this.#worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
      db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch (e) {
      this.#worker?.terminate();
      this.#worker = undefined;
      onError(
        `Cannot start the checkpoint worker of "${path}": ${String(e)}; the writer checkpoints`,
      );
      return;
    }
    this.#worker.onmessage = (e: MessageEvent<{ error?: string }>) => {
      if (e.data.error) fallBack(e.data.error);
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      fallBack(`The checkpoint worker of "${path}" failed: ${e.message}`);
    };
    this.#worker.postMessage({ path, intervalMs });
  }

  /** Whether the Worker checkpoints (false after a fallback or `stop()`). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Stops the Worker: it closes its connection after the checkpoint under way, if any. */
  stop(): void {
    this.#worker?.postMessage({ stop: true });
    this.#worker = undefined;
  }
}
