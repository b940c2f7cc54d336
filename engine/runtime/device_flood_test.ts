/**
 * @module
 * The reconnect flood: a device whose port accepts connections and closes them at once (a
 * proxy or serial device server in front of a restarting device) is backed off like a
 * refused one and logged once per outage, against a bare TCP server that accepts and closes
 * and against the netem proxy in front of a stopped simulator. Short timeouts and backoffs,
 * bounded polling windows; log lines and connection attempts are counted.
 */

import { assert, assertEquals, waitFor } from "../../tests/_assert.ts";
import { modbusTcp } from "../../drivers/modbus/mod.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { startNetemProxy } from "../../simulators/netem/mod.ts";
import { systemClock } from "../clock.ts";
import type { DeviceConfig, TagConfig } from "../driver.ts";
import { createLogger } from "../log.ts";
import { DeviceRuntime, type DeviceRuntimeOptions } from "./device.ts";

const level: TagConfig = {
  name: "level",
  address: "HR0",
  type: "uint16",
  writable: false,
  config: { address: "HR0", type: "uint16" },
};

function device(port: number): DeviceConfig {
  return {
    name: "plc",
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port, unitId: 1, timeout: "100ms", retries: 0 },
    tags: new Map([["level", level]]),
  };
}

interface Line {
  level: string;
  msg: string;
  delay?: number;
}

/** A runtime whose log lines (debug included) are kept; the top of the backoff is 320 ms. */
function runtime(port: number, o: Partial<DeviceRuntimeOptions> = {}) {
  const lines: Line[] = [];
  const log = createLogger({ json: true, level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  // The top of each jitter range: the delays are the caps, 20, 40, 80, 160, 320, 320 ms…
  const rt = new DeviceRuntime(device(port), modbusTcp, {
    log,
    clock: systemClock,
    backoff: { baseMs: 20, maxMs: 320, random: () => 1 },
    ...o,
  });
  const loud = () =>
    lines.filter((l) => l.level !== "debug" && l.msg.startsWith("Device")).map((l) =>
      `${l.level}: ${l.msg}`
    );
  const delays = () =>
    lines.filter((l) => l.msg === "Device still closes connections").map((l) => l.delay);
  return { rt, lines, loud, delays };
}

/** Polls `rt` every 5 ms for `ms` (a 200 Hz poll: the flood it used to cause). */
async function pollFor(rt: DeviceRuntime, ms: number): Promise<void> {
  const plan = rt.plan([level]);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const [r] = await rt.read(plan);
    assert(r && !r.ok, "a read answered by a port that closes every connection");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A TCP server that accepts every connection and closes it at once. */
function acceptAndClose() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  const done = (async () => {
    try {
      for await (const c of listener) {
        accepted++;
        c.close();
      }
    } catch {
      // Closed.
    }
  })();
  return {
    port: listener.addr.port,
    get accepted() {
      return accepted;
    },
    async close() {
      listener.close();
      await done;
    },
  };
}

Deno.test("DeviceRuntime: a port that accepts and closes at once is backed off and logged once, then its recovery once", async () => {
  const server = acceptAndClose();
  const port = server.port;
  // A 5 ms poll: the client reads only while requests are on the wire, so each close is
  // found by the next poll's request, as it was in the soak.
  const { rt, loud, delays } = runtime(port, { pollEveryMs: 5 });
  rt.start();
  try {
    await pollFor(rt, 1200);
    await server.close();
    // 20+40+80+160+320+320+320 ms of backoff: about 7 connections in 1.2 s, not one per poll.
    assert(server.accepted >= 4 && server.accepted <= 10, `connections: ${server.accepted}`);
    assertEquals(rt.health().connectFailures, server.accepted);
    const seen = delays();
    assert(seen.length >= 4, `backoff lines: ${seen.length}`);
    assertEquals(seen.slice(0, 4), [40, 80, 160, 320]);
    assertEquals(loud(), [
      "warn: Device accepts connections but closes them; retrying with backoff",
    ]);
    // The device comes back on the same port: one line for the recovery.
    await using _sim = await startModbusSimulator({
      port,
      units: { 1: { HR0: { type: "uint16", value: 9 } } },
    });
    const plan = rt.plan([level]);
    for (;;) {
      const [r] = await rt.read(plan);
      if (r?.ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assertEquals(loud(), [
      "warn: Device accepts connections but closes them; retrying with backoff",
      "info: Device connected after retrying",
    ]);
    assertEquals(rt.health().answering, true);
  } finally {
    await rt.stop();
  }
});

Deno.test("DeviceRuntime: behind the netem proxy, a stopped simulator is one loss and one recovery, with backoff in between", async () => {
  const units = { 1: { HR0: { type: "uint16" as const, value: 5 } } };
  let sim = await startModbusSimulator({ units });
  const simPort = sim.port;
  await using proxy = await startNetemProxy({ target: { host: "127.0.0.1", port: simPort } });
  // No poll interval: the client keeps a read pending and finds each close at once.
  const { rt, loud, delays } = runtime(proxy.port);
  rt.start();
  try {
    const plan = rt.plan([level]);
    assertEquals((await rt.read(plan))[0]?.ok, true);
    for (let outage = 1; outage <= 2; outage++) {
      await sim.close();
      await waitFor(() => rt.health().state !== "connected", 5000, "the loss");
      const before = proxy.stats.targetFailures;
      await pollFor(rt, 1000);
      // The proxy accepts every reconnection and closes it: a handful in a second, not hundreds.
      const tries = proxy.stats.targetFailures - before;
      assert(tries >= 3 && tries <= 10, `reconnections in 1 s: ${tries}`);
      sim = await startModbusSimulator({ port: simPort, units });
      await waitFor(() => rt.health().state === "connected", 5000, "the recovery");
      for (;;) {
        const [r] = await rt.read(plan);
        if (r?.ok) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      assertEquals(loud().length, 1 + 2 * outage, loud().join("\n"));
    }
    assertEquals(loud(), [
      "info: Device connected",
      "warn: Device connection lost; reconnecting",
      "info: Device connected after retrying",
      "warn: Device connection lost; reconnecting",
      "info: Device connected after retrying",
    ]);
    // Each outage backs off from the start again, growing.
    const seen = delays();
    assertEquals(seen.filter((d) => d === 40).length, 2);
    assert(seen.includes(160), `delays: ${seen.join(", ")}`);
  } finally {
    await rt.stop();
    await sim.close();
  }
});
