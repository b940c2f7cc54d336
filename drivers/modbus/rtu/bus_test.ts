import assert from "node:assert/strict";
import { BifrostError, isBifrostError, ManualClock } from "../../../engine/plugin.ts";
import { type BusLine, BusScheduler } from "./bus.ts";
import { readRequest } from "../core/pdu.ts";

interface Call {
  unitId: number;
  timeoutMs: number | undefined;
  resolve: (pdu: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** A line that answers only when the test says so. */
class FakeLine implements BusLine {
  readonly calls: Call[] = [];
  request(unitId: number, _pdu: Uint8Array, timeoutMs?: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) =>
      this.calls.push({ unitId, timeoutMs, resolve, reject })
    );
  }
  get last(): Call {
    return this.calls[this.calls.length - 1]!;
  }
  answer(): void {
    this.last.resolve(new Uint8Array([3, 2, 0, 0]));
  }
  timeOut(): void {
    this.last.reject(new BifrostError("TIMEOUT", `No answer from unit ${this.last.unitId}`));
  }
}

const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};
const pdu = readRequest(3, 0, 1);

Deno.test("BusScheduler serves slaves round-robin, not first come first served", async () => {
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock: new ManualClock() });
  const done: Promise<Uint8Array>[] = [];
  for (let i = 0; i < 6; i++) done.push(bus.request(1, pdu));
  done.push(bus.request(2, pdu), bus.request(2, pdu), bus.request(3, pdu));
  for (let i = 0; i < done.length; i++) {
    await flush();
    assert.equal(line.calls.length, i + 1, "one request on the line at a time");
    line.answer();
  }
  await Promise.all(done);
  // Slave 1 queued six requests first; 2 and 3 still got the line right after its first.
  assert.deepEqual(line.calls.map((c) => c.unitId), [1, 2, 3, 1, 2, 1, 1, 1, 1]);
  const stats = bus.stats();
  assert.equal(stats.requests, 9);
  assert.deepEqual(stats.slaves.map((s) => [s.unitId, s.requests, s.queued]), [
    [1, 6, 0],
    [2, 2, 0],
    [3, 1, 0],
  ]);
});

Deno.test("BusScheduler opens a slave's breaker after 3 timeouts and fails its requests fast", async () => {
  const clock = new ManualClock();
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock, where: "/dev/ttyUSB0", jitter: 0 });
  bus.configure(3, { breakerTimeouts: 3, probeIntervalMs: 1000 });
  for (let i = 0; i < 3; i++) {
    const p = bus.request(3, pdu, 250);
    await flush();
    assert.equal(line.last.timeoutMs, 250);
    line.timeOut();
    await assert.rejects(p, (e) => isBifrostError(e, "TIMEOUT"));
  }
  assert.equal(bus.breaker(3), "open");
  const calls = line.calls.length;
  await assert.rejects(
    bus.request(3, pdu),
    (e) =>
      isBifrostError(e, "DEVICE_UNREACHABLE") &&
      e.message ===
        "Cannot reach unit 3 on /dev/ttyUSB0: its breaker is open after 3 timeouts in a row (next probe in 1000 ms)",
  );
  // Another slave is not affected.
  const other = bus.request(1, pdu);
  await flush();
  line.answer();
  await other;
  await clock.advance(999);
  await assert.rejects(bus.request(3, pdu), (e) => isBifrostError(e, "DEVICE_UNREACHABLE"));
  assert.equal(line.calls.length, calls + 1, "refused requests never reach the line");
  const s = bus.stats().slaves.find((x) => x.unitId === 3)!;
  assert.deepEqual([s.timeouts, s.rejected, s.opened, s.breaker], [3, 2, 1, "open"]);
});

