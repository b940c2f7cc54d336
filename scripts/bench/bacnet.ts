/**
 * @module
 * `deno task bench:bacnet`: the BACnet/IP driver against its simulator, figures printed side
 * by side in one run.
 *
 * 1. Polling: 100 simulated devices × 50 objects (a child process on CPU 1, one UDP port per
 *    device), 100 drivers sharing one gateway port (CPU 0), every device polled at once with
 *    ReadPropertyMultiple (present value + status flags + reliability per object), in modes
 *    interleaved round by round: "unbounded" (every request out at once, no APDU retries: the
 *    driver before) and N in flight per port with 3 retries (`BACNET_INFLIGHT=8,16,32,64`;
 *    default 32, the driver's; `BACNET_ONLY=polling` skips the COV part):
 *    objects/s, requests per device poll, p50/p99 of a device poll, gateway and simulator CPU,
 *    failed polls, retransmissions, RSS.
 * 2. ReadProperty round trip through the driver's session vs a raw UDP socket loop sending
 *    the same bytes to the same device (ratio, aim ≥ 0.9×).
 * 3. 5,000 COV subscriptions (100 devices × 50 analog objects, simulator in a child process on
 *    CPU 1), unconfirmed then confirmed: time to subscribe, then 5,000 changes at rising
 *    rates: notifications/s, lost, p50/p99 from the simulator's change to the sink's value.
 */

