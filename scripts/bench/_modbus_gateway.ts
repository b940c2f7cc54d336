/**
 * @module
 * The gateway side of the Modbus benchmark's tag-level runs, in a child process so that it
 * can be pinned and measured alone: it writes a flow directory (one `modbus-tcp` device and
 * one 1 s poll per simulator port, every poll into one `sqlite` history sink), loads it
 * in a child process as `bifrost run` does, starts a {@linkcode Gateway}, warms up, then measures a window and
 * prints one JSON line ({@linkcode GatewayRun}).
 *
 * ```sh
 * taskset -c 0 deno run -A scripts/bench/_modbus_gateway.ts --ports ports.json --dead 0
 * ```
 *
 * `--sink none` swaps the history for a sink that drops every batch (to see the sink's
 * share); `--dead K` marks the first K ports as dead (their figures are kept apart).
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { Type } from "@sinclair/typebox";
import { addModulesOf, emptySources } from "../../app/sources.ts";
import { loadIsolated } from "../../app/cli/_load.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";
import { percentile } from "../../engine/runtime/scheduler.ts";
import { Quality } from "../../engine/record.ts";
import type { SinkModule } from "../../engine/sink.ts";
import type { SqliteSink } from "../../sinks/sqlite/mod.ts";
import { benchTags } from "./_modbus_farm.ts";

/** Lateness figures of a set of polls, ms. */
export interface Lateness {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Memory at one point of a run, MB (after a full GC when `--expose-gc` is on). */
export interface MemoryPoint {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** RssAnon, RssFile and RssShmem of /proc/self/status. */
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
}

/** What a run measured. */
export interface GatewayRun {
  devices: number;
  dead: number;
  tagsPerDevice: number;
  sink: string;
  loadMs: number;
  connectMs: number;
  windowS: number;
  /** Gateway CPU over the window, fraction of one core (user + system). */
  cpuCore: number;
  /** Its system (kernel) share: socket writes and reads, fsync. */
  cpuSysCore: number;
  /** Device-side process CPU over the window, fraction of one core (when its pid was given). */
  peerCpuCore: number | null;
  /** RSS after imports, before the flows were loaded. */
  baseRssMb: number;
  rssMb: number;
  rssMaxMb: number;
  /** RSS every 5 s of the window, MB (flat once warm: nothing accumulates). */
  rssSeriesMb: number[];
  heapUsedMb: number;
  /** Memory after imports, after loading the flows, after connecting, at the end (GC'd). */
  memory: { base: MemoryPoint; loaded: MemoryPoint; started: MemoryPoint; end: MemoryPoint };
  /** ms from the window's end to the end of `gateway.stop()` (the profile's last stretch). */
  stopMs: number;
  live: Lateness & {
    runsPerDevicePerS: number;
    /** Batches at least 500 ms after the previous one of their poll, per device per s. */
    distinctPerDevicePerS: number;
    /** Batches less than 500 ms after the previous one of their poll (a deadline run twice). */
    duplicates: number;
    goodPerS: number;
    skipped: number;
  };
  deadPolls: (Lateness & { runsPerDevicePerS: number }) | null;
  /** Largest p99LateMs of any single poll, as `gateway.stats()` reports it. */
  worstPollP99Ms: number;
  badPerS: number;
  sinkProcessed: number;
  sinkDropped: number;
  sinkDepthMax: number;
  sinkErrors: number;
  historyRowsWritten: number | null;
}

const nullSink: SinkModule = {
  name: "discard",
  description: "Drops every batch (benchmark only).",
  status: "experimental",
  spec: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    open: () => Promise.resolve(),
    write: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }),
};

function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15), USER_HZ = 100
}

