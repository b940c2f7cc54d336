/**
 * @module
 * Child process of the kill test: enqueues batches to the queue at `Deno.args[0]` as fast
 * as it can, acknowledging now and then, and prints `enq <last id>` after each enqueue
 * returned and `ack <id>` after each ack returned, until it is killed.
 */

import { Batch, Quality, systemClock } from "../../engine/plugin.ts";
import { DurableQueue } from "./queue.ts";

const q = new DurableQueue({ path: Deno.args[0]!, clock: systemClock });
const out = new TextEncoder();
let seq = q.lastId;
for (let round = 1;; round++) {
  const b = new Batch(50);
  for (let i = 0; i < 50; i++) b.add("plc", "t", seq, Quality.good, undefined, 0, 0, seq++);
  const last = q.enqueue(b);
  Deno.stdout.writeSync(out.encode(`enq ${last}\n`));
  if (round % 10 === 0) {
    const to = q.headId + 120;
    q.ack(to);
    Deno.stdout.writeSync(out.encode(`ack ${to}\n`));
  }
}
