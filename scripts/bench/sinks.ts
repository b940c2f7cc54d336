/**
 * @module
 * Benchmark of the network sinks' durable queue with the `mqtt` sink against a local
 * mosquitto (QoS 1, no subscriber):
 *
 * - **direct**: the records published straight from memory with the sink's topic and
 *   payload code and the same in-flight window, no queue (the floor);
 * - **queued**: the same records through the `mqtt` sink: `write()` of 1,000-record batches
 *   (one SQLite transaction each), the sender reading them back, publishing, and removing
 *   them on PUBACK. The producer yields to the event loop after each batch, as polls do.
 *   Both time from the first record to the last PUBACK; runs alternate and the median is
 *   reported, with the queued/direct time ratio (targets: >= 50k records/s, <= 2x). The
 *   queued path runs on the same thread as the publishing (SQLite is synchronous), so the
 *   ratio is the whole cost of durability;
 * - **replay**: a backlog written to the queue file while no broker runs, then replayed
 *   (replayRate 0), with RSS before, during (max of samples) and after, to show memory stays
 *   flat whatever the backlog.
 *
 * ```sh
 * deno run -A scripts/bench/sinks.ts                      # 200k records x 3 runs, 1M replay
 * deno run -A scripts/bench/sinks.ts --records 100000 --runs 5 --replay 200000
 * ```
 */

import { parseArgs } from "node:util";
import { systemClock } from "../../engine/clock.ts";
import { Batch, Quality } from "../../engine/record.ts";
import { DurableQueue } from "../../sinks/_queue/mod.ts";
import { freePort, Mosquitto, mosquittoMissing } from "../../sinks/mqtt/_mosquitto.ts";
import {
  clientOptions,
  compileTopic,
  createMqttSink,
  type MqttConfig,
  mqttConnector,
  payload,
} from "../../sinks/mqtt/sink.ts";

const BATCH = 1_000;
const MAX_IN_FLIGHT = 1_000;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    records: { type: "string", default: "200000" },
    runs: { type: "string", default: "3" },
    replay: { type: "string", default: "1000000" },
  },
});
const RECORDS = Number(args.records);
const RUNS = Number(args.runs);
const REPLAY = Number(args.replay);

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const rss = () => Deno.memoryUsage().rss;
const heap = () => Deno.memoryUsage().heapUsed;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const macrotask = () => new Promise<void>((r) => setTimeout(r, 0));

