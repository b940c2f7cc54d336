/** @module Tests of the durable queue and its batch codec. */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Batch,
  type DataRecord,
  type Logger,
  ManualClock,
  nullLogger,
} from "../../engine/plugin.ts";
import {
  decodeBatch,
  DurableQueue,
  type DurableQueueOptions,
  encodeBatch,
  openSinkQueue,
  queuePath,
  ROW_RECORDS,
} from "./mod.ts";

const rec = (seq: number, extra: Partial<DataRecord> = {}): DataRecord => ({
  device: "plc",
  tag: `t${seq % 3}`,
  value: seq * 0.5,
  quality: "good",
  sourceTs: 1_000 + seq,
  gatewayTs: 2_000 + seq,
  seq,
  ...extra,
});

/** A batch of records with seq `from` .. `from + n - 1`. */
const batchOf = (from: number, n: number) =>
  Batch.from(Array.from({ length: n }, (_, i) => rec(from + i)));

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_queue_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function open(dir: string, extra: Partial<DurableQueueOptions> = {}): DurableQueue {
  return new DurableQueue({ path: join(dir, "q.db"), clock: new ManualClock(0), ...extra });
}

/** Every seq held, oldest first, read through peek in steps of `step`. */
function drainSeqs(q: DurableQueue, step = 7): number[] {
  const out: number[] = [];
  let after = q.headId;
  for (;;) {
    const c = q.peek(step, after);
    if (!c) return out;
    assert.equal(c.lastId - c.firstId + 1, c.batch.length);
    for (let i = 0; i < c.batch.length; i++) out.push(c.batch.seq[i]!);
    after = c.lastId;
  }
}

Deno.test("codec round-trips every value kind, quality, reason and timestamp", () => {
  const records: DataRecord[] = [
    rec(1, { value: 71.25 }),
    rec(2, { value: NaN, quality: "uncertain", reason: "not a number" }),
    rec(3, { value: -Infinity, device: "other" }),
    rec(4, { value: true }),
    rec(5, { value: false }),
    rec(6, { value: "auto mode" }),
    rec(7, { value: "" }),
    rec(8, { value: 12345678901234567890n }),
    rec(9, { value: { a: [1, "x", null, { b: true }], c: 5n } }),
    rec(10, { value: [1, 2, 3] }),
    rec(11, { value: null, quality: "bad", reason: "Cannot read HR0: timeout" }),
  ];
  const b = Batch.from(records);
  assert.deepEqual(decodeBatch(encodeBatch(b)).toArray(), records);
  assert.deepEqual(decodeBatch(encodeBatch(b, 3, 7)).toArray(), records.slice(3, 7));
  assert.throws(() => decodeBatch(new Uint8Array(20)), /unknown format version 0/);
});

Deno.test("queue keeps order across batches and rows, and peek does not remove", async () => {
  await withDir((dir) => {
    const q = open(dir);
    try {
      q.enqueue(batchOf(0, 5));
      q.enqueue(new Batch());
      q.enqueue(batchOf(5, ROW_RECORDS + 10)); // split into two rows
      q.enqueue(batchOf(ROW_RECORDS + 15, 3));
      const n = ROW_RECORDS + 18;
      assert.equal(q.depth(), n);
      const expected = Array.from({ length: n }, (_, i) => i);
      assert.deepEqual(drainSeqs(q, 7), expected);
      assert.deepEqual(drainSeqs(q, 100_000), expected); // still all there
      const big = q.peek(100_000)!;
      assert.equal(big.firstId, 1);
      assert.equal(big.lastId, n);
      assert.deepEqual(big.batch.toArray().slice(0, 5), batchOf(0, 5).toArray());
      assert.equal(q.peek(10, q.lastId), undefined);
      assert.equal(q.stats().enqueued, n);
    } finally {
      q.close();
    }
  });
});

