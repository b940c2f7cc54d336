/**
 * @module
 * `deno task bench:bacnet`: the BACnet/IP driver against its simulator, figures printed side
 * by side in one run.
 *
 * 1. Polling: 100 simulated devices × 50 objects (a child process on CPU 1, one UDP port per
 *    device), 100 drivers sharing one gateway port (CPU 0), every device polled at once with
 *    ReadPropertyMultiple (present value + status flags + reliability per object):
 *    objects/s, requests per device poll, p50/p99 of a device poll, gateway CPU and RSS.
 * 2. ReadProperty round trip through the driver's session vs a raw UDP socket loop sending
 *    the same bytes to the same device (ratio, aim ≥ 0.9×).
 * 3. 5,000 COV subscriptions (100 devices × 50 objects, in process): notifications/s and
 *    p50/p99 from the simulator's change to the sink's value.
 */

import dgram from "node:dgram";
import process from "node:process";
import { nullLogger, type ReadSink, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { bacnet } from "../../drivers/bacnet/mod.ts";
import type { BacnetDriver } from "../../drivers/bacnet/client/driver.ts";
import { generatedDevice, startSite } from "../../drivers/bacnet/simulator/config.ts";
import { confirmedRequest, encodeFrame } from "../../drivers/bacnet/core/frame.ts";
import { encodeReadProperty } from "../../drivers/bacnet/core/services.ts";

const DEVICES = Number(Deno.env.get("BACNET_DEVICES") ?? 100);
const OBJECTS = Number(Deno.env.get("BACNET_OBJECTS") ?? 50);
const ROUNDS = Number(Deno.env.get("BACNET_ROUNDS") ?? 30);
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
    let failed = 0;
    const sink: ReadSink = { value() {}, fail() {} };
    // Warm up.
    await Promise.all(
      drivers.map((d, i) =>
        d.readInto(plans[i]!, AbortSignal.timeout(10_000), sink).catch(() => {})
      ),
    );
    const req0 = drivers.reduce((n, d) => n + d.session!.requests, 0);
    const lat: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(drivers.map(async (d, i) => {
        const s = performance.now();
        try {
          await d.readInto(plans[i]!, AbortSignal.timeout(10_000), sink);
          lat.push(performance.now() - s);
        } catch {
          failed++;
        }
      }));
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const reqs = drivers.reduce((n, d) => n + d.session!.requests, 0) - req0;
    const objects = DEVICES * OBJECTS * ROUNDS;
    console.log(
      `polling: ${DEVICES} devices x ${OBJECTS} objects, ${ROUNDS} rounds (all devices at once)`,
    );
    console.log(`  objects/s            ${(objects / (ms / 1000)).toFixed(0)}`);
    console.log(`  round (all devices)  ${(ms / ROUNDS).toFixed(1)} ms`);
    console.log(`  requests/device poll ${(reqs / (DEVICES * ROUNDS)).toFixed(2)}`);
    console.log(
      `  device poll p50/p99  ${pct(lat, 0.5).toFixed(2)} / ${pct(lat, 0.99).toFixed(2)} ms`,
    );
    console.log(
      `  gateway CPU          ${
        (((cpu.user + cpu.system) / 1000) / ms * 100).toFixed(0)
      }% of one core`,
    );
    console.log(`  polls timed out      ${failed} of ${DEVICES * ROUNDS}`);
    console.log(`  gateway RSS          ${(Deno.memoryUsage().rss / 1048576).toFixed(0)} MB`);

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

async function cov(): Promise<void> {
  await using site = await startSite({ generate: { devices: DEVICES, objects: OBJECTS } });
  const tags = tagsOf(OBJECTS).filter((t) => /^analog/.test(t.address));
  const drivers: BacnetDriver[] = [];
  const changedAt = new Map<string, number>();
  const lat: number[] = [];
  let notes = 0;
  const subs = [];
  try {
    for (let i = 0; i < DEVICES; i++) {
      const ep = site.endpoints[i]!;
      const d = bacnet.create({
        name: `d${i}`,
        driver: "bacnet",
        config: {
          device: 1000 + i,
          host: "127.0.0.1",
          port: ep.port,
          localPort: 47898,
          timeout: "5s",
        },
        tags: new Map(),
      }, ctx) as BacnetDriver;
      await d.connect(AbortSignal.timeout(10_000));
      drivers.push(d);
      const plan = d.plan(tags);
      const sink: ReadSink = {
        value(t) {
          const at = changedAt.get(`${i}:${t}`);
          if (at === undefined) return;
          changedAt.delete(`${i}:${t}`);
          notes++;
          lat.push(performance.now() - at);
        },
        fail() {},
      };
      subs.push(
        await d.subscribe(plan, sink, new AbortController().signal, {
          lifetime: "300s",
          checkEvery: "60s",
        }),
      );
    }
    const subscriptions = site.endpoints.reduce((n, e) => n + e.served[0]!.subs.size, 0);
    const ROUNDS_COV = 10;
    const t0 = performance.now();
    for (let r = 1; r <= ROUNDS_COV; r++) {
      for (let i = 0; i < DEVICES; i++) {
        const ep = site.endpoints[i]!;
        tags.forEach((t, k) => {
          const id = Number(t.address.split(":")[1]);
          const type = t.address.startsWith("analog-input") ? 0 : 2;
          changedAt.set(`${i}:${k}`, performance.now());
          ep.setValue(1000 + i, { type, instance: id }, 100 + r * 10 + k / 100);
        });
      }
      const want = notes + 0;
      await new Promise((res) => setTimeout(res, 0));
      const end = performance.now() + 2_000;
      while (changedAt.size > 0 && performance.now() < end) {
        await new Promise((res) => setTimeout(res, 5));
      }
      void want;
    }
    const ms = performance.now() - t0;
    const lost = DEVICES * tags.length * ROUNDS_COV - notes;
    console.log(
      `COV: ${subscriptions} subscriptions (${DEVICES} devices x ${tags.length} analog objects), ${ROUNDS_COV} rounds of every object changing`,
    );
    console.log(
      `  notifications/s      ${
        (notes / (ms / 1000)).toFixed(0)
      }  (${notes} received, ${lost} lost: UDP drops under the burst)`,
    );
    console.log(
      `  change->record p50/p99 ${pct(lat, 0.5).toFixed(2)} / ${pct(lat, 0.99).toFixed(2)} ms`,
    );
  } finally {
    for (const s of subs) await s.close();
    for (const d of drivers) await d.close();
  }
}

await polling();
await cov();
