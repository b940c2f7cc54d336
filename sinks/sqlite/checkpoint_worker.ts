/**
 * @module
 * The WAL checkpointer of a history database, run in a Worker (see {@linkcode Checkpointer}):
 * its own connection copies committed WAL frames into the database file every interval
 * (`PRAGMA wal_checkpoint(PASSIVE)`: it never waits for the writer and never blocks it).
 * Posts `{ error }` when a checkpoint fails, then keeps going.
 */

import { DatabaseSync } from "node:sqlite";

type Message = { path: string; intervalMs: number } | { stop: true };

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Message>) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
};

let db: DatabaseSync | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

self.onmessage = (e: MessageEvent<Message>) => {
  if ("stop" in e.data) {
    clearInterval(timer);
    try {
      db?.close();
    } finally {
      self.close();
    }
    return;
  }
  const { path, intervalMs } = e.data;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 1000");
  } catch (err) {
    self.postMessage({ error: `Cannot open "${path}" to checkpoint it: ${String(err)}` });
    return;
  }
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch (err) {
      self.postMessage({ error: `Cannot checkpoint "${path}": ${String(err)}` });
    }
  }, intervalMs);
  self.postMessage({ started: true });
};
