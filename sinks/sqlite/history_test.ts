/**
 * @module Tests of the block layout of the sqlite history: queries across many blocks
 * against a reference, flush grouping, crash safety (SIGKILL), migration, retention.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Batch, type DataRecord, ManualClock } from "../../engine/plugin.ts";
import { createSqliteSink, type HistoryQuery, queryHistory, type SqliteConfig } from "./mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_history_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const sinkAt = (path: string, clock = new ManualClock(0), extra: Partial<SqliteConfig> = {}) =>
  createSqliteSink({ path, ...extra }, { name: "history", clock });

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function reference(all: DataRecord[], q: HistoryQuery): DataRecord[] {
  const hit = all.filter((r) =>
    (q.device === undefined || r.device === q.device) && (q.tag === undefined || r.tag === q.tag) &&
    (q.from === undefined || r.sourceTs >= q.from) && (q.to === undefined || r.sourceTs <= q.to)
  ).sort((a, b) => a.sourceTs - b.sourceTs || a.seq - b.seq);
  const limit = q.limit ?? 10_000;
  return q.latest ? hit.slice(Math.max(0, hit.length - limit)) : hit.slice(0, limit);
}

Deno.test("queries across many blocks and devices match a reference, for every filter", async () => {
  await withDir(async (dir) => {
    const rnd = prng(42);
    const sink = sinkAt(join(dir, "h.db"));
    await sink.open();
    const all: DataRecord[] = [];
    let seq = 0;
    try {
      for (let k = 0; k < 120; k++) {
        // Batches of one device (polls) and mixed ones; a few devices with skewed clocks.
        const b = new Batch();
        const devs = k % 3 === 0 ? 12 : 1;
        for (let d = 0; d < devs; d++) {
          const device = `dev${devs === 1 ? k % 12 : d}`;
          for (let t = 0; t < 5; t++) {
            const skew = device === "dev7" ? -50_000 : device === "dev3" ? rnd() * 9_000 : 0;
            const r: DataRecord = {
              device,
              tag: `tag${t}`,
              value: t === 4 ? `s${seq}` : Math.round(rnd() * 1000) / 8,
              quality: "good",
              sourceTs: k * 1000 + skew,
              gatewayTs: k * 1000 + 7,
              seq: seq++,
            };
            b.push(r), all.push(r);
          }
        }
        await sink.write(b);
      }
      await sink.flush();
      const queries: HistoryQuery[] = [{}, { latest: true, limit: 37 }, { limit: 50 }];
      for (const device of ["dev3", "dev7", "dev0", "nope"]) {
        queries.push({ device }, { device, latest: true, limit: 7 }, { device, from: 20_000 });
        queries.push({ device, tag: "tag4", from: 10_000, to: 80_000, limit: 9 });
        queries.push({ device, tag: "tag1", from: 30_000, to: 60_000, latest: true, limit: 4 });
      }
      for (const tag of ["tag2", "tag4", "none"]) {
        queries.push({ tag }, { tag, latest: true, limit: 25 }, { tag, from: 5_000, to: 9_000 });
      }
      queries.push({ from: 50_000, to: 51_000 }, { to: 2_000, latest: true, limit: 3 });
      queries.push({ device: "dev1", limit: 0 });
      for (const q of queries) {
        const want = reference(all, q);
        assert.deepEqual(sink.query(q), want, JSON.stringify(q));
        assert.deepEqual(queryHistory(join(dir, "h.db"), q), want, JSON.stringify(q));
      }
    } finally {
      await sink.close();
    }
  });
});

/** A good record of device "plc" whose value, timestamps and seq are all `seq`. */
const plcRecord = (tag: string, seq: number): DataRecord => ({
  device: "plc",
  tag,
  value: seq,
  quality: "good",
  sourceTs: seq,
  gatewayTs: seq,
  seq,
});

Deno.test("writes are grouped per flushInterval; flush() and close() commit them", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "h.db");
    const clock = new ManualClock(0);
    const rec = (seq: number) => plcRecord("t", seq);
    const grouped = sinkAt(path, clock, { flushInterval: "1s" });
    await grouped.open();
    // The first write runs retention at once, which commits.
    await grouped.write(Batch.from([rec(1)]));
    assert.equal(queryHistory(path).length, 1);
    await grouped.write(Batch.from([rec(2)]));
    assert.equal(grouped.query().length, 2, "the sink's own connection sees it at once");
    assert.equal(queryHistory(path).length, 1, "other connections see it once committed");
    await clock.advance(1000);
    await grouped.write(Batch.from([rec(3)]));
    assert.equal(queryHistory(path).length, 3, "the first write after the interval commits");
    await grouped.write(Batch.from([rec(4)]));
    assert.equal(queryHistory(path).length, 3);
    await grouped.flush();
    assert.equal(queryHistory(path).length, 4);
    await grouped.write(Batch.from([rec(5)]));
    await grouped.close();
    assert.equal(queryHistory(path).length, 5);
    const direct = sinkAt(path, clock, { flushInterval: "0s" });
    await direct.open();
    try {
      await direct.write(Batch.from([rec(6)]));
      await direct.write(Batch.from([rec(7)]));
      assert.deepEqual(queryHistory(path).map((r) => r.value), [1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await direct.close();
    }
  });
});

