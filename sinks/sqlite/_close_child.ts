/**
 * @module
 * Child process of the checkpointer close test: starts a checkpoint worker on a fresh
 * database, stops it after 0-90 ms (while it loads, opens or checkpoints), closes the writer
 * and removes the directory, twenty times. Prints what the checkpointer reports to stdout and
 * `done` at the end; an uncaught error of the worker would show on stderr (Deno prints it
 * from the worker even when the parent handles the `error` event).
 */

import { DatabaseSync } from "node:sqlite";
import { Checkpointer } from "./checkpointer.ts";

for (let k = 0; k < 20; k++) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-ckpt-close-" });
  const path = `${dir}/h.db`;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (x BLOB)");
  const ck = new Checkpointer(db, path, (m) => console.log(`reported: ${m}`), 5);
  if (k % 10) await new Promise((r) => setTimeout(r, (k % 10) * 10));
  await ck.stop();
  db.close();
  await Deno.remove(dir, { recursive: true });
}
console.log("done");
