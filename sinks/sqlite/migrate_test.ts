/** @module Tests of opening older and newer history databases, and of retention across blocks. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Batch, type DataRecord, isBifrostError, ManualClock } from "../../engine/plugin.ts";
import { createSqliteSink, type SqliteConfig } from "./mod.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_migrate_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const sinkAt = (path: string, clock = new ManualClock(0), extra: Partial<SqliteConfig> = {}) =>
  createSqliteSink({ path, ...extra }, { name: "history", clock });

/** Schema version 1 as the previous sink created it. */
const V1_DDL = `
CREATE TABLE history (
  id INTEGER PRIMARY KEY, device TEXT NOT NULL, tag TEXT NOT NULL, kind INTEGER NOT NULL,
  value REAL, value_text TEXT, quality INTEGER NOT NULL, reason TEXT,
  source_ts INTEGER NOT NULL, gateway_ts INTEGER NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX history_device_tag_ts ON history (device, tag, source_ts);`;

Deno.test("a schema-1 history is migrated on open with every value kind intact", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "old.db");
    const old = new DatabaseSync(path);
    old.exec("PRAGMA journal_mode = WAL");
    old.exec(V1_DDL);
    const ins = old.prepare(
      "INSERT INTO history (device, tag, kind, value, value_text, quality, reason, source_ts, " +
        "gateway_ts, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const rows: [string, string, number, number | null, string | null, number, string | null][] = [
      ["plc", "n", 0, 71.25, null, 0, null],
      ["plc", "nan", 0, null, null, 1, "not a number"],
      ["meter", "on", 1, 1, null, 0, null],
      ["plc", "s", 2, null, "auto", 0, null],
      ["meter", "big", 3, null, "12345678901234567890", 0, null],
      ["plc", "json", 4, null, '{"a":[1,{"$bigint":"5"}]}', 0, null],
      ["plc", "null", 5, null, null, 2, "Cannot read HR0: timeout"],
    ];
    rows.forEach((r, i) => ins.run(...r, 1000 + i, 2000 + i, i));
    old.close();
    const sink = sinkAt(path, new ManualClock(2000));
    await sink.open();
    try {
      const got = sink.query();
      assert.deepEqual(got.map((r) => [r.device, r.tag, r.value, r.quality, r.reason]), [
        ["plc", "n", 71.25, "good", undefined],
        ["plc", "nan", NaN, "uncertain", "not a number"],
        ["meter", "on", true, "good", undefined],
        ["plc", "s", "auto", "good", undefined],
        ["meter", "big", 12345678901234567890n, "good", undefined],
        ["plc", "json", { a: [1, 5n] }, "good", undefined],
        ["plc", "null", null, "bad", "Cannot read HR0: timeout"],
      ]);
      assert.deepEqual(
        got.map((r) => [r.sourceTs, r.gatewayTs, r.seq]),
        rows.map((_, i) => [
          1000 + i,
          2000 + i,
          i,
        ]),
      );
      const db = sink.store!.db;
      assert.equal(
        (db.prepare("PRAGMA user_version").get() as { user_version: number })
          .user_version,
        2,
      );
      assert.equal(
        db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'history'").get(),
        undefined,
      );
      await sink.write(Batch.from([{ ...got[0]!, value: 3, sourceTs: 9000, seq: 99 }]));
      assert.deepEqual(sink.query({ device: "plc", tag: "n" }).map((r) => r.value), [71.25, 3]);
    } finally {
      await sink.close();
    }
  });
});

Deno.test("a history from a newer Bifrost is refused with the file and what to do", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "new.db");
    const db = new DatabaseSync(path);
    db.exec("PRAGMA user_version = 3");
    db.close();
    const sink = sinkAt(path);
    await assert.rejects(
      sink.open(),
      (e) =>
        isBifrostError(e, "SINK_FAILED") &&
        e.message.includes(`Cannot open history "${path}": its schema version is 3`) &&
        /upgrade Bifrost or point the sqlite sink at another file/.test(e.message),
    );
  });
});

Deno.test("retention by age drops old blocks and trims straddling ones, across devices", async () => {
  await withDir(async (dir) => {
    const clock = new ManualClock(0);
    const sink = sinkAt(join(dir, "h.db"), clock, { maxAge: "50s", retentionInterval: "1h" });
    await sink.open();
    try {
      const all: DataRecord[] = [];
      for (let k = 0; k < 10; k++) {
        const b = new Batch();
        for (const device of ["a", "b"]) {
          for (let t = 0; t < 4; t++) {
            // Each block spans 10 s of gateway time: the cutoff falls inside one.
            const ts = k * 10_000 + t * 2_500;
            const r: DataRecord = {
              device,
              tag: `t${t}`,
              value: ts,
              quality: t === 3 ? "bad" : "good",
              sourceTs: ts,
              gatewayTs: ts,
              seq: all.length,
              ...(t === 3 ? { reason: "down" } : {}),
            };
            b.push(r), all.push(r);
          }
        }
        await sink.write(b);
      }
      // The first write ran retention (nothing was old yet); now the cutoff is 55 s.
      await clock.advance(105_000);
      const deleted = sink.retain();
      const kept = all.filter((r) => r.gatewayTs >= 55_000);
      assert.equal(deleted, all.length - kept.length);
      assert.equal(sink.stats().rows, kept.length);
      assert.deepEqual(sink.query(), kept.sort((x, y) => x.sourceTs - y.sourceTs || x.seq - y.seq));
      assert.deepEqual(sink.query({ device: "b", tag: "t3", limit: 1 })[0]!.reason, "down");
    } finally {
      await sink.close();
    }
  });
});
