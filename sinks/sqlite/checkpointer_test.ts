/**
 * @module
 * The checkpoint worker copies the WAL of a real database file into it while the writer's
 * own auto-checkpoints are off, and a worker that cannot open the file hands checkpoints
 * back to the writer, saying the records are safe; stopping it is awaited before the writer
 * closes, so nothing of the worker fails once the file is closed and removed.
 */

import { DatabaseSync } from "node:sqlite";
import { assert, assertEquals, waitFor } from "../../tests/_assert.ts";
import { Checkpointer } from "./checkpointer.ts";

Deno.test("Checkpointer copies committed WAL frames into the database file off the main thread", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-ckpt-" });
  const path = `${dir}/h.db`;
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("CREATE TABLE t (x BLOB)");
    const errors: string[] = [];
    const ck = new Checkpointer(db, path, (m) => errors.push(m), 20);
    const before = Deno.statSync(path).size;
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    db.exec("BEGIN");
    for (let i = 0; i < 200; i++) insert.run(new Uint8Array(4000));
    db.exec("COMMIT");
    // The writer no longer checkpoints: only the worker can grow the database file.
    assertEquals(
      (db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number })
        .wal_autocheckpoint,
      0,
    );
    await waitFor(() => Deno.statSync(path).size > before + 500_000, 30_000, "a checkpoint");
    assert(ck.running);
    await ck.stop();
    assertEquals(errors, []);
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Checkpointer hands checkpoints back to the writer when the worker fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-ckpt-" });
  const db = new DatabaseSync(`${dir}/h.db`);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    const errors: string[] = [];
    // A file in a directory that does not exist: the worker cannot open it.
    const ck = new Checkpointer(db, `${dir}/missing/x.db`, (m) => errors.push(m), 20);
    await waitFor(() => errors.length > 0, 30_000, "the fallback");
    assert(!ck.running);
    assert(
      /records are safe in the WAL; checkpointing in the writer again$/.test(errors[0]!),
      errors[0],
    );
    assertEquals(errors.length, 1);
    assertEquals(
      (db.prepare("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number })
        .wal_autocheckpoint,
      1000,
    );
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Checkpointer stop() is awaited before the writer closes: removing the database then raises no uncaught worker error", async () => {
  // A child process, because Deno prints a worker's uncaught error from the worker itself
  // (the parent's handler cannot hide it): stderr is where the bench showed `disk I/O error`.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_close_child.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(stderr, "");
  assertEquals(stdout, "done\n");
  assert(out.success);
});