import dgram from "node:dgram";
import process from "node:process";
import { nullLogger, type ReadSink, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { bacnet } from "../../drivers/bacnet/mod.ts";
import type { BacnetDriver } from "../../drivers/bacnet/client/driver.ts";
import { generatedDevice } from "../../drivers/bacnet/simulator/config.ts";
import { confirmedRequest, encodeFrame } from "../../drivers/bacnet/core/frame.ts";
import { encodeReadProperty } from "../../drivers/bacnet/core/services.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

const DEVICES = Number(Deno.env.get("BACNET_DEVICES") ?? 100);
const OBJECTS = Number(Deno.env.get("BACNET_OBJECTS") ?? 50);
const ROUNDS = Number(Deno.env.get("BACNET_ROUNDS") ?? 30);
/** Requests in flight per port of the bounded modes, e.g. `8,16,32,64` (the driver's default: 32). */
const IN_FLIGHT = (Deno.env.get("BACNET_INFLIGHT") ?? "32").split(",").map(Number);
/** `polling` to run the polling part only. */
const ONLY = Deno.env.get("BACNET_ONLY") ?? "";
const BASE = 47900;
const ctx = { log: nullLogger, clock: systemClock };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

function tagsOf(objects: number): TagConfig[] {
  return generatedDevice(0, objects).objects!.map((o, i) => ({
    name: `t${i}`,
    address: o.address,
    type: "",
    writable: true,
    config: { address: o.address },
  }));
}

async function polling(): Promise<void> {
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      "1",
      Deno.execPath(),
      "run",
      "-A",
      "app/cli/main.ts",
      "sim",
      "bacnet",
      "--devices",
      String(DEVICES),
      "--objects",
      String(OBJECTS),
      "--port",
      String(BASE),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while ((text.match(/\n/g) ?? []).length < DEVICES) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`The simulator stopped: ${text}`);
    text += new TextDecoder().decode(value);
  }
  void reader.cancel();
  const drivers: BacnetDriver[] = [];
  try {
    for (let i = 0; i < DEVICES; i++) {
      const d = bacnet.create({
        name: `d${i}`,
        driver: "bacnet",
        config: {
          device: 1000 + i,
          host: "127.0.0.1",
          port: BASE + i,
          localPort: 47899,
          timeout: "5s",
        },
        tags: new Map(),
      }, ctx) as BacnetDriver;
      await d.connect(AbortSignal.timeout(10_000));
      drivers.push(d);
    }
    const tags = tagsOf(OBJECTS);
    const plans = drivers.map((d) => d.plan(tags));
    const port = drivers[0]!.session!.port!;
    const sink: ReadSink = { value() {}, fail() {} };
    /** 0: every request out at once and no retries (the driver before); n: n in flight, 3 retries. */
    type Mode = number;
    const MODES: Mode[] = [0, ...IN_FLIGHT];
    const label = (m: Mode) => m === 0 ? "unbounded" : `${m} in flight`;
    const setMode = (m: Mode) => {
      port.maxInFlight = m === 0 ? Infinity : m;
      for (const d of drivers) {
        d.cfg.retries = m === 0 ? 0 : 3;
        d.cfg.apduTimeoutMs = m === 0 ? d.cfg.timeoutMs : 1000;
      }
    };
    const stats = new Map<Mode, {
      lat: number[];
      ms: number;
      cpu: number;
      simCpu: number;
      reqs: number;
      failed: number;
      retrans: number;
      rounds: number;
    }>();
    const childCpu = () => {
      const f = Deno.readTextFileSync(`/proc/${child.pid}/stat`).split(") ")[1]!.split(" ");
      return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, clock ticks of 10 ms
    };
    const round = async (m: Mode) => {
      setMode(m);
      const st = stats.get(m) ??
        { lat: [], ms: 0, cpu: 0, simCpu: 0, reqs: 0, failed: 0, retrans: 0, rounds: 0 };
      stats.set(m, st);
      const req0 = drivers.reduce((n, d) => n + d.session!.requests, 0);
      const re0 = port.retransmits;
      const c0 = process.cpuUsage();
      const s0 = childCpu();
      const t0 = performance.now();
      await Promise.all(drivers.map(async (d, i) => {
        const s = performance.now();
        try {
          await d.readInto(plans[i]!, AbortSignal.timeout(10_000), sink);
          st.lat.push(performance.now() - s);
        } catch {
          st.failed++;
        }
      }));
      st.ms += performance.now() - t0;
      const c = process.cpuUsage(c0);
      st.cpu += (c.user + c.system) / 1000;
      st.simCpu += childCpu() - s0;
      st.reqs += drivers.reduce((n, d) => n + d.session!.requests, 0) - req0;
      st.retrans += port.retransmits - re0;
      st.rounds++;
    };
    // Warm up, then the modes interleaved (in turned order every other round).
    await round(32);
    stats.clear();
    for (let r = 0; r < ROUNDS; r++) {
      for (const m of r % 2 ? [...MODES].reverse() : MODES) await round(m);
    }
    setMode(32);
    console.log(
      `polling: ${DEVICES} devices x ${OBJECTS} objects, ${ROUNDS} rounds per mode (all devices at once, modes interleaved)`,
    );
    const row = (what: string, f: (m: Mode) => string) =>
      console.log(`  ${what.padEnd(24)}${MODES.map((m) => f(m).padStart(14)).join("")}`);
    row("", label);
    row("", (m) => m === 0 ? "no retries" : "3 retries");
    const get = (m: Mode) => stats.get(m)!;
    row("objects/s", (m) => (DEVICES * OBJECTS * get(m).rounds / (get(m).ms / 1000)).toFixed(0));
    row("round (all devices) ms", (m) => (get(m).ms / get(m).rounds).toFixed(1));
    row("requests/device poll", (m) => (get(m).reqs / (DEVICES * get(m).rounds)).toFixed(2));
    row("device poll p50 ms", (m) => pct(get(m).lat, 0.5).toFixed(1));
    row("device poll p99 ms", (m) => pct(get(m).lat, 0.99).toFixed(1));
    row("gateway CPU % of core", (m) => (get(m).cpu / get(m).ms * 100).toFixed(0));
    row("simulator CPU % of core", (m) => (get(m).simCpu / get(m).ms * 100).toFixed(0));
    row("failed polls", (m) => `${get(m).failed} of ${DEVICES * get(m).rounds}`);
    row("retransmissions", (m) => String(get(m).retrans));
    console.log(`  gateway RSS             ${(Deno.memoryUsage().rss / 1048576).toFixed(0)} MB`);

    // ReadProperty through the driver vs a raw UDP loop with the same bytes.
    const N = 3000;
    const s = drivers[0]!.session!;
    const obj = { type: 0, instance: 1 };
    for (let i = 0; i < 200; i++) await s.readProperty(obj, 85);
    const raw = dgram.createSocket("udp4");
    await new Promise<void>((r) => raw.bind(0, "127.0.0.1", () => r()));
    const body = encodeReadProperty({ object: obj, property: 85 });
    let pending: (() => void) | undefined;
    raw.on("message", () => pending?.());
    const rawLoop = async () => {
      const t = performance.now();
      for (let i = 0; i < N; i++) {
        const frame = encodeFrame(confirmedRequest(i & 0xff, 12, body), { expectingReply: true });
        await new Promise<void>((r) => {
          pending = r;
          raw.send(frame, BASE, "127.0.0.1");
        });
      }
      return performance.now() - t;
    };
    const driverLoop = async () => {
      const t = performance.now();
      for (let i = 0; i < N; i++) await s.readProperty(obj, 85);
      return performance.now() - t;
    };
    await rawLoop();
    const rawMs: number[] = [];
    const drvMs: number[] = [];
    for (let k = 0; k < 3; k++) {
      rawMs.push(await rawLoop());
      drvMs.push(await driverLoop());
    }
    raw.close();
    const rm = pct(rawMs, 0.5);
    const dm = pct(drvMs, 0.5);
    console.log(`ReadProperty round trip, ${N} sequential, median of 3 runs`);
    console.log(
      `  raw UDP loop         ${(rm / N * 1000).toFixed(1)} us  (${(N / rm * 1000).toFixed(0)}/s)`,
    );
    console.log(
      `  driver session       ${(dm / N * 1000).toFixed(1)} us  (${(N / dm * 1000).toFixed(0)}/s)`,
    );
    console.log(`  ratio driver/raw     ${(rm / dm).toFixed(2)}x`);
  } finally {
    for (const d of drivers) await d.close();
    child.kill("SIGTERM");
    await child.status;
  }
}

