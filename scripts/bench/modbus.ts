/**
 * @module
 * Benchmark of the Modbus path, every figure measured side by side in one run (medians of
 * rounds; the machines have 2 noisy cores, so client and server share one pinned CPU):
 *
 * 1. **Sequential FC3 reads of 10 registers on one connection** against one server process
 *    (the libmodbus C server when libmodbus-dev is installed, then our simulator run as
 *    `bifrost sim modbus`), client and server on CPU 0: `ModbusTcpClient.request()` (ours),
 *    a raw `Deno.connect` loop writing the same bytes (the floor), `ModbusTcpDriver.read()`
 *    of 10 tags (the driver as the gateway calls it) and the libmodbus C client loop.
 *    Target: ours/raw >= 0.95.
 * 2. **125 registers vs 10** with our client: time per request ratio. Target <= 1.1.
 * 3. **Tag level**: 1,000 simulated devices x 100 tags (one simulator process, one port per
 *    device), each polled every second through the Gateway into the SQLite history;
 *    gateway CPU, RSS, RSS per tag and poll lateness. Targets: <= 0.3 core, <= 1.5 KB/tag,
 *    p99 lateness < 20 ms. Gateway and simulators share CPU 0, as client and server do in
 *    parts 1 and 2: on these VMs a loopback round trip between two CPUs costs each side a
 *    cross-CPU wake-up (perf: a fifth of the gateway's samples in the kernel's
 *    `sock_def_readable` waking the peer), which a gateway talking to PLCs over a network
 *    does not pay. `--farm-cpu 1` puts the simulators on the other CPU.
 * 4. **A dead device costs the others nothing**: 200 devices, 10 % answering nothing (the
 *    simulator drops every request), live devices' runs per second and lateness with and
 *    without the dead ones.
 *
 * ```sh
 * deno task bench:modbus
 * deno run -A scripts/bench/modbus.ts --parts 1,2 --rounds 7
 * deno run -A scripts/bench/modbus.ts --parts 3 --profile /tmp/prof   # + CPU profile summary
 * deno run -A scripts/bench/modbus.ts --parts 3 --sink-compare        # + a run with no sink
 * deno run -A scripts/bench/modbus.ts --parts 3 --v8-compare="--max-semi-space-size=4;--optimize-for-size"
 * ```
 *
 * `--v8-compare` runs the tag-level gateway once more per `;`-separated set of V8 flags
 * (added to `--expose-gc`, replacing the shipped ones) against the same simulators and
 * prints the figures side by side.
 *
 * ```sh
 * ```
 */

import { parseArgs } from "node:util";
import { printProfile } from "./_modbus_profile.ts";
import type { ClientResult, LoopSpec } from "./_modbus_client.ts";
import type { GatewayRun, MemoryPoint } from "./_modbus_gateway.ts";
import {
  buildCPeers,
  denoArgs,
  LineChild,
  runCClient,
  type ServerProcess,
  startCServer,
  startSimServer,
} from "./_modbus_peers.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    parts: { type: "string", default: "1,2,3,4" },
    rounds: { type: "string", default: "9" },
    ms: { type: "string", default: "500" },
    devices: { type: "string", default: "1000" },
    tags: { type: "string", default: "100" },
    warmup: { type: "string", default: "10" },
    window: { type: "string", default: "30" },
    "dead-devices": { type: "string", default: "200" },
    "dead-share": { type: "string", default: "0.1" },
    "dead-window": { type: "string", default: "15" },
    profile: { type: "string" },
    "sink-compare": { type: "boolean", default: false },
    "v8-compare": { type: "string" },
    "v8-rounds": { type: "string", default: "1" },
    "farm-cpu": { type: "string", default: "0" },
  },
});
const parts = new Set(args.parts.split(",").map(Number));
const ROUNDS = Number(args.rounds);
const MS = Number(args.ms);
const root = new URL("../../", import.meta.url).pathname;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const f0 = (x: number) => x.toFixed(0);
const f2 = (x: number) => x.toFixed(2);
const verdict = (ok: boolean) => ok ? "MET" : "MISSED";

// --- Parts 1 and 2: sequential requests -------------------------------------------------

interface Column {
  label: string;
  /** Requests per second, one per round. */
  rates: number[];
}

