/**
 * @module
 * The WAL checkpointer of a history database, run in a Worker (see {@linkcode Checkpointer}):
 * its own connection copies committed WAL frames into the database file every interval
 * (`PRAGMA wal_checkpoint(PASSIVE)`: it never waits for the writer and never blocks it).
 * Posts `{ started }` once checkpointing, `{ error }` when opening or a checkpoint fails, and
 * `{ stopped }` once its connection is closed after `{ stop }`. Nothing may escape as an
 * uncaught error: Deno prints those from the worker itself even when the parent handles the
 * `error` event, so every SQLite call is guarded and a last-resort handler reports the rest.
 */

import { DatabaseSync } from "node:sqlite";

type Message = { path: string; intervalMs: number } | { stop: true };

const self = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Message>) => void) | null;
  postMessage(m: unknown): void;
  close(): void;
  addEventListener(type: string, listener: (e: Event) => void): void;
};

let db: DatabaseSync | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let where = "";

const message = (e: unknown) => e instanceof Error ? e.message : String(e);

self.addEventListener("error", (e) => {
  e.preventDefault();
  self.postMessage({ error: `${where}: ${message((e as ErrorEvent).error ?? e)}` });
});
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  self.postMessage({ error: `${where}: ${message((e as PromiseRejectionEvent).reason)}` });
});

self.onmessage = (e: MessageEvent<Message>) => {
  if ("stop" in e.data) {
    clearInterval(timer);
    timer = undefined;
    try {
      db?.close();
    } catch { /* another connection (the writer) is still open: it keeps the data */ }
    db = undefined;
    self.postMessage({ stopped: true });
    self.close();
    return;
  }
  const { path, intervalMs } = e.data;
  where = `Cannot checkpoint "${path}"`;
  let checkpoint;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 1000");
    checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (err) {
    try {
      db?.close();
    } catch { /* reported below */ }
    db = undefined;
    self.postMessage({ error: `Cannot open "${path}" to checkpoint it: ${message(err)}` });
    return;
  }
  timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch (err) {
      self.postMessage({ error: `${where}: ${message(err)}` });
    }
  }, intervalMs);
  self.postMessage({ started: true });
};