Deno.test("BusScheduler probes an open breaker once per interval; an answer closes it", async () => {
  const clock = new ManualClock();
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock, jitter: 0.2, random: () => 0 });
  bus.configure(7, { breakerTimeouts: 1, probeIntervalMs: 1000 });
  const first = bus.request(7, pdu);
  await flush();
  line.timeOut();
  await assert.rejects(first);
  assert.equal(bus.breaker(7), "open");
  // Jitter: random() = 0 takes 20 % off the interval.
  await clock.advance(800);
  const probe = bus.request(7, pdu);
  assert.equal(bus.breaker(7), "half-open");
  await assert.rejects(
    bus.request(7, pdu),
    (e) => isBifrostError(e, "DEVICE_UNREACHABLE") && /a probe is under way/.test(e.message),
  );
  await flush();
  line.timeOut();
  await assert.rejects(probe, (e) => isBifrostError(e, "TIMEOUT"));
  assert.equal(bus.breaker(7), "open");
  await assert.rejects(bus.request(7, pdu), (e) => isBifrostError(e, "DEVICE_UNREACHABLE"));
  await clock.advance(800);
  const second = bus.request(7, pdu);
  await flush();
  line.answer();
  await second;
  assert.equal(bus.breaker(7), "closed");
  const again = bus.request(7, pdu);
  await flush();
  line.answer();
  await again;
  const s = bus.stats().slaves[0]!;
  assert.deepEqual([s.requests, s.timeouts, s.opened, s.breaker], [4, 2, 1, "closed"]);
});

Deno.test("BusScheduler fails queued requests of a slave whose breaker opened meanwhile", async () => {
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock: new ManualClock() });
  bus.configure(3, { breakerTimeouts: 1 });
  const results = [bus.request(3, pdu), bus.request(3, pdu), bus.request(3, pdu)]
    .map((p) => p.then(() => "ok", (e: BifrostError) => e.code));
  await flush();
  line.timeOut();
  assert.deepEqual(await Promise.all(results), [
    "TIMEOUT",
    "DEVICE_UNREACHABLE",
    "DEVICE_UNREACHABLE",
  ]);
  assert.equal(line.calls.length, 1);
});

Deno.test("BusScheduler counts only timeouts: an exception or a bad CRC resets the count", async () => {
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock: new ManualClock() });
  const run = async (outcome: "timeout" | "crc" | "ok") => {
    const p = bus.request(2, pdu).catch(() => {});
    await flush();
    if (outcome === "timeout") line.timeOut();
    else if (outcome === "crc") line.last.reject(new BifrostError("PROTOCOL_ERROR", "bad CRC"));
    else line.answer();
    await p;
  };
  for (const o of ["timeout", "timeout", "crc", "timeout", "timeout", "ok"] as const) await run(o);
  assert.equal(bus.breaker(2), "closed");
  bus.configure(2, { breakerTimeouts: 0 });
  for (let i = 0; i < 5; i++) await run("timeout");
  assert.equal(bus.breaker(2), "closed", "breakerTimeouts 0 disables the breaker");
});

Deno.test("BusScheduler drops an aborted request from its queue", async () => {
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock: new ManualClock() });
  const first = bus.request(1, pdu);
  const ac = new AbortController();
  const queued = bus.request(2, pdu, undefined, ac.signal);
  ac.abort(new Error("stopped"));
  await assert.rejects(queued, /stopped/);
  await flush();
  line.answer();
  await first;
  await flush();
  assert.deepEqual(line.calls.map((c) => c.unitId), [1]);
  assert.equal(bus.stats().slaves[1]!.queued, 0);
});

Deno.test("BusScheduler measures the time slaves wait for the line", async () => {
  const clock = new ManualClock();
  const line = new FakeLine();
  const bus = new BusScheduler(line, { clock });
  const a = bus.request(1, pdu);
  const b = bus.request(2, pdu);
  await flush();
  await clock.advance(40);
  line.answer();
  await a;
  await flush();
  line.answer();
  await b;
  const [s1, s2] = bus.stats().slaves;
  assert.deepEqual([s1!.waitMs, s2!.waitMs, bus.stats().busyMs], [0, 40, 40]);
});