Deno.test("ack removes exactly the records up to the id, and ignores what is already gone", async () => {
  await withDir((dir) => {
    const q = open(dir);
    try {
      q.enqueue(batchOf(0, 10));
      q.enqueue(batchOf(10, 10));
      const first = q.peek(4)!;
      assert.deepEqual([first.firstId, first.lastId], [1, 4]);
      assert.equal(q.ack(first.lastId), 4);
      assert.equal(q.depth(), 16);
      assert.equal(q.peek(1)!.batch.seq[0], 4); // a partly acknowledged row skips acked records
      assert.equal(q.ack(3), 0); // already removed
      assert.equal(q.ack(15), 11); // spans the row boundary
      assert.deepEqual(drainSeqs(q), [15, 16, 17, 18, 19]);
      assert.equal(q.ack(1_000), 5); // clamped to the last id
      assert.equal(q.depth(), 0);
      assert.equal(q.peek(10), undefined);
      const s = q.stats();
      assert.equal(s.sent, 20);
      assert.equal(s.dropped, 0);
      assert.equal(s.bytes, 0);
      // Ids go on after emptying.
      assert.equal(q.enqueue(batchOf(20, 2)), 22);
      assert.equal(q.peek(10)!.firstId, 21);
    } finally {
      q.close();
    }
  });
});

Deno.test("reopening keeps the backlog, the acknowledged head and the ids", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(50_000);
    const a = open(dir, { clock });
    a.enqueue(batchOf(0, 30));
    a.ack(12);
    a.close();
    await clock.advance(1_000);
    const b = open(dir, { clock });
    try {
      assert.equal(b.depth(), 18);
      assert.equal(b.headId, 12);
      assert.equal(b.oldestAgeMs(), 1_000);
      assert.deepEqual(drainSeqs(b), Array.from({ length: 18 }, (_, i) => 12 + i));
      assert.equal(b.enqueue(batchOf(30, 1)), 31);
      assert.ok(b.stats().bytes > 0);
    } finally {
      b.close();
    }
  });
});

function collector(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log: Logger = {
    ...nullLogger,
    warn: (m, f) => void lines.push(`${m} ${JSON.stringify(f)}`),
    child: () => log,
  };
  return { log, lines };
}

Deno.test("maxRecords drops the oldest records, counts and logs them", async () => {
  await withDir((dir) => {
    const { log, lines } = collector();
    const q = open(dir, { maxRecords: 25, log });
    try {
      q.enqueue(batchOf(0, 20));
      assert.equal(q.stats().dropped, 0);
      q.enqueue(batchOf(20, 10));
      assert.equal(q.depth(), 25);
      assert.equal(q.stats().dropped, 5);
      q.enqueue(batchOf(30, 40)); // larger than the bound by itself
      assert.equal(q.depth(), 25);
      assert.equal(q.stats().dropped, 45);
      assert.deepEqual(drainSeqs(q), Array.from({ length: 25 }, (_, i) => 45 + i));
      assert.equal(lines.length, 1, "drops are logged at most once per interval");
      assert.match(lines[0]!, /dropped its oldest records.*"maxRecords":5/);
    } finally {
      q.close();
    }
  });
});

Deno.test("logged drops add up to the records produced minus delivered minus still queued", async () => {
  await withDir(async (dir) => {
    const { log, lines } = collector();
    const clock = new ManualClock(0);
    // Small enough to overflow by every bound: records, encoded bytes (whole rows) and age.
    const q = open(dir, { maxRecords: 300, maxBytes: 6_000, maxAgeMs: 40_000, clock, log });
    let produced = 0, delivered = 0, depth = 0;
    try {
      for (let round = 0; round < 60; round++) {
        const n = 7 + (round * 37) % 90; // uneven batches: drops fall inside rows
        q.enqueue(batchOf(produced, n));
        produced += n;
        if (round % 3 === 0) {
          // The sender delivers part of a chunk, as a broker confirming in order would.
          const c = q.peek(25);
          if (c) delivered += q.ack(c.firstId + (round % 25));
        }
        await clock.advance(round % 7 === 0 ? 15_000 : 900);
      }
      depth = q.depth();
      assert(q.stats().dropped > 0, "the queue overflowed");
      assert(lines.length > 1, "drops were logged more than once");
    } finally {
      q.close();
    }
    const logged = lines.reduce((sum, l) => {
      const f = JSON.parse(l.slice(l.indexOf(" {") + 1)) as { dropped: Record<string, number> };
      return sum + Object.values(f.dropped).reduce((a, b) => a + b, 0);
    }, 0);
    assert.equal(logged, produced - delivered - depth);
  });
});