async function sequential(client: LineChild, cBin: string | undefined): Promise<void> {
  const servers: (() => Promise<ServerProcess>)[] = [];
  const peers = await buildCPeers();
  if ("server" in peers) servers.push(() => startCServer(peers.server, 0));
  else console.log(`  (no C peers: ${peers.missing}; the simulator is the only server)`);
  servers.push(() => startSimServer(0));
  const loops: LoopSpec[] = [
    { mode: "ours", count: 10 },
    { mode: "raw", count: 10 },
    { mode: "driver", count: 10 },
  ];
  if (parts.has(2)) loops.push({ mode: "ours", count: 125 }, { mode: "raw", count: 125 });
  const labels: Record<string, string> = {
    "ours:10": "ours (ModbusTcpClient)",
    "raw:10": "raw Deno.connect loop",
    "driver:10": "driver.read (10 tags)",
    "ours:125": "ours, 125 registers",
    "raw:125": "raw, 125 registers",
  };
  const cCounts = cBin ? (parts.has(2) ? [10, 125] : [10]) : [];

  for (const start of servers) {
    await using server = await start();
    const deno: Column[] = loops.map((l) => ({
      label: labels[`${l.mode}:${l.count}`]!,
      rates: [],
    }));
    const c: Column[] = cCounts.map((n) => ({
      label: n === 10 ? "libmodbus C client" : `C client, ${n} registers`,
      rates: [],
    }));
    for (let r = 0; r < ROUNDS; r++) {
      // The Deno loops interleave in one process (paired under the same noise); the C
      // client runs right after, for the same time per loop.
      await client.send(JSON.stringify({ port: server.port, loops, ms: MS * loops.length }));
      const res = await client.json<ClientResult>();
      res.loops.forEach((l, i) => deno[i]!.rates.push(l.requests / l.seconds));
      for (const [i, n] of cCounts.entries()) {
        const x = await runCClient(cBin!, 0, server.port, n, MS);
        c[i]!.rates.push(x.requests / x.seconds);
      }
    }
    const col = (label: string) => [...deno, ...c].find((x) => x.label === label)?.rates;
    const ratio = (a: string, b: string) => {
      const x = col(a);
      const y = col(b);
      return x && y ? median(x.map((v, i) => v / y[i]!)) : undefined;
    };
    console.log(
      `\n1. Sequential FC3 reads, one connection, against the ${server.label}` +
        ` (client and server on CPU 0; ${ROUNDS} rounds, medians; Deno loops interleaved)`,
    );
    for (const x of [...deno, ...c]) {
      const m = median(x.rates);
      console.log(
        `   ${x.label.padEnd(24)} ${f0(m).padStart(7)} req/s ${
          (1e6 / m).toFixed(1).padStart(6)
        } us/req` +
          `   rounds: ${x.rates.map(f0).join(", ")}`,
      );
    }
    const oursRaw = ratio(labels["ours:10"]!, labels["raw:10"]!)!;
    console.log(`   ours/raw    ${f2(oursRaw)}  (target >= 0.95: ${verdict(oursRaw >= 0.95)})`);
    console.log(`   driver/raw  ${f2(ratio(labels["driver:10"]!, labels["raw:10"]!)!)}`);
    if (cBin) {
      const vsC = ["ours:10", "raw:10", "driver:10"].map((k) =>
        `${k.split(":")[0]}/C ${f2(ratio(labels[k]!, "libmodbus C client")!)}`
      );
      console.log(`   ${vsC.join("   ")}  (per round; C ran after the Deno loops)`);
    }
    if (parts.has(2)) {
      const x = ratio(labels["ours:10"]!, labels["ours:125"]!)!;
      const raw = ratio(labels["raw:10"]!, labels["raw:125"]!)!;
      const cx = cBin ? ratio("libmodbus C client", "C client, 125 registers") : undefined;
      console.log(
        `2. 125 vs 10 registers: time per request, ours x${f2(x)}` +
          ` (target <= 1.1: ${verdict(x <= 1.1)});  raw x${f2(raw)}` +
          (cx === undefined ? "" : `;  C x${f2(cx)}`),
      );
    }
  }
}

// --- Parts 3 and 4: tag level -----------------------------------------------------------

