/**
 * @module
 * The cases of the sink conformance suite (see `sink.ts`). Records are keyed by device, tag
 * and source time (or by seq when the server keeps no source time), so a lost record and a
 * duplicate both show by name. Waits poll the server every 20 ms within a bound.
 */

import { systemClock } from "../../engine/clock.ts";
import { BifrostError } from "../../engine/errors.ts";
import { nullLogger } from "../../engine/log.ts";
import { Batch, type DataRecord } from "../../engine/record.ts";
import type { Sink, SinkContext } from "../../engine/sink.ts";
import { assert, assertEquals } from "../_assert.ts";
import { schemaProblem, setAt, specExamples } from "./_examples.ts";
import {
  CATALOG,
  type ReadBackRecord,
  type SinkConformanceOptions,
  type SinkServer,
} from "./_sink_types.ts";

/** One case of the sink suite. */
export interface SinkCase {
  name: string;
  does: string;
  skip?(o: SinkConformanceOptions): string | undefined;
  run(o: SinkConformanceOptions): Promise<void> | void;
}

/** Source time of the first record: a whole second an hour ago (kept by every server). */
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

/** `n` good numeric records from `seq` on, over both devices of the catalog. */
export function goodRecords(seq: number, n: number): DataRecord[] {
  const out: DataRecord[] = [];
  for (let s = seq; s < seq + n; s++) {
    const [device, tag, value] = s % 3 === 0
      ? ["press-3", "pressure", 1 + s / 8]
      : s % 3 === 1
      ? ["boiler-plc", "temp", 20 + s / 4]
      : ["boiler-plc", "count", s];
    out.push({
      device,
      tag,
      value,
      quality: "good",
      sourceTs: T0 + s * 10,
      gatewayTs: T0 + s * 10 + 3,
      seq: s,
    } as DataRecord);
  }
  return out;
}

/** Bad, uncertain, string and boolean records from `seq` on. */
export function mixedRecords(seq: number): DataRecord[] {
  const r = (i: number, tag: string, extra: Partial<DataRecord>): DataRecord => ({
    device: "boiler-plc",
    tag,
    value: null,
    quality: "good",
    sourceTs: T0 + (seq + i) * 10,
    gatewayTs: T0 + (seq + i) * 10 + 3,
    seq: seq + i,
    ...extra,
  });
  return [
    r(0, "temp", { quality: "bad", reason: 'Cannot read HR0 on "boiler-plc": timeout' }),
    r(1, "running", { value: true }),
    r(2, "running", { value: false }),
    r(3, "mode", { value: 'auto "eco", 2' }),
    r(4, "mode", { value: "manual", quality: "uncertain", reason: "stale for 5 s" }),
    r(5, "count", { value: 7, quality: "uncertain", reason: "out of range" }),
  ];
}

