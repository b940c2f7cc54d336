/**
 * @module
 * Benchmark of the OPC UA path, each figure beside a bare node-opcua client doing the same
 * work in the same run (medians of rounds; ratio = bare time / ours, or ours / bare for
 * rates: 1.0 is parity, above is better):
 *
 * 1. **Browse 10,000 nodes**: one level of Demo/Many (10,000 variables) with each variable's
 *    DataType, ValueRank and UserAccessLevel (what `bifrost browse` needs): `driver.browse()`
 *    against `session.browse` + `browseNext` + one Read of the three attributes.
 * 2. **Read 1,000 values in one poll**: `driver.readInto()` of 1,000 Double tags against
 *    `session.read()` of the same 1,000 nodes.
 * 3. **Change → record latency** (p50/p99): the simulator sets a value, timed until the
 *    record leaves the `Gateway`'s graph (a `subscribe:` poll, sampling 0 = exception-based,
 *    publishing 10 ms) against the bare client's `changed` event with the same parameters.
 * 4. **50,000 monitored items changing every second** on one session, the simulator in its
 *    own process on CPU 1 and each client alone in a child process on CPU 0: values/s,
 *    client CPU (cores) and RSS per monitored item, through the `Gateway` and bare.
 * 5. **Idle RSS** of a gateway process with no device and with one OPC UA device (node-opcua
 *    loaded only then).
 *
 * ```sh
 * deno task bench:opcua
 * deno run -A scripts/bench/opcua.ts --parts 1,2 --rounds 5
 * ```
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { createLogger, nullLogger, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import { OpcuaDriver } from "../../drivers/opcua/client/driver.ts";
import { startOpcuaSimulator } from "../../drivers/opcua/simulator/server.ts";
import { opcua } from "../../drivers/opcua/mod.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    parts: { type: "string", default: "1,2,3,4,5" },
    rounds: { type: "string", default: "15" },
    items: { type: "string", default: "50000" },
    seconds: { type: "string", default: "10" },
    child: { type: "string" },
    endpoint: { type: "string" },
  },
});
const rounds = Number(args.rounds);
const parts = new Set(args.parts!.split(",").map(Number));
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-bench-" });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const f = (n: number, d = 2) => n.toFixed(d);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tag(name: string, address: string, type = "Double"): TagConfig {
  return { name, address, type, writable: false, config: { address, type }, kind: "float" };
}

function flowOf(endpoint: string, tags: TagConfig[], subscribe?: Record<string, unknown>): FlowSet {
  const origin = { file: "bench.yaml", line: 1, column: 1 };
  return {
    dir: ".",
    files: [origin.file],
    devices: new Map([["plc", {
      name: "plc",
      driver: "opcua",
      config: { endpoint, pki, timeout: "30s" },
      tags: new Map(tags.map((t) => [t.name, t])),
      origin,
    }]]),
    polls: new Map([["live", {
      name: "live",
      device: "plc",
      tags: tags.map((t) => t.name),
      ...(subscribe ? { subscribe } : { everyMs: 1000 }),
      origin,
    } as never]]),
    steps: new Map(),
    sinks: new Map(),
  };
}

async function bareClient(endpoint: string) {
  const lib = await import("node-opcua-client");
  const { OPCUACertificateManager } = await import("node-opcua-certificate-manager");
  const cm = new OPCUACertificateManager({
    rootFolder: pki,
    automaticallyAcceptUnknownCertificate: false,
  });
  const client = lib.OPCUAClient.create({
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
    clientCertificateManager: cm,
  });
  await client.connect(endpoint);
  const session = await client.createSession();
  return {
    lib,
    session,
    async close() {
      await session.close();
      await client.disconnect();
      await cm.dispose();
    },
  };
}

function line(what: string, ours: string, bare: string, ratio: number, note = "") {
  console.log(
    `${what.padEnd(44)} ours ${ours.padStart(12)}   bare ${bare.padStart(12)}   ratio ${
      f(ratio)
    }${note}`,
  );
}

// ---- child processes (part 4, 5) ----------------------------------------------------------

async function childSubscribe(
  kind: "gateway" | "bare",
  endpoint: string,
  n: number,
  seconds: number,
) {
  const tags = Array.from({ length: n }, (_, i) => tag(`v${i}`, `ns=1;s=Demo.Many.${i}`));
  const rss0 = process.memoryUsage().rss;
  let count = 0;
  let stop: () => Promise<void>;
  if (kind === "gateway") {
    const gw = new Gateway(
      flowOf(endpoint, tags, {
        samplingInterval: "0ms",
        publishingInterval: "200ms",
        queueSize: 2,
      }),
      {
        sources: { drivers: [opcua], steps: [], sinks: [] },
        // Problems to stderr: a benchmark that measures nothing says why.
        log: createLogger({ level: "warn", json: true, write: (l) => console.error(l) }),
      },
    );
    gw.tap((_n, batch) => void (count += batch.length));
    await gw.start();
    stop = () => gw.stop();
  } else {
    const c = await bareClient(endpoint);
    const sub = await c.session.createSubscription2({
      requestedPublishingInterval: 200,
      requestedLifetimeCount: 60,
      requestedMaxKeepAliveCount: 10,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
    });
    for (let at = 0; at < n; at += 10_000) {
      const group = await sub.monitorItems(
        tags.slice(at, at + 10_000).map((t) => ({
          nodeId: t.address,
          attributeId: c.lib.AttributeIds.Value,
        })),
        { samplingInterval: 0, queueSize: 2, discardOldest: true },
        c.lib.TimestampsToReturn.Both,
      );
      group.on("changed", () => void count++);
    }
    stop = async () => {
      await sub.terminate();
      await c.close();
    };
  }
  // Wait until every item has reported once, then measure.
  const t0 = performance.now();
  while (count < n && performance.now() - t0 < 120_000) await sleep(100);
  const firstAll = performance.now() - t0;
  await sleep(2_000);
  const c0 = count;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - w0) / 1000;
  const values = count - c0;
  const rss = process.memoryUsage().rss;
  console.log(JSON.stringify({
    valuesPerS: values / wall,
    cores: (cpu.user + cpu.system) / 1e6 / wall,
    rssMb: rss / 1e6,
    rssPerItemKb: (rss - rss0) / n / 1e3,
    firstAllS: firstAll / 1000,
  }));
  await stop();
}

async function childIdle(withDevice: boolean, endpoint: string) {
  const flows: FlowSet = withDevice ? flowOf(endpoint, [tag("sp", "ns=1;s=Demo.Setpoint")]) : {
    dir: ".",
    files: [],
    devices: new Map(),
    polls: new Map(),
    steps: new Map(),
    sinks: new Map(),
  };
  const gw = new Gateway(flows, {
    sources: { drivers: [opcua], steps: [], sinks: [] },
    log: nullLogger,
  });
  await gw.start();
  await sleep(5_000);
  const rss = process.memoryUsage().rss;
  console.log(JSON.stringify({ rssMb: rss / 1e6 }));
  await gw.stop();
}

if (args.child) {
  const [kind, a, b] = args.child.split(":");
  if (kind === "subscribe") {
    await childSubscribe(a as "gateway" | "bare", args.endpoint!, Number(b), Number(args.seconds));
  } else await childIdle(a === "opcua", args.endpoint!);
  await Deno.remove(pki, { recursive: true }).catch(() => {});
  Deno.exit(0);
}

async function child(cpu: number, extra: string[]): Promise<Record<string, number>> {
  const out = await new Deno.Command("taskset", {
    args: [
      "-c",
      String(cpu),
      Deno.execPath(),
      "run",
      "-A",
      "--v8-flags=--max-old-space-size=4096",
      new URL(import.meta.url).pathname,
      ...extra,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) =>
    l.startsWith("{")
  ).at(-1);
  if (!text) throw new Error(`child ${extra.join(" ")} printed no figures (exit ${out.code})`);
  return JSON.parse(text);
}

// ---- parts 1-3: in-process simulator --------------------------------------------------------

console.log(
  `OPC UA benchmark: ${rounds} rounds, medians; ratio >= 1 means ours is as fast as bare node-opcua or faster`,
);
if (parts.has(1) || parts.has(2) || parts.has(3)) {
  const sim = await startOpcuaSimulator({ variables: 10_000, changeEveryMs: 0 });
  const driver = new OpcuaDriver(
    {
      name: "plc",
      driver: "opcua",
      config: { endpoint: sim.endpoint, pki, timeout: "30s" },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(AbortSignal.timeout(60_000));
  const bare = await bareClient(sim.endpoint);
  const A = bare.lib.AttributeIds;
  const signal = AbortSignal.timeout(3_600_000);

  if (parts.has(1)) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let found = 0;
    for (let r = 0; r < Math.max(3, Math.ceil(rounds / 3)); r++) {
      let t = performance.now();
      found = (await driver.browse("ns=1;s=Demo.Many", signal)).length;
      ours.push(performance.now() - t);
      t = performance.now();
      let res = await bare.session.browse({
        nodeId: "ns=1;s=Demo.Many",
        referenceTypeId: "HierarchicalReferences",
        includeSubtypes: true,
        browseDirection: bare.lib.BrowseDirection.Forward,
        resultMask: 63,
      });
      const refs = [...(res.references ?? [])];
      while (res.continuationPoint?.length) {
        res = await bare.session.browseNext(res.continuationPoint, false);
        refs.push(...(res.references ?? []));
      }
      const attrs = refs.flatMap((x) => [
        { nodeId: x.nodeId, attributeId: A.DataType },
        { nodeId: x.nodeId, attributeId: A.ValueRank },
        { nodeId: x.nodeId, attributeId: A.UserAccessLevel },
      ]);
      // The server takes 10,000 nodes per Read: batches, all at once, as the driver does.
      const reads = [];
      for (let at = 0; at < attrs.length; at += 9_999) {
        reads.push(bare.session.read(attrs.slice(at, at + 9_999)));
      }
      await Promise.all(reads);
      theirs.push(performance.now() - t);
    }
    line(
      `1. browse ${found} nodes (+ type, access)`,
      `${f(median(ours), 0)} ms`,
      `${f(median(theirs), 0)} ms`,
      median(theirs) / median(ours),
      "   (target < 1000 ms)",
    );
  }

  if (parts.has(2)) {
    const tags = Array.from({ length: 1000 }, (_, i) => tag(`v${i}`, `ns=1;s=Demo.Many.${i}`));
    const plan = driver.plan(tags);
    const nodes = tags.map((t) => ({ nodeId: t.address, attributeId: A.Value }));
    const sink = {
      value() {},
      fail(_i: number, e: Error) {
        throw e;
      },
    };
    await driver.readInto(plan, signal, sink);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      await driver.readInto(plan, signal, sink);
      ours.push(performance.now() - t);
      t = performance.now();
      await bare.session.read(nodes, 0);
      theirs.push(performance.now() - t);
    }
    line(
      "2. read 1,000 values in one poll",
      `${f(median(ours))} ms`,
      `${f(median(theirs))} ms`,
      median(theirs) / median(ours),
      "   (target < 100 ms)",
    );
  }

  if (parts.has(3)) {
    const n = Math.max(50, rounds * 10);
    const opts = { samplingInterval: "0ms", publishingInterval: "10ms", queueSize: 10 };
    // Ours: through the Gateway's graph.
    const gw = new Gateway(flowOf(sim.endpoint, [tag("sp", "ns=1;s=Demo.Setpoint")], opts), {
      sources: { drivers: [opcua], steps: [], sinks: [] },
      log: nullLogger,
    });
    let resolve: (() => void) | undefined;
    let expect = -1;
    gw.tap((_n, batch) => {
      for (const r of batch) if (r.value === expect) resolve?.();
    });
    await gw.start();
    const measure = async (): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        expect = 1000 + i + Math.random();
        const got = new Promise<void>((r) => resolve = r);
        const t = performance.now();
        sim.setValue("Demo.Setpoint", expect);
        await Promise.race([got, sleep(5_000)]);
        ms.push(performance.now() - t);
        await sleep(15 + Math.random() * 10);
      }
      return ms;
    };
    await sleep(1_000);
    const ours = await measure();
    await gw.stop();
    // Bare: the same subscription parameters, timed to the `changed` event.
    const sub = await bare.session.createSubscription2({
      requestedPublishingInterval: 10,
      requestedLifetimeCount: 60,
      requestedMaxKeepAliveCount: 10,
      publishingEnabled: true,
    });
    const item = await sub.monitor({ nodeId: "ns=1;s=Demo.Setpoint", attributeId: A.Value }, {
      samplingInterval: 0,
      queueSize: 10,
      discardOldest: true,
    }, bare.lib.TimestampsToReturn.Both);
    item.on("changed", (dv) => {
      if (dv.value.value === expect) resolve?.();
    });
    await sleep(1_000);
    const theirs = await measure();
    await sub.terminate();
    for (const p of [0.5, 0.99]) {
      line(
        `3. change -> record p${p * 100} (publish 10 ms)`,
        `${f(pct(ours, p))} ms`,
        `${f(pct(theirs, p))} ms`,
        pct(theirs, p) / pct(ours, p),
        p === 0.5 ? "   (target < 10 ms)" : "",
      );
    }
  }
  await bare.close();
  await driver.close();
  await sim.close();
}

// ---- parts 4-5: child processes -------------------------------------------------------------

if (parts.has(4) || parts.has(5)) {
  const items = Number(args.items);
  const port = 48000 + Math.floor(Math.random() * 1000);
  const simProc = new Deno.Command("taskset", {
    args: [
      "-c",
      "1",
      Deno.execPath(),
      "run",
      "-A",
      "--v8-flags=--max-old-space-size=8192",
      new URL("../../drivers/opcua/tools/sim_cli.ts", import.meta.url).pathname,
      "--port",
      String(port),
      "--variables",
      String(parts.has(4) ? items : 10),
      "--change-every",
      "1s",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = simProc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let banner = "";
  while (!banner.includes("listening")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the simulator did not start");
    banner += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  const endpoint = `opc.tcp://127.0.0.1:${port}`;
  try {
    if (parts.has(4)) {
      const ours = await child(0, [
        "--child",
        `subscribe:gateway:${items}`,
        "--endpoint",
        endpoint,
        "--seconds",
        args.seconds!,
      ]);
      const bare = await child(0, [
        "--child",
        `subscribe:bare:${items}`,
        "--endpoint",
        endpoint,
        "--seconds",
        args.seconds!,
      ]);
      line(
        `4. ${items} items @1 s: values/s`,
        f(ours.valuesPerS!, 0),
        f(bare.valuesPerS!, 0),
        ours.valuesPerS! / bare.valuesPerS!,
        "   (target >= 50,000)",
      );
      line(
        `   client CPU (cores)`,
        f(ours.cores!),
        f(bare.cores!),
        bare.cores! / ours.cores!,
        "   (target < 0.5)",
      );
      line(
        `   RSS per monitored item`,
        `${f(ours.rssPerItemKb!)} kB`,
        `${f(bare.rssPerItemKb!)} kB`,
        bare.rssPerItemKb! / ours.rssPerItemKb!,
        `   (RSS ${f(ours.rssMb!, 0)} / ${f(bare.rssMb!, 0)} MB)`,
      );
    }
    if (parts.has(5)) {
      const none = await child(0, ["--child", "idle:none", "--endpoint", endpoint]);
      const one = await child(0, ["--child", "idle:opcua", "--endpoint", endpoint]);
      console.log(
        `5. idle gateway RSS                            no device ${
          f(none.rssMb!, 0)
        } MB   one OPC UA device ${f(one.rssMb!, 0)} MB   (+${
          f(one.rssMb! - none.rssMb!, 0)
        } MB once node-opcua loads)`,
      );
    }
  } finally {
    simProc.kill("SIGTERM");
    await simProc.status;
  }
}
await Deno.remove(pki, { recursive: true }).catch(() => {});
