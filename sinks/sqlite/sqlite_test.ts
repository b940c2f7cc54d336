/** @module Tests of the sqlite history sink. */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Batch,
  type DataRecord,
  isBifrostError,
  ManualClock,
  type Value,
} from "../../engine/plugin.ts";
import { createSqliteSink, parseSize, queryHistory, type SqliteConfig } from "./mod.ts";

const rec = (tag: string, value: Value, extra: Partial<DataRecord> = {}): DataRecord => ({
  device: "plc",
  tag,
  value,
  quality: "good",
  sourceTs: 1_000,
  gatewayTs: 1_000,
  seq: 1,
  ...extra,
});

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_sqlite_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function sinkAt(path: string, clock = new ManualClock(0), extra: Partial<SqliteConfig> = {}) {
  return createSqliteSink({ path, ...extra }, { name: "history", clock });
}

Deno.test("sqlite round-trips every value kind, quality and timestamp", async () => {
  await withDir(async (dir) => {
    const records: DataRecord[] = [
      rec("n", 71.25, { seq: 1 }),
      rec("neg", -0.5, { seq: 2 }),
      rec("nan", NaN, { seq: 3, quality: "uncertain", reason: "not a number" }),
      rec("inf", -Infinity, { seq: 4 }),
      rec("on", true, { seq: 5 }),
      rec("off", false, { seq: 6 }),
      rec("s", "auto mode", { seq: 7 }),
      rec("empty", "", { seq: 8 }),
      rec("big", 12345678901234567890n, { seq: 9 }),
      rec("json", { a: [1, "x", null, { b: true }], c: 5n }, { seq: 10 }),
      rec("arr", [1, 2, 3], { seq: 11 }),
      rec("null", null, { seq: 12, quality: "bad", reason: "Cannot read HR0: timeout" }),
    ].map((r, i) => ({ ...r, sourceTs: 1_700_000_000_000 + i, gatewayTs: 1_700_000_000_500 + i }));
    const sink = sinkAt(join(dir, "h.db"), new ManualClock(1_700_000_000_000));
    await sink.open();
    try {
      await sink.write(Batch.from(records));
      assert.deepEqual(sink.query(), records);
      assert.equal(sink.stats().written, records.length);
      assert.equal(sink.stats().rows, records.length);
    } finally {
      await sink.close();
    }
  });
});

Deno.test("sqlite keeps data across reopening and creates parent directories", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "nested", "deeper", "history.db");
    const first = sinkAt(path);
    await first.open();
    await first.write(Batch.from([rec("a", 1), rec("b", "x")]));
    await first.close();
    const second = sinkAt(path);
    await second.open();
    try {
      assert.equal(second.stats().rows, 2);
      await second.write(Batch.from([rec("a", 2, { sourceTs: 2_000 })]));
      assert.deepEqual(second.query({ tag: "a" }).map((r) => r.value), [1, 2]);
      // Readers with their own connection see the same rows while the sink is open, once
      // flushed (writes are grouped for up to flushInterval, 1s by default).
      await second.flush();
      assert.equal(queryHistory(path).length, 3);
    } finally {
      await second.close();
    }
  });
});

Deno.test("sqlite query filters by device, tag and time, and returns the latest in order", async () => {
  await withDir(async (dir) => {
    const sink = sinkAt(join(dir, "h.db"));
    await sink.open();
    try {
      const b = new Batch();
      for (let i = 0; i < 10; i++) {
        b.push(rec("t", i, { sourceTs: i * 100, seq: i }));
        b.push(rec("u", 100 + i, { sourceTs: i * 100, seq: i, device: "meter" }));
      }
      await sink.write(b);
      const vals = (q: Parameters<typeof sink.query>[0]) => sink.query(q).map((r) => r.value);
      assert.deepEqual(vals({ tag: "t", from: 200, to: 400 }), [2, 3, 4]);
      assert.deepEqual(vals({ device: "meter", limit: 2 }), [100, 101]);
      assert.deepEqual(vals({ device: "plc", limit: 3, latest: true }), [7, 8, 9]);
      assert.throws(
        () => queryHistory(join(dir, "missing.db")),
        (e) => isBifrostError(e, "NOT_FOUND"),
      );
    } finally {
      await sink.close();
    }
  });
});