/** `n` records in 1,000-record batches: 10 devices x 100 tags, numeric values. */
function makeBatches(n: number, seq0 = 0): Batch[] {
  const out: Batch[] = [];
  const now = Date.now();
  for (let done = 0; done < n; done += BATCH) {
    const size = Math.min(BATCH, n - done);
    const b = new Batch(size);
    for (let i = 0; i < size; i++) {
      const s = seq0 + done + i;
      b.add(
        `plc-${i % 10}`,
        `temp${i % 100}`,
        20 + (s % 1000) * 0.01,
        Quality.good,
        undefined,
        now,
        now,
        s,
      );
    }
    out.push(b);
  }
  return out;
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Publishes every record straight from memory; returns seconds to the last PUBACK. */
async function direct(url: string, batches: Batch[]): Promise<number> {
  const link = await mqttConnector(url, clientOptions({ url }, "bench-direct", "bench"), {
    qos: 1,
    retain: false,
  })();
  const topic = compileTopic("bifrost/{device}/{tag}");
  let inFlight = 0;
  let confirmed = 0;
  let wake: (() => void) | undefined;
  const done = (err?: Error) => {
    if (err) throw err;
    inFlight--;
    confirmed++;
    if (wake && inFlight < MAX_IN_FLIGHT) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const total = batches.reduce((a, b) => a + b.length, 0);
  const t0 = performance.now();
  for (const b of batches) {
    let i = 0;
    while (i < b.length) {
      if (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => wake = r);
      const end = Math.min(b.length, i + (MAX_IN_FLIGHT - inFlight), i + 500);
      link.burst(() => {
        for (; i < end; i++) {
          inFlight++;
          link.publish(topic(b.device[i]!, b.tag[i]!), payload(b, i, false), done);
        }
      });
    }
  }
  await waitUntil(() => confirmed === total, "direct PUBACKs");
  const s = (performance.now() - t0) / 1000;
  await link.end();
  return s;
}

function sinkConfig(url: string, dir: string): MqttConfig {
  return {
    url,
    clientId: "bench-queued",
    qos: 1,
    maxInFlight: MAX_IN_FLIGHT,
    replayRate: 0,
    reconnectMin: "50ms",
    reconnectMax: "200ms",
    queue: { dir, maxRecords: 100_000_000, maxSize: "10GB" },
  };
}

/** Writes every batch through the mqtt sink; returns seconds to the last PUBACK. */
async function queued(url: string, batches: Batch[]): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_q_" });
  const sink = createMqttSink(sinkConfig(url, dir), { name: "bench", clock: systemClock });
  try {
    await sink.open();
    await waitUntil(() => sink.stats().connected === 1, "the sink to connect", 10_000);
    const total = batches.reduce((a, b) => a + b.length, 0);
    const t0 = performance.now();
    for (const b of batches) {
      await sink.write(b);
      await macrotask();
    }
    await waitUntil(() => sink.stats().sent >= total, "queued PUBACKs");
    const s = (performance.now() - t0) / 1000;
    return s;
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function throughput(): Promise<void> {
  await using broker = await Mosquitto.start();
  const batches = makeBatches(RECORDS);
  // Warm-up: JIT, broker and SQLite caches.
  await direct(broker.url, makeBatches(20_000));
  await queued(broker.url, makeBatches(20_000));
  const d: number[] = [];
  const q: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    d.push(await direct(broker.url, batches));
    q.push(await queued(broker.url, batches));
  }
  const dRate = RECORDS / median(d);
  const qRate = RECORDS / median(q);
  const fmt = (xs: number[]) => xs.map((s) => Math.round(RECORDS / s)).join(", ");
  console.log(
    `\nmqtt QoS 1 to local mosquitto, ${RECORDS} records in ${BATCH}-record batches, ` +
      `maxInFlight ${MAX_IN_FLIGHT}, median of ${RUNS}:`,
  );
  console.log(
    `  direct (no queue)     ${Math.round(dRate).toLocaleString("en")} records/s  [${fmt(d)}]`,
  );
  console.log(
    `  through durable queue ${Math.round(qRate).toLocaleString("en")} records/s  [${fmt(q)}]`,
  );
  console.log(
    `  queue cost: ${(median(q) / median(d)).toFixed(2)}x the direct time ` +
      `(target <= 2x; target rate >= 50,000 records/s)`,
  );
}

async function replay(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_replay_" });
  const port = freePort();
  try {
    // The backlog: written while no broker runs (straight into the sink's queue file).
    const t0 = performance.now();
    const q = new DurableQueue({ path: `${dir}/replay.db`, clock: systemClock });
    for (let done = 0; done < REPLAY; done += 10 * BATCH) {
      const batches = makeBatches(Math.min(10 * BATCH, REPLAY - done), done);
      for (const b of batches) q.enqueue(b);
    }
    const fileBytes = fileSize(`${dir}/replay.db`) + fileSize(`${dir}/replay.db-wal`);
    q.close();
    const enqueueS = (performance.now() - t0) / 1000;
    console.log(
      `\nreplay: ${REPLAY.toLocaleString("en")} records queued in ${enqueueS.toFixed(1)} s ` +
        `(${Math.round(REPLAY / enqueueS).toLocaleString("en")} records/s, ` +
        `${mb(fileBytes)} MB on disk, ${(fileBytes / REPLAY).toFixed(0)} B/record)`,
    );

    await using broker = await Mosquitto.start({ port });
    (globalThis as { gc?: () => void }).gc?.();
    const before = rss();
    const heapBefore = heap();
    const sink = createMqttSink(sinkConfig(broker.url, dir), {
      name: "replay",
      clock: systemClock,
    });
    await sink.open();
    let peak = before;
    let heapPeak = heapBefore;
    const samples: number[] = [];
    const timer = setInterval(() => {
      const r = rss();
      samples.push(r);
      peak = Math.max(peak, r);
      heapPeak = Math.max(heapPeak, heap());
    }, 250);
    const t1 = performance.now();
    try {
      await waitUntil(() => sink.stats().sent >= REPLAY, "the replay", 300_000);
    } finally {
      clearInterval(timer);
    }
    const replayS = (performance.now() - t1) / 1000;
    const historical = sink.stats().historical;
    await sink.close();
    (globalThis as { gc?: () => void }).gc?.();
    const after = rss();
    const heapAfter = heap();
    const at = (f: number) => mb(samples[Math.floor(samples.length * f)] ?? before);
    console.log(
      `  replayed in ${replayS.toFixed(1)} s: ` +
        `${Math.round(REPLAY / replayS).toLocaleString("en")} records/s (${historical} historical)`,
    );
    console.log(
      `  RSS before ${mb(before)} MB; during at 25/50/75% ${at(0.25)}/${at(0.5)}/${at(0.75)} MB, ` +
        `max ${mb(peak)} MB (${samples.length} samples); after ${mb(after)} MB; ` +
        `JS heap before ${mb(heapBefore)} MB, max ${mb(heapPeak)} MB, after ${mb(heapAfter)} MB`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const missing = mosquittoMissing();
if (missing) {
  console.log(`SKIPPED sinks benchmark: ${missing}`);
} else {
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);
  // Replay first, so its RSS figures are not those of a heap grown by the other section.
  if (REPLAY > 0) await replay();
  await throughput();
}

// ---------------------------------------------------------------------------------------
// Forwarding sinks (sinks/_forward): http, influxdb, postgres.
//
// Records/s through each sink from the first `write()` to an empty queue: durable
// enqueue of 1,000-record batches, the forwarder's peek → deliver → ack, the encoding
// (JSON, gzipped line protocol, multi-row INSERT) and the destination's work. The http
// endpoint is a `Deno.serve` in this process (it parses every body), so that figure is a
// floor of the sink's own cost shared with the server. InfluxDB (Debian influxd 1.x) and
// PostgreSQL (Debian server, temp cluster, fsync off) run as real servers when installed.
// `BENCH_FORWARD_RECORDS` sets the count (default 100,000; 0 skips the section).

const { createHttpSink } = await import("../../sinks/http/sink.ts");
const { createInfluxSink } = await import("../../sinks/influxdb/sink.ts");
const { createPostgresSink } = await import("../../sinks/postgres/sink.ts");
const { Influxd, influxdMissing } = await import("../../sinks/influxdb/_influxd.ts");
const { PgServer, postgresMissing } = await import("../../sinks/postgres/_postgres.ts");
type ForwardSinkT = import("../../sinks/_forward/mod.ts").ForwardSink;

const FORWARD_RECORDS = Number(Deno.env.get("BENCH_FORWARD_RECORDS") ?? "100000");

async function forwardRun(make: (dir: string) => ForwardSinkT): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_bench_fwd_" });
  const sink = make(dir);
  await sink.open();
  try {
    const batches = makeBatches(FORWARD_RECORDS);
    const t0 = performance.now();
    for (const b of batches) {
      await sink.write(b);
      await macrotask();
    }
    await waitUntil(() => sink.stats().depth === 0, "the forwarding queue to drain");
    const s = (performance.now() - t0) / 1000;
    const st = sink.stats();
    return `${Math.round(FORWARD_RECORDS / s).toLocaleString("en")} records/s ` +
      `(${FORWARD_RECORDS.toLocaleString("en")} in ${s.toFixed(2)} s, ${st.requests} requests, ` +
      `${st.failed} failed, ${st.deadLettered} dead-lettered)`;
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function forwarding(): Promise<void> {
  console.log(`forwarding sinks: ${FORWARD_RECORDS.toLocaleString("en")} records`);
  const ctx = { name: "bench", clock: systemClock };
  {
    let n = 0;
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (r) => {
        n += (await r.json()).records.length;
        return new Response(null, { status: 204 });
      },
    );
    const url = `http://127.0.0.1:${server.addr.port}/ingest`;
    for (const batchSize of [500, 5000]) {
      const line = await forwardRun((dir) =>
        createHttpSink({ url, batchSize, queue: { dir } }, ctx)
      );
      console.log(`  http (JSON, batchSize ${batchSize}): ${line}`);
    }
    if (n !== 2 * FORWARD_RECORDS) console.log(`  http: server saw ${n} records`);
  }
  const noInflux = influxdMissing();
  if (noInflux) console.log(`  SKIPPED influxdb: ${noInflux}`);
  else {
    await using influx = await Influxd.start();
    await influx.query("CREATE DATABASE bench");
    const line = await forwardRun((dir) =>
      createInfluxSink({ url: influx.url, database: "bench", queue: { dir } }, ctx)
    );
    console.log(`  influxdb 1.x (gzip, batchSize 5000): ${line}`);
  }
  const noPg = postgresMissing();
  if (noPg) console.log(`  SKIPPED postgres: ${noPg}`);
  else {
    await using pg = await PgServer.start();
    const line = await forwardRun((dir) =>
      createPostgresSink({ url: pg.url, table: "bench", createTable: true, queue: { dir } }, ctx)
    );
    console.log(`  postgres (6 columns, batchSize 1000): ${line}`);
  }
}

if (FORWARD_RECORDS > 0) await forwarding();