function name(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(4, "0")}`;
}

/** The flow file of the run. */
function flowYaml(ports: number[], tags: number, sink: string, db: string): string {
  const tagLines = benchTags(tags).map((t) =>
    `      ${t.name}: { address: ${t.address}, type: ${t.type} }`
  ).join("\n");
  const out = ["version: 1", "devices:"];
  ports.forEach((port, i) => {
    out.push(
      `  ${name("d", i)}:`,
      "    driver: modbus-tcp",
      "    host: 127.0.0.1",
      `    port: ${port}`,
      "    timeout: 1s",
      "    tags:",
      tagLines,
    );
  });
  out.push("polls:");
  ports.forEach((_, i) =>
    out.push(`  ${name("p", i)}: { device: ${name("d", i)}, tags: "*", every: 1s }`)
  );
  out.push("sinks:", "  history:", `    use: ${sink}`, "    from:");
  ports.forEach((_, i) => out.push(`      - ${name("p", i)}`));
  if (sink === "sqlite") out.push(`    path: ${db}`, "    maxAge: 1h", "    maxSize: 4GB");
  return out.join("\n") + "\n";
}

function lateness(xs: number[]): Lateness {
  const a = Float64Array.from(xs);
  return {
    p50: percentile(a, 50),
    p99: percentile(a, 99),
    max: a.reduce((m, x) => Math.max(m, x), 0),
    samples: a.length,
  };
}

const gc = (globalThis as { gc?: () => void }).gc;

function memoryPoint(): MemoryPoint {
  gc?.();
  const m = Deno.memoryUsage();
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return {
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    heapTotal: mb(m.heapTotal),
    external: mb(m.external),
    rssAnon: kb("RssAnon"),
    rssFile: kb("RssFile"),
    rssShmem: kb("RssShmem"),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;

/** Runs the gateway against `ports`; see the module comment. */
export async function runGateway(o: {
  ports: number[];
  dead: number;
  tags: number;
  sink: "sqlite" | "none";
  warmupS: number;
  windowS: number;
  peerPid?: number;
}): Promise<GatewayRun> {
  const base = memoryPoint();
  const baseRss = base.rss * 1024 * 1024;
  const dir = await Deno.makeTempDir({ prefix: "bifrost-bench-modbus-" });
  try {
    await Deno.writeTextFile(
      `${dir}/flow.yaml`,
      flowYaml(o.ports, o.tags, "sqlite", `${dir}/history.db`),
    );
    const sources = emptySources();
    sources.sinks.push(nullSink);
    const t0 = performance.now();
    // As `bifrost run` does: validated in a child process, so the YAML documents and
    // positions of a 100k-tag flow never occupy the gateway's memory.
    const loaded = { flows: (await loadIsolated(dir))?.flows };
    if (!loaded.flows) throw new Error("Cannot load the bench flow (errors printed above)");
    if (o.sink !== "sqlite") {
      for (const sink of loaded.flows.sinks.values()) sink.use = "discard";
    }
    // The modules the flows name, as `bifrost run`'s gateway imports them when it starts;
    // here before the "flows loaded" figure, so that they count in it.
    await addModulesOf(loaded.flows, sources);
    const loadMs = performance.now() - t0;
    const loadedMem = memoryPoint();
    const gw = new Gateway(loaded.flows, { sources, dataDir: dir });
    const isDead = (poll: string) => Number(poll.slice(1)) < o.dead;
    let good = 0;
    let bad = 0;
    let duplicates = 0;
    let distinct = 0;
    const lastBatch = new Map<string, number>();
    gw.tap((node, b) => {
      for (let i = 0; i < b.length; i++) {
        if (b.quality[i] === Quality.good) good++;
        else bad++;
      }
      if (isDead(node) || b.length === 0) return;
      const at = b.gatewayTs[0]!;
      if (at - (lastBatch.get(node) ?? -Infinity) < 500) duplicates++;
      else distinct++;
      lastBatch.set(node, at);
    });
    const t1 = performance.now();
    await gw.start();
    await Promise.all([...gw.devices.values()].map((d) => d.whenConnected()));
    const connectMs = performance.now() - t1;
    const startedMem = memoryPoint();
    // BENCH_HEAP_SNAPSHOT=file.heapsnapshot: the heap once every device is connected (to
    // compare builds by constructor, see scripts/bench/heap_summary.ts).
    const snapshotTo = Deno.env.get("BENCH_HEAP_SNAPSHOT");
    if (snapshotTo) (await import("node:v8")).writeHeapSnapshot(snapshotTo);
    await sleep(o.warmupS * 1000);

    const snap = () =>
      new Map([...gw.polls].map(([n, p]) => [n, {
        runs: p.stats.runs,
        skipped: p.stats.skipped,
        n: p.stats.lateness().length,
      }]));
    const before = snap();
    const sinkBefore = gw.stats().consumers.history!;
    const good0 = good;
    const bad0 = bad;
    const dup0 = duplicates;
    const distinct0 = distinct;
    const cpu0 = process.cpuUsage();
    const peer0 = o.peerPid ? cpuTicks(o.peerPid) : 0;
    const w0 = performance.now();
    let rssMax = 0;
    let depthMax = 0;
    const rssSeries: number[] = [];
    while (performance.now() - w0 < o.windowS * 1000) {
      await sleep(250);
      const rss = Deno.memoryUsage().rss;
      rssMax = Math.max(rssMax, rss);
      if (performance.now() - w0 >= rssSeries.length * 5000) rssSeries.push(mb(rss));
      // Not gw.stats(): it sorts the lateness ring of every poll, a stall of its own.
      depthMax = Math.max(depthMax, gw.consumers.get("history")!.queue.stats().depth);
    }
    const windowS = (performance.now() - w0) / 1000;
    const s0 = performance.now();
    const cpu1 = process.cpuUsage();
    const peer1 = o.peerPid ? cpuTicks(o.peerPid) : 0;
    const mem = Deno.memoryUsage();
    const after = snap();
    const stats = gw.stats();
    const endMem = memoryPoint();
    const dups = duplicates - dup0;
    const distincts = distinct - distinct0;

    const liveLate: number[] = [];
    const deadLate: number[] = [];
    let liveRuns = 0;
    let deadRuns = 0;
    let skipped = 0;
    let worst = 0;
    for (const [n, p] of gw.polls) {
      const b = before.get(n)!;
      const a = after.get(n)!;
      // Fewer than 1,024 samples per poll in a run: the ring has not wrapped, order holds.
      const window = [...p.stats.lateness().slice(b.n, a.n)];
      if (isDead(n)) {
        deadLate.push(...window);
        deadRuns += a.runs - b.runs;
      } else {
        liveLate.push(...window);
        liveRuns += a.runs - b.runs;
        skipped += a.skipped - b.skipped;
        worst = Math.max(worst, stats.polls[n]!.p99LateMs);
      }
    }
    const live = o.ports.length - o.dead;
    const sink = stats.consumers.history!;
    await gw.stop();
    const stopMs = performance.now() - s0;
    const history = gw.consumers.get("history")?.sink as SqliteSink | undefined;
    return {
      devices: o.ports.length,
      dead: o.dead,
      tagsPerDevice: o.tags,
      sink: o.sink === "sqlite" ? "sqlite" : "discard",
      loadMs,
      connectMs,
      windowS,
      cpuCore: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6 / windowS,
      cpuSysCore: (cpu1.system - cpu0.system) / 1e6 / windowS,
      peerCpuCore: o.peerPid ? (peer1 - peer0) / 100 / windowS : null,
      baseRssMb: mb(baseRss),
      rssMb: mb(mem.rss),
      rssMaxMb: mb(rssMax),
      rssSeriesMb: rssSeries,
      heapUsedMb: mb(mem.heapUsed),
      memory: { base, loaded: loadedMem, started: startedMem, end: endMem },
      stopMs,
      live: {
        ...lateness(liveLate),
        runsPerDevicePerS: liveRuns / live / windowS,
        distinctPerDevicePerS: distincts / live / windowS,
        duplicates: dups,
        goodPerS: (good - good0) / windowS,
        skipped,
      },
      deadPolls: o.dead > 0
        ? { ...lateness(deadLate), runsPerDevicePerS: deadRuns / o.dead / windowS }
        : null,
      worstPollP99Ms: worst,
      badPerS: (bad - bad0) / windowS,
      sinkProcessed: sink.processed - sinkBefore.processed,
      sinkDropped: sink.dropped,
      sinkDepthMax: depthMax,
      sinkErrors: sink.errors,
      historyRowsWritten: history?.stats ? (history.stats().written ?? null) : null,
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      ports: { type: "string" },
      dead: { type: "string", default: "0" },
      tags: { type: "string", default: "100" },
      sink: { type: "string", default: "sqlite" },
      warmup: { type: "string", default: "10" },
      window: { type: "string", default: "30" },
      "peer-pid": { type: "string" },
    },
  });
  const ports = JSON.parse(await Deno.readTextFile(values.ports!)).ports as number[];
  const run = await runGateway({
    ports,
    dead: Number(values.dead),
    tags: Number(values.tags),
    sink: values.sink === "none" ? "none" : "sqlite",
    warmupS: Number(values.warmup),
    windowS: Number(values.window),
    ...(values["peer-pid"] ? { peerPid: Number(values["peer-pid"]) } : {}),
  });
  console.log(JSON.stringify(run));
  Deno.exit(0);
}
