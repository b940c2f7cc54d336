/**
 * @module
 * The soak test (issue "Nothing a flow, a function or a device does can take the gateway
 * down"): `deno task soak --minutes N [--report-every 1m] [--faults …] [--cpu LIST]`.
 *
 * It runs `bifrost run` as a child process (the command of deno.json's `bifrost` task)
 * against Modbus simulators behind netem proxies, a real mosquitto and the SQLite history,
 * cycles every selected fault (`scripts/soak/plan.ts`), and prints every `--report-every`
 * RSS, heap, open file descriptors, log lines, and records produced and delivered. At the
 * end it stops the gateway with SIGINT (it drains its durable queue: `closeTimeout: 60s`),
 * accounts for every sequence number the polls produced in MQTT and in the history
 * (`scripts/soak/accounting.ts` says how "lost" is computed), computes the RSS slope after
 * the warm-up by least squares, and prints PASS or FAIL (exit code 1). Every child
 * (simulators, proxies, mosquitto, the gateway) is stopped on every path, Ctrl-C included;
 * the run directory (flows, gateway log, history) is kept on FAIL or with `--keep`.
 */

import { join } from "node:path";
import { mosquittoMissing } from "../sinks/mqtt/_mosquitto.ts";
import { errorMessage } from "../engine/errors.ts";
import { parseSoakArgs, type SoakArgs, soakUsage } from "./soak/args.ts";
import { type FaultCounts, runFaults } from "./soak/faults.ts";
import { writeFlowDir } from "./soak/flow.ts";
import { type GatewayProcess, procSample, startGateway } from "./soak/gateway.ts";
import type { Received } from "./soak/accounting.ts";
import { finish } from "./soak/finish.ts";
import { faultPlan, TAIL_S } from "./soak/plan.ts";
import {
  failures,
  formatElapsed,
  formatLoss,
  formatSnapshot,
  mb,
  MIN_SLOPE_WINDOW_S,
  type Snapshot,
} from "./soak/report.ts";
import {
  sleep,
  type SoakDevice,
  type SoakSubscriber,
  startBroker,
  startControlSim,
  startDevices,
  subscribe,
  writeMode,
} from "./soak/rig.ts";
import { type RssSample, rssSlopeMbPerHour, warmupSeconds } from "./soak/slope.ts";
import type { ModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import type { Mosquitto } from "../sinks/mqtt/_mosquitto.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** RSS and fds are read from /proc this often (ms). */
const SAMPLE_MS = 5_000;

const say = (line: string) => console.log(line);

/** Everything started, for the cleanup. */
interface Rig {
  devices: SoakDevice[];
  ctl?: ModbusSimulator;
  broker?: Mosquitto;
  subscriber?: SoakSubscriber;
  gateway?: GatewayProcess;
}

async function cleanup(rig: Rig): Promise<void> {
  // SIGINT first (a clean stop keeps its queue consistent), SIGKILL after 10 s.
  await rig.gateway?.stop(10_000).catch(() => {});
  await rig.subscriber?.close().catch(() => {});
  for (const d of rig.devices) {
    await d.proxy.close().catch(() => {});
    await d.sim.close().catch(() => {});
  }
  await rig.ctl?.close().catch(() => {});
  await rig.broker?.[Symbol.asyncDispose]().catch(() => {});
}

function gaps(received: Received): { delivered: number; gaps: number; duplicates: number } {
  let delivered = 0, missing = 0, duplicates = 0;
  for (const s of received.values()) {
    delivered += s.size;
    duplicates += s.duplicates;
    if (s.size > 0) missing += s.max - s.min + 1 - s.size;
  }
  return { delivered, gaps: missing, duplicates };
}

async function soak(a: SoakArgs, interrupted: AbortSignal): Promise<boolean> {
  const runS = a.minutes * 60;
  const dir = await Deno.makeTempDir({ prefix: "bifrost-soak-" });
  const flowDir = join(dir, "flows");
  const rig: Rig = { devices: [] };
  const counts: FaultCounts = {};
  let ok = false;
  try {
    rig.devices = await startDevices(a.devices);
    rig.ctl = await startControlSim();
    rig.broker = await startBroker();
    rig.subscriber = await subscribe(rig.broker.url);
    const historyPath = join(dir, "history.db");
    await writeFlowDir(flowDir, {
      devicePorts: rig.devices.map((d) => d.proxy.port),
      ctlPort: rig.ctl.port,
      brokerUrl: rig.broker.url,
      historyPath,
      memoryLimit: a.faults.includes("memory"),
      spinMs: a.spinMs,
    });
    const plan = faultPlan(a.faults, runS, a.seed);
    say(
      `Soak: ${a.minutes} min, ${a.devices} devices and a control device, faults ${
        a.faults.join(",") || "none"
      } (${plan.length} occurrences, seed ${a.seed}), gateway ${
        a.cpu ? `pinned to CPU ${a.cpu}` : "not pinned"
      }; run directory ${dir}`,
    );
    const gw = rig.gateway = await startGateway({
      root: ROOT,
      flowDir,
      dataDir: join(dir, "data"),
      logPath: join(dir, "gateway.log"),
      statsEvery: "5s",
      cpu: a.cpu,
    });
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    const samples: RssSample[] = [];
    let fds: number | undefined;
    let peakRss = 0;
    const sample = () => {
      const p = procSample(gw.pid);
      if (!p || gw.exited) return;
      samples.push({ t: elapsed(), rss: p.rss });
      peakRss = Math.max(peakRss, p.rss);
      fds = p.fds;
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    let lastLines = 0, lastReportAt = 0;
    const report = () => {
      const t = elapsed();
      const g = gaps(rig.subscriber!.received);
      const snapshot: Snapshot = {
        t,
        rss: samples.at(-1)?.rss,
        heapUsed: gw.stats?.heapUsed,
        heapTotal: gw.stats?.heapTotal,
        fds,
        logLines: gw.lines,
        logLinesPerMin: (gw.lines - lastLines) / Math.max(1 / 60, (t - lastReportAt) / 60),
        produced: gw.stats?.records,
        ...g,
        faults: Object.entries(counts).map(([f, n]) => `${f}×${n}`).join(" "),
      };
      lastLines = gw.lines;
      lastReportAt = t;
      say(formatSnapshot(snapshot));
    };
    const reporter = setInterval(report, a.reportEveryMs);

    // The run: faults on their timetable until the end, unless the gateway dies or Ctrl-C.
    const stopFaults = new AbortController();
    const onInterrupt = () => stopFaults.abort(new Error("interrupted"));
    interrupted.addEventListener("abort", onInterrupt, { once: true });
    if (interrupted.aborted) onInterrupt();
    const faults = runFaults(
      plan,
      {
        devices: rig.devices,
        broker: rig.broker,
        ctlPort: rig.ctl.port,
        say: (line) => say(`  +${formatElapsed(elapsed())} ${line}`),
      },
      t0,
      runS - TAIL_S,
      counts,
      stopFaults.signal,
    );
    const died = gw.status.then(() => "died" as const);
    const end = sleep(runS * 1000, stopFaults.signal).then(() => "end" as const, () => "aborted");
    const how = await Promise.race([died, end]);
    stopFaults.abort(new Error(how));
    await faults;
    clearInterval(sampler);
    clearInterval(reporter);
    if (how === "aborted") {
      say("Interrupted: stopping everything.");
      return false;
    }
    sample();
    report();

    // Whatever the faults left (they undo themselves): the function back to normal.
    await writeMode(rig.ctl.port, 0).catch(() => {});
    const { alive, gatewayProblem, mqtt, history } = await finish(
      gw,
      rig.subscriber.received,
      historyPath,
      elapsed(),
      say,
    );
    const warmupS = warmupSeconds(a.minutes);
    const slope = rssSlopeMbPerHour(samples, warmupS);
    const first = samples[0], last = samples.at(-1);
    const slopeWindowS = (last?.t ?? 0) - warmupS;
    const judged = slopeWindowS >= MIN_SLOPE_WINDOW_S
      ? `bound ${a.maxSlopeMbPerHour} MB/h`
      : `not judged: fitted on ${formatElapsed(Math.max(0, slopeWindowS))}, under ${
        formatElapsed(MIN_SLOPE_WINDOW_S)
      }`;
    say("");
    say(`== Soak result after ${formatElapsed(elapsed())} (seed ${a.seed})`);
    say(
      `RSS ${mb(first?.rss)} MB at start, ${mb(last?.rss)} MB at the end, ${
        mb(peakRss)
      } MB peak; ` +
        `slope after a ${formatElapsed(warmupS)} warm-up: ${
          slope === undefined ? "n/a" : `${slope >= 0 ? "+" : ""}${slope.toFixed(2)} MB/h`
        } (${judged}; ${samples.length} samples)`,
    );
    say(
      `heap ${mb(gw.stats?.heapUsed)}/${mb(gw.stats?.heapTotal)} MB at the end; fds ${fds ?? "?"}`,
    );
    say(
      `log: ${gw.lines} lines (${(gw.lines / Math.max(1, elapsed() / 60)).toFixed(1)}/min); ${
        Object.entries(gw.levels).map(([l, n]) => `${l} ${n}`).join(", ")
      }`,
    );
    say(`faults: ${Object.entries(counts).map(([f, n]) => `${f}×${n}`).join(" ") || "none"}`);
    const sub = rig.subscriber;
    say(
      `${
        formatLoss("MQTT", mqtt)
      }  (messages ${sub.messages}, historical ${sub.historical}, unreadable ${sub.malformed})`,
    );
    say(formatLoss("history (sqlite)", history));
    for (const n of gw.notes) say(`note: ${n}`);
    const why = failures({
      minutes: a.minutes,
      alive,
      gatewayProblem,
      mqtt,
      history,
      slopeMbPerHour: slope,
      slopeWindowS,
      maxSlope: a.maxSlopeMbPerHour,
    });
    if (!alive || gatewayProblem) {
      say("Last gateway log lines:");
      for (const l of gw.tail.slice(-15)) say(`  ${l}`);
    }
    ok = why.length === 0;
    say(ok ? "PASS" : `FAIL: ${why.join("; ")}`);
    return ok;
  } finally {
    await cleanup(rig);
    if (ok && !a.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
    else say(`Run directory kept: ${dir} (gateway.log, flows/, history.db)`);
  }
}

if (import.meta.main) {
  let args: SoakArgs;
  try {
    args = parseSoakArgs(Deno.args);
  } catch (e) {
    console.error(errorMessage(e));
    console.error(soakUsage());
    Deno.exit(2);
  }
  if (args.help) {
    console.log(soakUsage());
    Deno.exit(0);
  }
  const missing = mosquittoMissing();
  if (missing) {
    console.error(`Cannot run the soak: ${missing}`);
    Deno.exit(2);
  }
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let ok = false;
  try {
    ok = await soak(args, interrupted.signal);
  } catch (e) {
    console.error(`Soak failed: ${e instanceof Error ? e.stack : String(e)}`);
  }
  Deno.exit(ok ? 0 : interrupted.signal.aborted ? 130 : 1);
}