async function cov(confirmed: boolean): Promise<void> {
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      "1",
      Deno.execPath(),
      "run",
      "-A",
      "scripts/bench/bacnet_cov_child.ts",
      String(DEVICES),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return l;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("The COV simulator stopped");
      buf += value;
    }
  };
  const stdin = child.stdin.getWriter();
  const say = (s: string) => stdin.write(new TextEncoder().encode(s + "\n"));
  const ports = (await nextLine()).split(" ")[1]!.split(",").map(Number);
  const tags = tagsOf(62).filter((t) => /^analog/.test(t.address));
  const drivers: BacnetDriver[] = [];
  const subs: { close(): Promise<void> }[] = [];
  // Change j (value base + j) reached the sink at got[j] (epoch ms).
  let got = new Map<number, number>();
  let base = 0;
  const total = DEVICES * 50;
  const epoch = () => performance.timeOrigin + performance.now();
  try {
    for (let i = 0; i < DEVICES; i++) {
      const d = bacnet.create({
        name: `d${i}`,
        driver: "bacnet",
        config: {
          device: 1000 + i,
          host: "127.0.0.1",
          port: ports[i]!,
          localPort: 0,
          timeout: "5s",
        },
        tags: new Map(),
      }, ctx) as BacnetDriver;
      drivers.push(d);
    }
    // One shared gateway port, on a free local port.
    const probe = dgram.createSocket("udp4");
    await new Promise<void>((r) => probe.bind(0, "0.0.0.0", () => r()));
    const local = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    for (const d of drivers) {
      d.cfg.localPort = local;
      await d.connect(AbortSignal.timeout(10_000));
    }
    const t0 = performance.now();
    const port = drivers[0]!.session!.port!;
    const re0 = port.retransmits;
    await Promise.all(drivers.map(async (d) => {
      const sink: ReadSink = {
        value(_t, v) {
          const j = typeof v === "number" ? v - base : -1;
          if (j >= 0 && j < total && !got.has(j)) got.set(j, epoch());
        },
        fail() {},
      };
      subs.push(
        await d.subscribe(d.plan(tags), sink, new AbortController().signal, {
          confirmed,
          lifetime: "600s",
          checkEvery: "60s",
        }),
      );
    }));
    const subMs = performance.now() - t0;
    console.log(
      `COV ${
        confirmed ? "confirmed" : "unconfirmed"
      }: ${total} subscriptions (${DEVICES} devices x ${tags.length} analog objects) in ${
        (subMs / 1000).toFixed(1)
      } s (SubscribeCOV 16 per device, 32 per port in flight; ${
        port.retransmits - re0
      } retransmitted), then ${total} changes at each rate`,
    );
    for (const rate of [1000, 2500, 5000, 10000, 20000]) {
      got = new Map();
      base += 100_000;
      await say(`run ${rate} ${total} ${base}`);
      const start = Number((await nextLine()).split(" ")[1]);
      await nextLine(); // done
      const until = performance.now() + 3000;
      while (got.size < total && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const lat = [...got].map(([j, at]) => at - (start + j * 1000 / rate));
      const last = Math.max(...got.values());
      console.log(
        `  ${String(rate).padStart(6)} changes/s: ${
          (got.size / ((last - start) / 1000)).toFixed(0).padStart(6)
        } notifications/s, ${String(total - got.size).padStart(5)} lost, change->record p50/p99 ${
          pct(lat, 0.5).toFixed(1)
        } / ${pct(lat, 0.99).toFixed(1)} ms`,
      );
    }
  } finally {
    for (const s of subs) await s.close().catch(() => {});
    for (const d of drivers) await d.close();
    await say("quit").catch(() => {});
    await child.status;
  }
}

await polling();
if (ONLY !== "polling") {
  await cov(false);
  await cov(true);
}
