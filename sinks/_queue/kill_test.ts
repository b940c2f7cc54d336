/** @module The durable queue survives SIGKILL: what enqueue() confirmed is there after reopening. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { systemClock } from "../../engine/plugin.ts";
import { DurableQueue } from "./queue.ts";

/** Confirmed enqueues to wait for before killing the child. */
const KILL_AFTER_ENQUEUES = 300;

Deno.test("records enqueued before a SIGKILL are all there after reopening, in order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_queue_kill_" });
  const path = join(dir, "q.db");
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./_kill_child.ts", import.meta.url).pathname, path],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let enqueued = 0;
    let acked = 0;
    let confirmed = 0;
    let text = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (confirmed < KILL_AFTER_ENQUEUES) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`Child exited after ${confirmed} enqueues`);
        text += value;
        const lines = text.split("\n");
        text = lines.pop()!;
        for (const line of lines) {
          const [what, id] = line.split(" ");
          if (what === "enq") (enqueued = Number(id), confirmed++);
          if (what === "ack") acked = Number(id);
        }
      }
      child.kill("SIGKILL");
    } finally {
      await reader.cancel().catch(() => {});
    }
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");

    const q = new DurableQueue({ path, clock: systemClock });
    try {
      // The child may have committed more after its last line we read; never less.
      assert.ok(q.lastId >= enqueued, `last id ${q.lastId} < confirmed ${enqueued}`);
      assert.ok(q.headId >= acked, `head ${q.headId} < acknowledged ${acked}`);
      let expected = q.headId;
      let after = q.headId;
      for (let c = q.peek(1_000); c; c = q.peek(1_000, after)) {
        for (let i = 0; i < c.batch.length; i++) assert.equal(c.batch.seq[i], expected++);
        after = c.lastId;
      }
      assert.equal(expected, q.lastId, "every record from the head to the last id is held");
      assert.equal(q.depth(), q.lastId - q.headId);
    } finally {
      q.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