async function startFarm(
  devices: number,
  dead: number,
): Promise<{ farm: LineChild; ports: number[] }> {
  const farm = new LineChild(
    Deno.execPath(),
    denoArgs("_modbus_farm.ts", [
      "--devices",
      String(devices),
      "--dead",
      String(dead),
      "--tags",
      args.tags,
    ]),
    { cpu: Number(args["farm-cpu"]), stdin: true },
  );
  const { ports } = await farm.json<{ ports: number[] }>();
  return { farm, ports };
}

async function gateway(
  ports: number[],
  o: {
    dead: number;
    sink: string;
    warmup: number;
    window: number;
    farmPid: number;
    prof?: string;
    v8?: string;
  },
): Promise<GatewayRun> {
  const file = await Deno.makeTempFile({ prefix: "bifrost-bench-ports-", suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify({ ports }));
  try {
    // The V8 flags `bifrost run` ships with (deno.json tasks, deno compile), plus GC access.
    const flags = [o.v8 === undefined ? GATEWAY_V8_FLAGS : `--v8-flags=--expose-gc,${o.v8}`];
    if (o.prof) flags.push("--cpu-prof", `--cpu-prof-dir=${o.prof}`);
    await using gw = new LineChild(
      Deno.execPath(),
      denoArgs("_modbus_gateway.ts", [
        "--ports",
        file,
        "--dead",
        String(o.dead),
        "--tags",
        args.tags,
        "--sink",
        o.sink,
        "--warmup",
        String(o.warmup),
        "--window",
        String(o.window),
        "--peer-pid",
        String(o.farmPid),
      ], flags),
      { cpu: 0 },
    );
    const run = await gw.json<GatewayRun>();
    await gw.child.status;
    return run;
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}

/**
 * V8 flags of the gateway under test: those `bifrost run` ships with (deno.json tasks and
 * `deno compile`: a 1 MB young generation) plus GC access. Large deployments may raise the
 * young generation (`--v8-flags=--max-semi-space-size=4`): compare with BENCH_V8_FLAGS.
 */
const GATEWAY_V8_FLAGS = Deno.env.get("BENCH_V8_FLAGS") ??
  "--v8-flags=--expose-gc,--max-semi-space-size=1,--memory-saver-mode";

function printRun(title: string, r: GatewayRun): void {
  const tags = r.devices * r.tagsPerDevice;
  // The peak of the window, not its last sample: RSS breathes with the old generation.
  const perTagKb = (r.rssMaxMb * 1024) / tags;
  const aboveBaseKb = ((r.rssMaxMb - r.baseRssMb) * 1024) / tags;
  console.log(`\n3. ${title}`);
  console.log(`   gateway V8 flags: ${GATEWAY_V8_FLAGS} (set BENCH_V8_FLAGS to compare)`);
  console.log(
    `   ${r.devices} devices x ${r.tagsPerDevice} tags, 1 s polls, sink ${r.sink}; flow load ${
      f0(r.loadMs)
    } ms, all connected after ${f0(r.connectMs)} ms; window ${r.windowS.toFixed(1)} s`,
  );
  console.log(
    `   values            ${f0(r.live.goodPerS)} good/s, ${
      f0(r.badPerS)
    } bad/s; sink wrote ${r.sinkProcessed} batches in the window, dropped ${r.sinkDropped}, max queue ${r.sinkDepthMax}, errors ${r.sinkErrors}` +
      (r.historyRowsWritten === null ? "" : `; history rows ${r.historyRowsWritten}`),
  );
  console.log(
    `   gateway CPU       ${f2(r.cpuCore)} core, ${
      f2(r.cpuSysCore)
    } of it in the kernel (target <= 0.3: ${verdict(r.cpuCore <= 0.3)})` +
      (r.peerCpuCore === null ? "" : `;  simulators ${f2(r.peerCpuCore)} core`),
  );
  console.log(
    `   RSS               ${f0(r.rssMb)} MB (max ${f0(r.rssMaxMb)}, heap ${f0(r.heapUsedMb)} MB, ${
      f0(r.baseRssMb)
    } MB before loading flows)`,
  );
  console.log(`   RSS every 5 s     ${r.rssSeriesMb.map(f0).join(" ")} MB`);
  const m = r.memory;
  const pt = (x: MemoryPoint) =>
    `RSS ${f0(x.rss)} (anon ${f0(x.rssAnon)}, file ${f0(x.rssFile)}, shm ${
      f0(x.rssShmem)
    }) / heap ${f0(x.heapUsed)} of ${f0(x.heapTotal)} / ext ${f0(x.external)}`;
  console.log(`   memory after GC   runtime only: ${pt(m.base)} MB`);
  console.log(`                     flows loaded: ${pt(m.loaded)} MB`);
  console.log(`                     connected:    ${pt(m.started)} MB`);
  console.log(`                     window end:   ${pt(m.end)} MB`);
  console.log(
    `   RSS per tag       ${perTagKb.toFixed(2)} KB at the window's peak (target <= 1.5: ${
      verdict(perTagKb <= 1.5)
    }); ${((r.rssMb * 1024) / tags).toFixed(2)} KB at its end, ${
      aboveBaseKb.toFixed(2)
    } KB above the idle runtime`,
  );
  console.log(
    `   poll lateness     p50 ${f2(r.live.p50)}  p99 ${f2(r.live.p99)}  max ${f2(r.live.max)} ms` +
      ` (${r.live.samples} samples; target p99 < 20: ${verdict(r.live.p99 < 20)});` +
      ` worst single-poll p99 ${f2(r.worstPollP99Ms)} ms`,
  );
  console.log(
    `   poll runs         ${r.live.runsPerDevicePerS.toFixed(3)} per device per s (${
      r.live.distinctPerDevicePerS.toFixed(3)
    } distinct deadlines; ${r.live.duplicates} deadlines polled twice), ${r.live.skipped} skipped`,
  );
}

async function tagLevel(): Promise<void> {
  const devices = Number(args.devices);
  const { farm, ports } = await startFarm(devices, 0);
  try {
    const base = {
      dead: 0,
      warmup: Number(args.warmup),
      window: Number(args.window),
      farmPid: farm.pid,
    };
    const run = await gateway(ports, {
      ...base,
      sink: "sqlite",
      ...(args.profile ? { prof: args.profile } : {}),
    });
    printRun(
      `Tag level through the Gateway into the SQLite history (gateway on CPU 0, simulators on CPU ${
        args["farm-cpu"]
      })`,
      run,
    );
    if (args.profile) {
      const files = [...Deno.readDirSync(args.profile)].filter((e) =>
        e.name.endsWith(".cpuprofile")
      );
      const newest = files.map((e) => `${args.profile}/${e.name}`)
        .sort((a, b) => Deno.statSync(b).mtime!.getTime() - Deno.statSync(a).mtime!.getTime())[0];
      // The window only: it ends when stop() starts, stopMs before the profile does.
      const span = { tailMs: run.stopMs + 500, lengthMs: run.windowS * 1000 - 1000 };
      if (newest) printProfile(newest, root, 25, span);
    }
    if (args["v8-compare"] !== undefined) await compareV8(ports, base, run);
    if (args["sink-compare"]) {
      printRun(
        "Same, with a sink that drops every batch (the sink's share)",
        await gateway(ports, {
          ...base,
          sink: "none",
        }),
      );
    }
  } finally {
    await farm.close();
  }
}

/** The tag-level run again under other V8 flags, side by side with the shipped ones. */
async function compareV8(
  ports: number[],
  base: { dead: number; warmup: number; window: number; farmPid: number },
  shipped: GatewayRun,
): Promise<void> {
  const sets = args["v8-compare"]!.split(";").map((x) => x.trim()).filter((x) => x !== "");
  const shippedName = "shipped: " + GATEWAY_V8_FLAGS.replace(/^--v8-flags=--expose-gc,?/, "");
  const runs = new Map<string, GatewayRun[]>([[shippedName, [shipped]]]);
  for (const v8 of sets) runs.set(v8, []);
  // Rounds interleave the variants (A B C A B C…) so that drift in the machine's load
  // spreads over all of them; the table shows medians.
  const rounds = Math.max(1, Number(args["v8-rounds"]));
  for (let r = 0; r < rounds; r++) {
    if (r > 0) runs.get(shippedName)!.push(await gateway(ports, { ...base, sink: "sqlite" }));
    for (const v8 of sets) {
      runs.get(v8)!.push(await gateway(ports, { ...base, sink: "sqlite", v8 }));
    }
  }
  const tags = shipped.devices * shipped.tagsPerDevice;
  console.log(
    `\n3. V8 flags compared (same simulators, ${base.window} s windows, median of ${rounds} interleaved round${
      rounds === 1 ? "" : "s"
    })`,
  );
  console.log(
    `   ${"flags".padEnd(58)} ${"CPU".padStart(5)} ${"sys".padStart(5)} ${"RSS".padStart(5)} ${
      "max".padStart(5)
    } ${"KB/tag".padStart(7)} ${"heap".padStart(5)} ${"p50".padStart(6)} ${"p99".padStart(6)}`,
  );
  for (const [flags, rs] of runs) {
    const m = (f: (r: GatewayRun) => number) => median(rs.map(f));
    console.log(
      `   ${flags.slice(0, 58).padEnd(58)} ${f2(m((r) => r.cpuCore)).padStart(5)} ${
        f2(m((r) => r.cpuSysCore)).padStart(5)
      } ${f0(m((r) => r.rssMb)).padStart(5)} ${f0(m((r) => r.rssMaxMb)).padStart(5)} ${
        ((m((r) => r.rssMaxMb) * 1024) / tags).toFixed(2).padStart(7)
      } ${f0(m((r) => r.heapUsedMb)).padStart(5)} ${f2(m((r) => r.live.p50)).padStart(6)} ${
        f2(m((r) => r.live.p99)).padStart(6)
      }`,
    );
    if (rs.length > 1) {
      console.log(`   ${"".padEnd(58)} CPU per round: ${rs.map((r) => f2(r.cpuCore)).join(" ")}`);
    }
  }
}

async function deadDevices(): Promise<void> {
  const devices = Number(args["dead-devices"]);
  const dead = Math.round(devices * Number(args["dead-share"]));
  const { farm, ports } = await startFarm(devices, dead);
  try {
    const o = { sink: "sqlite", warmup: 5, window: Number(args["dead-window"]), farmPid: farm.pid };
    const without = await gateway(ports.slice(dead), { ...o, dead: 0 });
    const withDead = await gateway(ports, { ...o, dead });
    console.log(
      `\n4. Dead devices: ${
        devices - dead
      } live devices alone vs with ${dead} dead ones (every request` +
        ` dropped, 1 s timeout), 100 tags, 1 s polls, ${o.window} s windows`,
    );
    const row = (label: string, a: string, b: string) =>
      console.log(`   ${label.padEnd(34)} ${a.padStart(12)} ${b.padStart(12)}`);
    row("", "without dead", "with dead");
    row(
      "live runs per device per s",
      without.live.runsPerDevicePerS.toFixed(3),
      withDead.live.runsPerDevicePerS.toFixed(3),
    );
    row(
      "  distinct deadlines per device per s",
      without.live.distinctPerDevicePerS.toFixed(3),
      withDead.live.distinctPerDevicePerS.toFixed(3),
    );
    row("live good values per s", f0(without.live.goodPerS), f0(withDead.live.goodPerS));
    row("live lateness p50 ms", f2(without.live.p50), f2(withDead.live.p50));
    row("live lateness p99 ms", f2(without.live.p99), f2(withDead.live.p99));
    row("live lateness max ms", f2(without.live.max), f2(withDead.live.max));
    row("live skipped deadlines", String(without.live.skipped), String(withDead.live.skipped));
    row("gateway CPU (core)", f2(without.cpuCore), f2(withDead.cpuCore));
    row("bad values per s (dead devices)", f0(without.badPerS), f0(withDead.badPerS));
    if (withDead.deadPolls) {
      row("dead polls: runs per device per s", "", withDead.deadPolls.runsPerDevicePerS.toFixed(3));
    }
    const ok = withDead.live.p99 < 20 &&
      withDead.live.distinctPerDevicePerS >= 0.98 * without.live.distinctPerDevicePerS;
    console.log(`   live devices unaffected (same runs/s, p99 < 20 ms): ${verdict(ok)}`);
  } finally {
    await farm.close();
  }
}

// --- Main -------------------------------------------------------------------------------

console.log(
  `bench modbus (deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; parts ${args.parts})`,
);
if (parts.has(1) || parts.has(2)) {
  const peers = await buildCPeers();
  await using client = new LineChild(Deno.execPath(), denoArgs("_modbus_client.ts", []), {
    cpu: 0,
    stdin: true,
  });
  await sequential(client, "client" in peers ? peers.client : undefined);
}
if (parts.has(3)) await tagLevel();
if (parts.has(4)) await deadDevices();
