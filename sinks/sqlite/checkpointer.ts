/**
 * @module
 * Moves a history database's WAL checkpoints off the gateway's main thread. A checkpoint
 * copies the WAL into the database file and syncs it: 20-200 ms at 100k values a second,
 * during which no poll could start when SQLite ran it inside a commit (its auto-checkpoint).
 * The main connection turns auto-checkpoints off; a Worker with a connection of its own
 * checkpoints every second instead, concurrently with the writer (WAL mode allows it). If
 * the Worker cannot start or fails, the main connection's auto-checkpoints come back on and
 * the failure is reported once: committed records stay in the WAL, which the writer then
 * checkpoints itself, so no data is at risk.
 *
 * Closing is ordered: `stop()` resolves once the Worker has closed its connection (or was
 * terminated), and the store closes its own connection only after that. A Worker still
 * checkpointing, or still opening, a file whose writer has closed and which the caller then
 * removes fails with `disk I/O error`; awaiting the Worker first rules that out.
 */

import type { DatabaseSync } from "node:sqlite";

/** Default interval between checkpoints, ms. */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** SQLite's default auto-checkpoint threshold, in WAL pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/**
 * Longest wait for the Worker to close its connection before it is terminated: its
 * `busy_timeout` (1 s) plus a long checkpoint.
 */
const STOP_TIMEOUT_MS = 5000;

/** What a failed checkpoint means for the data, appended to every failure reported. */
const DATA_SAFE = "records are safe in the WAL; checkpointing in the writer again";

/** A checkpointing Worker bound to one database file. */
export class Checkpointer {
  #worker: Worker | undefined;
  #stopped: Promise<void> | undefined;
  #onStopped: (() => void) | undefined;

  /**
   * Starts checkpointing `path` (which `db` has open) every `intervalMs`. `onError` hears a
   * failure once, when the main connection takes checkpoints back; failures after `stop()`
   * are not reported (the writer closes the database and checkpoints it then).
   */
  constructor(
    readonly db: DatabaseSync,
    readonly path: string,
    onError: (message: string) => void,
    intervalMs = CHECKPOINT_INTERVAL_MS,
  ) {
    const fallBack = (message: string) => {
      const w = this.#worker;
      if (!w) return;
      this.#worker = undefined;
      w.terminate();
      try {
        if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      } catch { /* the writer reports its own errors */ }
      onError(`${message}; ${DATA_SAFE}`);
    };
    let worker: Worker;
    try {
      worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url), {
        type: "module",
      });
    } catch (e) {
      onError(
        `Cannot start the checkpoint worker of "${path}": ${String(e)}; the writer checkpoints`,
      );
      return;
    }
    try {
      db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch (e) {
      worker.terminate();
      onError(
        `Cannot hand the checkpoints of "${path}" to a worker: ${
          String(e)
        }; the writer checkpoints`,
      );
      return;
    }
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<{ error?: string; stopped?: true }>) => {
      if (e.data.stopped) this.#onStopped?.();
      else if (e.data.error) fallBack(e.data.error);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      if (this.#onStopped) this.#onStopped();
      else fallBack(`The checkpoint worker of "${path}" failed: ${e.message}`);
    };
    worker.postMessage({ path, intervalMs });
  }

  /** Whether the Worker checkpoints (false after a fallback or `stop()`). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * Stops the Worker and resolves once it has closed its connection (after the checkpoint
   * under way, if any), or has been terminated after {@linkcode STOP_TIMEOUT_MS}. Close the
   * writer's connection only after this resolves. Idempotent.
   */
  stop(): Promise<void> {
    const w = this.#worker;
    if (!w) return this.#stopped ?? Promise.resolve();
    this.#worker = undefined;
    this.#stopped = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        w.terminate();
        resolve();
      };
      const timer = setTimeout(done, STOP_TIMEOUT_MS);
      this.#onStopped = done;
      w.postMessage({ stop: true });
    });
    return this.#stopped;
  }
}
