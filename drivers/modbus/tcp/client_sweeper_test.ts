import { startModbusSimulator } from "../simulator/server.ts";
import type { BifrostError } from "../../../engine/plugin.ts";
import { assertEquals, assertThrows } from "../_test_assert.ts";
import { ModbusTcpClient } from "./client.ts";
import {
  GROW_AFTER_MS,
  register,
  SweepEntry,
  sweeperNow,
  sweeperState,
  tickFor,
  unregister,
} from "./client_sweeper.ts";
import { readRequest } from "../core/pdu.ts";

/** Waits (bounded) until `done()` holds; the caller asserts the outcome. */
async function until(done: () => boolean, limitMs = 5000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
}

/** Simulators, half of them silent, and one client per simulator. */
async function farm(n: number, timeoutMs: (i: number) => number) {
  const sims = await Promise.all(Array.from({ length: n }, () => startModbusSimulator()));
  const clients: ModbusTcpClient[] = [];
  for (const [i, sim] of sims.entries()) {
    sim.setRegisters("HR0", [1000 + i]);
    if (i % 2 === 0) sim.faults.dropNext = Infinity;
    clients.push(
      await ModbusTcpClient.connect({ host: "127.0.0.1", port: sim.port, timeoutMs: timeoutMs(i) }),
    );
  }
  return {
    clients,
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c.close();
      for (const s of sims) await s.close();
    },
  };
}

Deno.test("tickFor() is a twentieth of the timeout in whole ms, 5..50", () => {
  assertEquals([10, 150, 333, 1000, 5000].map(tickFor), [5, 7, 16, 50, 50]);
  assertThrows(() => new SweepEntry(4, () => false), RangeError, "expected a whole number 5..50");
  assertThrows(() => new SweepEntry(7.5, () => false), RangeError, "7.5");
});

Deno.test("silent devices time out, not before their timeout, across many clients on one sweeper", async () => {
  const timeoutOf = (i: number) => (i % 4 < 2 ? 120 : 400);
  await until(() => !sweeperState().running);
  await using f = await farm(16, timeoutOf);
  const before = sweeperState().registered;
  const sent = performance.now();
  const outcomes = f.clients.map((c) =>
    c.request(1, readRequest(3, 0, 1)).then(
      (pdu) => (pdu[2]! << 8) | pdu[3]!,
      (e: BifrostError) => ({ code: e.code, after: performance.now() - sent }),
    )
  );
  // All 16 on the one sweeper, at the period of the shortest timeout (120 ms: tick 6 ms).
  assertEquals(sweeperState().running, true);
  assertEquals(sweeperState().periodMs, 6);
  assertEquals(sweeperState().registered >= before + 8, true);
  const got = await Promise.all(outcomes);
  for (const [i, r] of got.entries()) {
    if (i % 2 === 1) assertEquals(r, 1000 + i);
    else {
      const { code, after } = r as { code: string; after: number };
      assertEquals(code, "TIMEOUT");
      assertEquals(after >= timeoutOf(i), true, `device ${i} timed out after ${after} ms`);
    }
  }
  assertEquals(f.clients.map((c) => c.stats.timeouts), got.map((_, i) => (i % 2 === 0 ? 1 : 0)));
});

Deno.test("a client closing with requests on the wire leaves the sweeper", async () => {
  await using f = await farm(2, () => 10_000);
  const before = sweeperState().registered;
  const silent = f.clients[0]!;
  const pending = silent.request(1, readRequest(3, 0, 1)).catch((e: BifrostError) => e.code);
  assertEquals(sweeperState().registered, before + 1);
  await silent.close();
  assertEquals(sweeperState().registered, before);
  assertEquals(await pending, "NOT_CONNECTED");
});

Deno.test("the sweeper stops once nothing is active and starts again with the next request", async () => {
  await using f = await farm(2, () => 300);
  const answering = f.clients[1]!;
  assertEquals((await answering.request(1, readRequest(3, 0, 1)))[3], 1001 & 0xff);
  await until(() => !sweeperState().running);
  assertEquals(sweeperState(), { running: false, registered: 0, periodMs: 0 });
  const clock = sweeperNow();
  const silent = f.clients[0]!;
  const code = await silent.request(1, readRequest(3, 0, 1)).catch((e: BifrostError) => e.code);
  assertEquals(code, "TIMEOUT");
  assertEquals(sweeperNow() - clock >= 300, true, "the shared clock moves on across restarts");
  await until(() => !sweeperState().running);
  assertEquals(sweeperState().running, false);
});

Deno.test("an entry is registered once, swept until it reports idle, and the period follows the ticks", async () => {
  await until(() => !sweeperState().running);
  let longActive = true;
  let shortSweeps = 0;
  const long = new SweepEntry(40, () => longActive);
  const short = new SweepEntry(5, () => ++shortSweeps < 2);
  register(long);
  assertEquals(sweeperState(), { running: true, registered: 1, periodMs: 40 });
  register(short);
  register(short);
  assertEquals(sweeperState(), { running: true, registered: 2, periodMs: 5 });
  await until(() => !short.registered);
  assertEquals([short.registered, shortSweeps, long.registered], [false, 2, true]);
  // Back to the longer period once it sufficed for GROW_AFTER_MS of the shared clock.
  await until(() => sweeperState().periodMs === 40, GROW_AFTER_MS + 3000);
  assertEquals(sweeperState(), { running: true, registered: 1, periodMs: 40 });
  longActive = false;
  await until(() => !sweeperState().running);
  assertEquals([long.registered, sweeperState().running], [false, false]);
  unregister(long);
  assertEquals(sweeperState().registered, 0);
});