Deno.test("sqlite retention by age deletes rows older than maxAge on a later write", async () => {
  await withDir(async (dir) => {
    const day = 86_400_000;
    const clock = new ManualClock(10 * day);
    const sink = sinkAt(join(dir, "h.db"), clock, { maxAge: "2d", retentionInterval: "1m" });
    await sink.open();
    try {
      const b = new Batch();
      for (let d = 0; d <= 10; d++) b.push(rec("t", d, { gatewayTs: d * day, sourceTs: d * day }));
      // The first write runs retention at once: days 0..7 are older than 2 days.
      await sink.write(b);
      assert.deepEqual(sink.query().map((r) => r.value), [8, 9, 10]);
      // A day later, within the retention interval nothing is deleted…
      await clock.advance(30_000);
      await sink.write(Batch.from([rec("t", 11, { gatewayTs: 11 * day, sourceTs: 11 * day })]));
      assert.equal(sink.stats().rows, 4);
      // …and once the interval has passed the next write applies the new cutoff.
      await clock.advance(day - 30_000);
      await sink.write(new Batch());
      assert.deepEqual(sink.query().map((r) => r.value), [9, 10, 11]);
      assert.equal(sink.stats().deleted, 9);
    } finally {
      await sink.close();
    }
  });
});

Deno.test("sqlite retention by size deletes the oldest rows and shrinks the file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "h.db");
    const max = "256KB";
    const sink = sinkAt(path, new ManualClock(0), { maxSize: max, retentionInterval: "1h" });
    await sink.open();
    try {
      let seq = 0;
      for (let k = 0; k < 20; k++) {
        const b = new Batch(1000);
        for (let i = 0; i < 1000; i++, seq++) {
          b.push(rec(`tag${i % 50}`, `value ${seq} `.padEnd(40, "x"), { seq, sourceTs: seq }));
        }
        await sink.write(b);
      }
      const before = sink.stats();
      assert.ok(before.bytes > 4 * parseSize(max), `database grew to ${before.bytes} bytes`);
      const deleted = sink.retain();
      const after = sink.stats();
      assert.ok(deleted > 0 && after.rows === before.rows - deleted);
      assert.ok(after.bytes <= parseSize(max), `used pages shrank to ${after.bytes} bytes`);
      assert.ok((await Deno.stat(path)).size <= parseSize(max), "file on disk shrank");
      // The newest rows are the ones kept.
      const kept = sink.query({ latest: true, limit: 1 });
      assert.equal(kept[0]!.seq, seq - 1);
      assert.equal(sink.query({ limit: 1 })[0]!.seq, before.rows - after.rows);
    } finally {
      await sink.close();
    }
  });
});

Deno.test("sqlite reports a full database as SINK_FAILED and keeps working", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "h.db");
    const sink = sinkAt(path);
    await sink.open();
    try {
      await sink.write(Batch.from([rec("t", 1)]));
      const db = sink.store!.db;
      const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
      db.exec(`PRAGMA max_page_count = ${pages}`);
      const big = new Batch(5000);
      for (let i = 0; i < 5000; i++) big.push(rec("t", "x".repeat(100), { seq: i + 2 }));
      await assert.rejects(
        sink.write(big),
        (e) =>
          isBifrostError(e, "SINK_FAILED") &&
          /^Cannot write 5000 records to history ".*h\.db": .*full/.test(e.message),
      );
      assert.equal(sink.stats().rows, 1);
      db.exec("PRAGMA max_page_count = 1073741823");
      await sink.write(Batch.from([rec("t", 2, { seq: 9 })]));
      assert.deepEqual(sink.query().map((r) => r.value), [1, 2]);
    } finally {
      await sink.close();
    }
  });
});

Deno.test("parseSize reads units as powers of 1024 and rejects nonsense", () => {
  assert.equal(parseSize("512MB"), 512 * 1024 * 1024);
  assert.equal(parseSize("1GB"), 1024 ** 3);
  assert.equal(parseSize("1.5KiB"), 1536);
  assert.equal(parseSize("100B"), 100);
  assert.throws(() => parseSize("lots"), /Cannot parse size "lots"/);
});

Deno.test("sqlite bounds its connection's memory: 2 MiB page cache, no mmap, WAL cut to 16 MiB", async () => {
  await withDir(async (dir) => {
    const sink = sinkAt(join(dir, "h.db"));
    await sink.open();
    try {
      const pragma = (name: string) =>
        (sink.store!.db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[name];
      assert.equal(pragma("cache_size"), -2048);
      assert.equal(pragma("mmap_size"), 0);
      assert.equal(pragma("journal_size_limit"), 16 * 1024 * 1024);
      assert.equal(pragma("journal_mode"), "wal");
    } finally {
      await sink.close();
    }
  });
});
