/**
 * @module
 * Several slaves on one real serial line: a `socat` pty pair, our RTU simulator on one end
 * serving units 1 and 2, and three `modbus-rtu` devices (units 1, 2 and 3) on the other
 * end, driven by the engine's {@linkcode DeviceRuntime}. Unit 3 does not exist. With the
 * per-slave breaker, polls of units 1 and 2 keep their pace: the test counts the reads
 * they complete in a window with unit 3 dead and with unit 3 not configured, and asserts
 * a generous ratio (behaviour, not a benchmark). The ratio without the breaker is printed
 * for comparison.
 */

import assert from "node:assert/strict";
import { systemClock } from "../../engine/clock.ts";
import type { DeviceConfig, TagConfig } from "../../engine/driver.ts";
import { nullLogger } from "../../engine/log.ts";
import { DeviceRuntime } from "../../engine/runtime/device.ts";
import { busStats, openLines } from "../../drivers/modbus/rtu/bus_registry.ts";
import { modbusRtu } from "../../drivers/modbus/rtu/module.ts";
import { canRun, startPtyPair } from "../../drivers/modbus/rtu/pty.ts";
import { startRtuSimulator } from "../../drivers/modbus/simulator/rtu_server.ts";

// The client loads on first use (`load()`), as in a gateway.
await modbusRtu.load?.();

const HAVE_SOCAT = await canRun("socat", ["-V"]);
const WINDOW_MS = 1200;
const POLL_GAP_MS = 10;

const TAG: TagConfig = {
  name: "v",
  address: "HR0",
  type: "uint16",
  writable: false,
  config: { address: "HR0", type: "uint16" },
};

function slave(path: string, unitId: number, extra: Record<string, unknown>): DeviceConfig {
  return {
    name: `slave-${unitId}`,
    driver: "modbus-rtu",
    config: { port: path, baudRate: 38400, parity: "none", unitId, timeout: "100ms", ...extra },
    tags: new Map([["v", TAG]]),
  };
}

/** Polls every unit back to back for the window; returns the good reads per unit. */
async function pollWindow(
  path: string,
  units: number[],
  extra: Record<string, unknown> = {},
): Promise<Map<number, number>> {
  const runtimes = units.map((u) =>
    new DeviceRuntime(slave(path, u, extra), modbusRtu, { log: nullLogger, clock: systemClock })
  );
  const good = new Map(units.map((u) => [u, 0]));
  try {
    for (const rt of runtimes) rt.start();
    await Promise.all(runtimes.map((rt) => rt.whenConnected()));
    assert.equal(Object.values(openLines()).at(-1), units.length, "all slaves share one line");
    const end = performance.now() + WINDOW_MS;
    await Promise.all(runtimes.map(async (rt, i) => {
      const plan = rt.plan([TAG]);
      while (performance.now() < end) {
        const [r] = await rt.read(plan);
        if (r!.ok) good.set(units[i]!, good.get(units[i]!)! + 1);
        await new Promise((res) => setTimeout(res, POLL_GAP_MS));
      }
    }));
    if (units.includes(3)) {
      const s = busStats().at(-1)!.slaves.find((x) => x.unitId === 3)!;
      console.log(`unit 3 (${JSON.stringify(extra)}):`, JSON.stringify(s));
    }
  } finally {
    await Promise.all(runtimes.map((rt) => rt.stop()));
  }
  return good;
}

Deno.test({
  name: "a dead slave does not slow the others on a shared serial line (breaker)" +
    (HAVE_SOCAT ? "" : " (skipped: socat is not installed)"),
  ignore: !HAVE_SOCAT,
  async fn() {
    await using pty = await startPtyPair();
    await using sim = await startRtuSimulator({
      serialPath: pty.b,
      baudRate: 38400,
      parity: "none",
      units: { 1: { HR0: { value: 11 } }, 2: { HR0: { value: 22 } } },
    });
    const alone = await pollWindow(pty.a, [1, 2]);
    const withDead = await pollWindow(pty.a, [1, 2, 3]);
    const noBreaker = await pollWindow(pty.a, [1, 2, 3], { breakerTimeouts: 0 });
    const sum = (m: Map<number, number>) => m.get(1)! + m.get(2)!;
    const ratio = sum(withDead) / sum(alone);
    console.log(
      `good reads of units 1+2 in ${WINDOW_MS} ms: alone ${sum(alone)}, unit 3 dead ${
        sum(withDead)
      } (${(100 * ratio).toFixed(0)} %), dead without breaker ${sum(noBreaker)} (${
        (100 * sum(noBreaker) / sum(alone)).toFixed(0)
      } %)`,
    );
    assert.equal(withDead.get(3), 0);
    assert.ok(sum(alone) > 20, `too few reads to compare: ${sum(alone)}`);
    assert.ok(ratio >= 0.6, `units 1 and 2 lost their pace: ${(100 * ratio).toFixed(0)} %`);
    // Fairness: neither live slave is starved by the other.
    assert.ok(withDead.get(1)! >= 0.3 * sum(withDead) && withDead.get(2)! >= 0.3 * sum(withDead));
    assert.ok(sim.stats.requests > 0);
    assert.deepEqual(openLines(), {}, "the line closes with its last slave");
  },
});