Deno.test("maxAge drops records enqueued too long ago, also when only peeked", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(0);
    const q = open(dir, { maxAgeMs: 1_000, clock });
    try {
      q.enqueue(batchOf(0, 3));
      await clock.advance(600);
      q.enqueue(batchOf(3, 3));
      assert.equal(q.oldestAgeMs(), 600);
      await clock.advance(500); // first batch is 1,100 ms old
      assert.deepEqual(drainSeqs(q), [3, 4, 5]);
      assert.equal(q.stats().dropped, 3);
      assert.equal(q.oldestAgeMs(), 500);
      await clock.advance(2_000);
      assert.equal(q.peek(10), undefined);
      assert.equal(q.depth(), 0);
      assert.equal(q.stats().dropped, 6);
    } finally {
      q.close();
    }
  });
});

Deno.test("maxSize drops the oldest rows until the encoded bytes fit", async () => {
  await withDir((dir) => {
    const one = encodeBatch(batchOf(0, 100)).length;
    const q = open(dir, { maxBytes: one * 3 + 10 });
    try {
      for (let i = 0; i < 5; i++) q.enqueue(batchOf(i * 100, 100));
      assert.equal(q.depth(), 300);
      assert.equal(q.stats().dropped, 200);
      assert.ok(q.stats().bytes <= one * 3 + 10);
      assert.equal(drainSeqs(q)[0], 200);
    } finally {
      q.close();
    }
  });
});

Deno.test("openSinkQueue puts one file per sink under the data directory or queue.dir", async () => {
  await withDir((dir) => {
    assert.equal(queuePath(undefined, "broker", dir), join(dir, "queue", "broker.db"));
    const q = openSinkQueue({ dir: join(dir, "q"), maxRecords: 2 }, {
      name: "broker",
      clock: new ManualClock(0),
    });
    try {
      assert.equal(q.path, join(dir, "q", "broker.db"));
      q.enqueue(batchOf(0, 3));
      assert.equal(q.depth(), 2);
    } finally {
      q.close();
    }
  });
});

Deno.test("a full disk gives a clear SINK_FAILED error, keeps what was stored and recovers", async () => {
  await withDir((dir) => {
    const q = open(dir);
    try {
      q.enqueue(batchOf(0, 10));
      // Stand in for a full disk: the database may not grow past its current size.
      const pages = (q.db.prepare("PRAGMA page_count").get() as { page_count: number })
        .page_count;
      q.db.exec(`PRAGMA max_page_count = ${pages}`);
      let err: unknown;
      try {
        for (let i = 0; i < 100; i++) q.enqueue(batchOf(10 + i * 1000, 1000));
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof Error, "enqueue must fail when the disk is full");
      assert.equal((err as { code?: string }).code, "SINK_FAILED");
      assert.match((err as Error).message, /Cannot enqueue 1000 records to queue/);
      assert.match((err as Error).message, /full/i);
      // What was stored before is intact and in order; room again means enqueue works again.
      const before = drainSeqs(q);
      assert.deepEqual(before.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      q.db.exec("PRAGMA max_page_count = 1073741823");
      q.enqueue(batchOf(500_000, 5));
      assert.deepEqual(drainSeqs(q).slice(-5), [500_000, 500_001, 500_002, 500_003, 500_004]);
    } finally {
      q.close();
    }
  });
});
