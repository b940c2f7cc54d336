/**
 * @module
 * Tests of {@linkcode DropLog} behind a {@linkcode SerialQueue} too small for its producer:
 * every dropped record reaches the log, in lines that add up exactly.
 */

import { ManualClock } from "../clock.ts";
import { assert, assertEquals } from "../../tests/_assert.ts";
import { DropLog } from "./drop_log.ts";
import { SerialQueue } from "./serial_queue.ts";

Deno.test("logged drops of an overflowing consumer queue add up to produced minus delivered", async () => {
  const clock = new ManualClock(0);
  const lines: { records: number; batches: number; total: number }[] = [];
  const drops = new DropLog(clock, (records, batches, total) => {
    lines.push({ records, batches, total });
  });
  let delivered = 0;
  let slow = true;
  let release: (() => void) | undefined;
  const q = new SerialQueue<number>(
    async (n) => {
      if (drops.pending) drops.flush(false);
      // A slow sink: one write per release while `slow`.
      if (slow) await new Promise<void>((r) => release = r);
      delivered += n;
    },
    3,
    (n) => drops.add(n),
  );
  let produced = 0;
  for (let round = 0; round < 200; round++) {
    const n = 1 + (round * 31) % 100; // batches of uneven size
    q.push(n);
    produced += n;
    if (round % 4 === 0) release?.();
    await clock.advance(round % 50 === 0 ? 11_000 : 100);
  }
  assert(drops.total > 0, "the queue overflowed");
  assert(lines.length > 1 && lines.length < 20, `rate-limited: ${lines.length} lines`);
  // Stop as the gateway does: drain the queue, then log what is left.
  slow = false;
  release?.();
  await q.idle();
  drops.flush();
  const logged = lines.reduce((s, l) => s + l.records, 0);
  assertEquals(logged, produced - delivered);
  assertEquals(lines.at(-1)!.total, logged);
  assertEquals(lines.reduce((s, l) => s + l.batches, 0), q.stats().dropped);
});