/** A started server, a sink against it (opened), and its directory; all closed after `fn`. */
async function withSink(
  o: SinkConformanceOptions,
  fn: (s: { server: SinkServer; sink: Sink; config: Record<string, unknown> }) => Promise<void>,
): Promise<void> {
  const server = await o.startServer();
  const dataDir = await Deno.makeTempDir({ prefix: `bifrost_conf_${o.module.name}_` });
  const config = o.config(server, dataDir);
  const ctx: SinkContext = {
    name: "conformance",
    log: nullLogger,
    clock: systemClock,
    dataDir,
    catalog: CATALOG,
    writeTag: (device, tag) =>
      Promise.reject(new BifrostError("NOT_FOUND", `No tag "${device}/${tag}" in this test`)),
  };
  await o.module.load?.();
  const sink = o.create ? o.create(config, ctx, server) : o.module.create(config, ctx) as Sink;
  try {
    await sink.open();
    await fn({ server, sink, config });
  } finally {
    await sink.close().catch(() => {});
    await server.close();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

function key(o: SinkConformanceOptions, r: Partial<DataRecord>): string {
  const at = o.fields.includes("sourceTs") ? `@${r.sourceTs}` : "";
  const seq = o.fields.includes("seq") || !at ? `#${r.seq}` : "";
  return `${r.device}/${r.tag}${at}${seq}`;
}

/** A record as far as the server keeps it. */
function project(o: SinkConformanceOptions, r: Partial<DataRecord>): Record<string, unknown> {
  const out: Record<string, unknown> = { device: r.device, tag: r.tag };
  for (const f of o.fields) out[f] = f === "reason" ? (r.reason || undefined) : r[f];
  return out;
}

/** Polls `cond` every 20 ms until it holds; throws with `what()` after the bound. */
async function until(
  o: SinkConformanceOptions,
  cond: () => boolean,
  what: () => string,
): Promise<void> {
  const ms = o.waitMs ?? 15_000;
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `stats()` counts `n` delivered records and (queued) an empty queue. */
function settled(o: SinkConformanceOptions, sink: Sink, n: number): Promise<void> {
  const stats = () => sink.stats?.() ?? {};
  return until(
    o,
    () => o.delivered(stats()) >= n && (!o.queued || stats().depth === 0),
    () => `stats() to count ${n} delivered and an empty queue: ${JSON.stringify(stats())}`,
  );
}

/** Reads back until at least `n` records are there (within the bound); returns them. */
async function readAtLeast(
  o: SinkConformanceOptions,
  server: SinkServer,
  config: Record<string, unknown>,
  n: number,
): Promise<ReadBackRecord[]> {
  const ms = o.waitMs ?? 15_000;
  const end = performance.now() + ms;
  for (;;) {
    const got = await o.readBack(server, config);
    if (got.length >= n) return got;
    if (performance.now() > end) {
      throw new Error(`Timed out after ${ms} ms: ${got.length} of ${n} records read back`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every record written is read back once, with the fields the server keeps. */
function assertSame(o: SinkConformanceOptions, written: DataRecord[], got: ReadBackRecord[]) {
  const byKey = new Map<string, number>();
  for (const r of got) byKey.set(key(o, r), (byKey.get(key(o, r)) ?? 0) + 1);
  const dups = [...byKey].filter(([, n]) => n > 1).map(([k]) => k);
  assertEquals(dups, [], "no record is read back twice");
  const sort = (rs: Partial<DataRecord>[]) =>
    rs.map((r) => project(o, r)).sort((a, b) => key(o, a) < key(o, b) ? -1 : 1);
  assertEquals(sort(got), sort(written));
}

async function deliver(
  o: SinkConformanceOptions,
  s: { server: SinkServer; sink: Sink; config: Record<string, unknown> },
  records: DataRecord[],
): Promise<void> {
  await s.sink.write(Batch.from(records));
  await s.sink.flush();
  assertSame(o, records, await readAtLeast(o, s.server, s.config, records.length));
}

const delivery: SinkCase = {
  name: "delivery",
  does: "records read back from the server with values, quality, timestamps, device and tag",
  run: (o) =>
    withSink(o, async (s) => {
      const records = goodRecords(1, 20);
      await s.sink.write(Batch.from(records.slice(0, 10)));
      await s.sink.write(Batch.from(records.slice(10)));
      await s.sink.flush();
      assertSame(o, records, await readAtLeast(o, s.server, s.config, records.length));
    }),
};

const mixed: SinkCase = {
  name: "mixed batch",
  does: "bad and uncertain records with their reasons, strings and booleans read back",
  run: (o) => withSink(o, (s) => deliver(o, s, mixedRecords(1))),
};

const outage: SinkCase = {
  name: "outage",
  does: "records written while the server is down arrive after it restarts, once each",
  skip: (o) => o.queued ? undefined : "the sink writes synchronously (no queue to hold records)",
  run: (o) =>
    withSink(o, async (s) => {
      assert(s.server.stop && s.server.start, "a queued sink's server can stop and start");
      const before = goodRecords(1, 30);
      await deliver(o, s, before);
      // A quiet moment: every record confirmed to the sink (not only seen by the reader).
      await settled(o, s.sink, before.length);
      await s.server.stop();
      const during = [...goodRecords(31, 30), ...mixedRecords(61)];
      for (let i = 0; i < during.length; i += 6) {
        await s.sink.write(Batch.from(during.slice(i, i + 6)));
      }
      const saw = o.sawOutage ?? ((st) => (st.failed ?? 0) > 0 || st.connected === 0);
      await until(o, () => saw(s.sink.stats!()), () => `the sink to meet the outage`);
      assert(s.sink.stats!().depth! > 0, "records wait in the queue while down");
      await s.server.start();
      const after = goodRecords(67, 30);
      await s.sink.write(Batch.from(after));
      const all = [...before, ...during, ...after];
      assertSame(o, all, await readAtLeast(o, s.server, s.config, all.length));
    }),
};

const stats: SinkCase = {
  name: "stats",
  does: "stats() counts every record delivered",
  run: (o) =>
    withSink(o, async (s) => {
      assert(s.sink.stats, "the sink has stats()");
      const records = [...goodRecords(1, 12), ...mixedRecords(13)];
      await deliver(o, s, records);
      await settled(o, s.sink, records.length).catch(() => {});
      const st = s.sink.stats();
      assertEquals(o.delivered(st), records.length, `stats: ${JSON.stringify(st)}`);
      if (o.queued) {
        assertEquals(st.enqueued, records.length, "enqueued");
        assertEquals(st.depth, 0, "the queue is empty once delivered");
      }
    }),
};

const closeFlushes: SinkCase = {
  name: "close",
  does: "close() right after write() delivers every record",
  run: (o) =>
    withSink(o, async (s) => {
      const records = [...goodRecords(1, 20), ...mixedRecords(21)];
      await s.sink.write(Batch.from(records));
      await s.sink.close();
      assertSame(o, records, await readAtLeast(o, s.server, s.config, records.length));
    }),
};

const examples: SinkCase = {
  name: "spec examples",
  does: "every example of the sink's spec validates against the flow schema",
  run(o) {
    const check = (cfg: Record<string, unknown>, what: string) =>
      schemaProblem({ sinks: { s: { ...cfg, use: o.module.name, from: "p" } } }, what);
    const base = check(o.exampleBase, "the suite's example base config");
    assert(base === undefined, base);
    const all = specExamples(o.module.spec);
    assert(all.length > 0, "the spec has examples");
    const problems: string[] = [];
    for (const [path, e] of all) {
      const p = check(setAt(o.exampleBase, path, e), `${path.join(".")} = ${JSON.stringify(e)}`);
      if (p) problems.push(p);
    }
    assertEquals(problems, []);
  },
};

/** Every case, in the order they are registered. */
export const SINK_CASES: readonly SinkCase[] = [
  delivery,
  mixed,
  outage,
  stats,
  closeFlushes,
  examples,
];
