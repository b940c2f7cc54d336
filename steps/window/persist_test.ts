/** @module A window's state survives a restart through its snapshot in the data directory. */

import assert from "node:assert/strict";
import { Batch, createLogger, type DataRecord, ManualClock } from "../../engine/plugin.ts";
import { decodeSnapshot, encodeSnapshot, snapshotPath } from "../_snapshot.ts";
import { createWindow, type WindowConfig } from "./mod.ts";

const rec = (tag: string, ts: number, value: number) =>
  ({
    device: "plc",
    tag,
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: 1,
  }) as DataRecord;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-window-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const config: WindowConfig = {
  size: "10s",
  hop: "5s",
  aggregates: ["sum", "count", "p50"],
  persist: true,
};

Deno.test("window persist: open windows are restored after a restart", async () => {
  await withDir(async (dir) => {
    const ctx = { name: "w", dataDir: dir, clock: new ManualClock(0) };
    const a = createWindow(config, ctx);
    await a.start!();
    a.process(Batch.from([rec("t", 1000, 1), rec("u", 2000, 10), rec("t", 3000, 2)]));
    await a.close!();
    const b = createWindow(config, ctx);
    await b.start!();
    b.process(Batch.from([rec("t", 6000, 4)]));
    const out = b.process(Batch.from([rec("t", 20_000, 0)])).toArray()
      .filter((r) => r.sourceTs === 10_000)
      .map((r) => `${r.tag}=${r.value}`);
    // [0, 10 s): t had 1 and 2 before the restart, 4 after; u had 10.
    // p50 from the restored sketch: within its 1 % of 2 (u's single value is its min and max).
    const p50 = Number(out[2]!.split("=")[1]);
    assert.ok(Math.abs(p50 - 2) <= 0.02, `t.p50 ${p50}`);
    out[2] = "t.p50≈2";
    assert.deepEqual(out, ["t.sum=7", "t.count=3", "t.p50≈2", "u.sum=10", "u.count=1", "u.p50=10"]);
    // The exact mode restores its buffered values.
    await Deno.remove(`${dir}/steps`, { recursive: true });
    const exact = { ...config, percentiles: "exact" as const };
    const c = createWindow(exact, ctx);
    await c.start!();
    c.process(Batch.from([rec("t", 1000, 1), rec("t", 3000, 2)]));
    await c.close!();
    const d = createWindow(exact, ctx);
    await d.start!();
    d.process(Batch.from([rec("t", 6000, 4)]));
    const out2 = d.process(Batch.from([rec("t", 20_000, 0)])).toArray()
      .filter((r) => r.sourceTs === 10_000)
      .map((r) => `${r.tag}=${r.value}`);
    assert.deepEqual(out2, ["t.sum=7", "t.count=3", "t.p50=2"]);
  });
});

Deno.test("window persist: new aggregates or output keep the state; a new percentile mode does not", async () => {
  await withDir(async (dir) => {
    const ctx = { name: "w", dataDir: dir, clock: new ManualClock(0) };
    const a = createWindow(config, ctx);
    a.process(Batch.from([rec("t", 1000, 1), rec("t", 3000, 2)]));
    await a.close!();
    const b = createWindow(
      { ...config, aggregates: ["max", "p50", "count"], output: "{tag}_{agg}" },
      ctx,
    );
    await b.start!();
    b.process(Batch.from([rec("t", 6000, 4)]));
    await b.close!();
    const out = b.process(Batch.from([rec("t", 20_000, 0)])).toArray()
      .filter((r) => r.sourceTs === 10_000)
      .map((r) => `${r.tag}=${r.tag.endsWith("p50") ? Math.round(r.value as number) : r.value}`);
    assert.deepEqual(out, ["t_max=4", "t_p50=2", "t_count=3"]);
    const c = createWindow({ ...config, percentiles: "exact" }, ctx);
    await c.start!();
    assert.equal(c.stats().keys, 0);
  });
});

Deno.test("window persist: a snapshot of another config is left alone; a damaged one is reported", async () => {
  await withDir(async (dir) => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", json: true, write: (l) => lines.push(l) });
    const a = createWindow(config, { name: "w", dataDir: dir });
    a.process(Batch.from([rec("t", 1000, 1)]));
    await a.close!();
    const other = createWindow({ ...config, size: "20s" }, { name: "w", dataDir: dir, log });
    await other.start!();
    assert.equal(other.stats().keys, 0);
    assert.match(lines.at(-1)!, /not restored: the step's windows or percentiles changed/);
    await Deno.writeTextFile(snapshotPath(dir, "w"), "garbage");
    const c = createWindow(config, { name: "w", dataDir: dir, log });
    await c.start!();
    assert.equal(c.stats().keys, 0);
    assert.match(
      lines.at(-1)!,
      /Cannot restore window state from .*w\.state: not a Bifrost step snapshot/,
    );
  });
});

Deno.test("snapshot encoding round-trips arrays and meta and rejects damage", () => {
  const s = {
    meta: { a: 1, keys: [["d", "t"]] },
    arrays: { x: new Float64Array([1.5, NaN, -Infinity]), y: new Uint8Array([1, 2, 3]) },
  };
  const back = decodeSnapshot(encodeSnapshot(s));
  assert.deepEqual(back.meta, s.meta);
  assert.deepEqual([...back.arrays.x!], [1.5, NaN, -Infinity]);
  assert.deepEqual([...back.arrays.y!], [1, 2, 3]);
  assert.throws(() => decodeSnapshot(new TextEncoder().encode("nope")), /bad magic/);
  assert.throws(() => decodeSnapshot(encodeSnapshot(s).subarray(0, 40)), /truncated/);
});