Deno.test("a failed write loses its own batch only, as one INSERT or under a savepoint", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "h.db");
    const clock = new ManualClock(0);
    const rec = plcRecord;
    const sink = sinkAt(path, clock, { flushInterval: "1s" });
    await sink.open();
    try {
      await sink.write(Batch.from([rec("a", 1), rec("b", 2)])); // commits (first retention)
      await sink.write(Batch.from([rec("a", 3), rec("b", 4)])); // open group
      const db = sink.store!.db;
      db.exec(
        "CREATE TRIGGER boom BEFORE INSERT ON blocks WHEN NEW.n = 3 BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END",
      );
      // Known tags of one device: the one-INSERT path.
      await assert.rejects(
        sink.write(Batch.from([rec("a", 5), rec("b", 6), rec("a", 7)])),
        /Cannot write 3 records to history ".*h\.db": refused by a trigger/,
      );
      // A new tag: its series row goes in under the savepoint and comes out with the batch.
      await assert.rejects(
        sink.write(Batch.from([rec("a", 8), rec("c", 9), rec("b", 10)])),
        /refused by a trigger/,
      );
      db.exec("DROP TRIGGER boom");
      await sink.write(Batch.from([rec("a", 11), rec("c", 12)]));
      await sink.flush();
      assert.deepEqual(queryHistory(path).map((r) => r.value), [1, 2, 3, 4, 11, 12]);
      assert.equal(sink.stats().rows, 6);
      assert.equal(
        (db.prepare("SELECT count(*) AS n FROM series").get() as { n: number }).n,
        3,
        "series a, b and c once each",
      );
    } finally {
      await sink.close();
    }
  });
});

const CHILD = `
import { createSqliteSink } from "${new URL("./mod.ts", import.meta.url).href}";
import { Batch } from "${new URL("../../engine/record.ts", import.meta.url).href}";
import { systemClock } from "${new URL("../../engine/clock.ts", import.meta.url).href}";
const [path, flushInterval] = Deno.args;
const sink = createSqliteSink({ path, flushInterval }, { name: "h", clock: systemClock });
await sink.open();
for (let k = 0; ; k++) {
  const b = new Batch(100);
  const now = Date.now();
  for (let t = 0; t < 100; t++) b.add("plc-" + (k % 10), "t" + t, k, 0, undefined, now, now, k * 100 + t);
  await sink.write(b);
  if (k === 20) await sink.flush();
  console.log(k);
  if (k >= 25 && flushInterval !== "0s") await new Promise(() => {}); // hold 21..25 unflushed
}
`;

async function killAfter(dir: string, flushInterval: string, batches: number): Promise<number> {
  const script = join(dir, "child.ts");
  await Deno.writeTextFile(script, CHILD);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      script,
      join(dir, "h.db"),
      flushInterval,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let acked = -1, out = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  while (acked < batches) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    const lines = out.split("\n");
    out = lines.pop()!;
    for (const l of lines) acked = Number(l);
  }
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  return acked;
}

Deno.test("after SIGKILL the history opens and keeps every acknowledged write (flushInterval 0s)", async () => {
  await withDir(async (dir) => {
    const acked = await killAfter(dir, "0s", 300);
    assert.ok(acked >= 300);
    const sink = sinkAt(join(dir, "h.db"));
    await sink.open();
    try {
      const db = sink.store!.db;
      assert.equal(
        (db.prepare("PRAGMA integrity_check").get() as Record<string, string>)
          .integrity_check,
        "ok",
      );
      // Every batch acknowledged before the kill is there (and maybe a few the child wrote
      // before the kill landed), each whole, with no gap.
      const rows = sink.stats().rows;
      assert.ok(rows >= (acked + 1) * 100 && rows % 100 === 0, `${rows} rows`);
      const seqs = sink.query({ tag: "t0" }).map((r) => r.seq);
      assert.deepEqual(seqs, Array.from({ length: rows / 100 }, (_, k) => k * 100));
      assert.equal(
        sink.query({ device: "plc-3", tag: "t7", latest: true, limit: 1 })[0]!.seq % 100,
        7,
      );
    } finally {
      await sink.close();
    }
  });
});

Deno.test("after SIGKILL a grouped history keeps what was flushed and loses only the window", async () => {
  await withDir(async (dir) => {
    const acked = await killAfter(dir, "1h", 25);
    assert.equal(acked, 25);
    const sink = sinkAt(join(dir, "h.db"));
    await sink.open();
    try {
      // Batches 0..20 were flushed; 21..25 were acknowledged inside the 1h window and lost.
      assert.equal(sink.stats().rows, 21 * 100);
      assert.deepEqual(sink.query({ tag: "t0", latest: true, limit: 1 })[0]!.value, 20);
    } finally {
      await sink.close();
    }
  });
});
