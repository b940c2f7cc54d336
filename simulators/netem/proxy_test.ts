/**
 * @module
 * Tests of the netem proxy with real sockets: byte order under jitter and loss, lower
 * bounds of latency, loss stalls and bandwidth (never upper bounds), the blackhole seen by
 * the Modbus TCP client, and forced disconnects.
 */

import assert from "node:assert/strict";
import { ModbusTcpClient } from "../../drivers/modbus/tcp/client.ts";
import { readRequest } from "../../drivers/modbus/core/pdu.ts";
import { isBifrostError } from "../../engine/plugin.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/server.ts";
import { startNetemProxy } from "./proxy.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");

/** A seeded generator, so that jitter and loss decisions repeat from run to run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function pattern(n: number, seed: number): Uint8Array {
  const r = lcg(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function writeInPieces(conn: Deno.Conn, data: Uint8Array, piece: number): Promise<void> {
  for (let at = 0; at < data.length; at += piece) await conn.write(data.subarray(at, at + piece));
}

/** A TCP server whose every connection runs `serve`. */
function listen(serve: (c: Deno.TcpConn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const c of listener) served.push(serve(c).catch(() => {}).finally(() => c.close()));
  })().catch(() => {});
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(served);
    },
  };
}

/** Echoes everything back. */
const echo = async (c: Deno.TcpConn) => {
  const buf = new Uint8Array(4096);
  for (let n = await c.read(buf); n !== null; n = await c.read(buf)) {
    await c.write(buf.subarray(0, n));
  }
};

Deno.test("bytes pass unchanged and in order both ways, under jitter and loss", async () => {
  const UP = pattern(200_000, 1);
  const DOWN = pattern(150_000, 2);
  const received = Promise.withResolvers<Uint8Array>();
  await using target = listen(async (c) => {
    const [got] = await Promise.all([readExactly(c, UP.length), writeInPieces(c, DOWN, 1000)]);
    received.resolve(got);
  });
  await using proxy = await startNetemProxy({
    target: { host: "127.0.0.1", port: target.port },
    latencyMs: 1,
    jitterMs: 3,
    lossRate: 0.05,
    lossStallMs: 5,
    random: lcg(42),
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    const [down] = await Promise.all([
      readExactly(conn, DOWN.length),
      writeInPieces(conn, UP, 777),
    ]);
    assert.ok(down.every((b, i) => b === DOWN[i]), "target → client bytes differ");
    const up = await received.promise;
    assert.ok(up.every((b, i) => b === UP[i]), "client → target bytes differ");
  } finally {
    conn.close();
  }
  await proxy.disconnectAll();
  assert.equal(proxy.stats.bytesUp, UP.length);
  assert.equal(proxy.stats.bytesDown, DOWN.length);
  assert.ok(proxy.stats.stalls > 0);
  assert.equal(proxy.stats.connections, 1);
});

Deno.test("latency, loss stalls and bandwidth delay delivery at least by their amount", async () => {
  await using target = listen(echo);
  await using proxy = await startNetemProxy({
    target: { host: "127.0.0.1", port: target.port },
    latencyMs: 40,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const roundTrip = async (data: Uint8Array) => {
    const t0 = performance.now();
    await conn.write(data);
    assert.equal(hex(await readExactly(conn, data.length)), hex(data));
    return performance.now() - t0;
  };
  // Timers have millisecond granularity: allow 1 ms per delayed hop.
  try {
    assert.ok((await roundTrip(new Uint8Array([1, 2, 3]))) >= 2 * 40 - 2);
    proxy.set({ latencyMs: 0, lossRate: 1, lossStallMs: 60 });
    assert.equal(proxy.conditions.lossRate, 1);
    assert.ok((await roundTrip(new Uint8Array([4]))) >= 2 * 60 - 2);
    assert.equal(proxy.stats.stalls, 2);
    proxy.set({ lossRate: 0, bandwidthBytesPerS: 100_000 });
    // 20 kB each way at 100 kB/s: at least 200 ms one way.
    assert.ok((await roundTrip(pattern(20_000, 3))) >= 200 - 2);
  } finally {
    conn.close();
  }
  assert.throws(() => proxy.set({ lossRate: 2 }), /lossRate to 2/);
  assert.throws(() => proxy.set({ latencyMs: -1 }), RangeError);
});

Deno.test("the blackhole makes a Modbus TCP read time out, and forwarding resumes", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 0x1234 } } } });
  await using proxy = await startNetemProxy({ target: { host: "127.0.0.1", port: sim.port } });
  await using client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: proxy.port,
    timeoutMs: 300,
  });
  assert.equal(hex(await client.request(1, readRequest(3, 0, 1))), "03 02 12 34");
  proxy.blackhole(true);
  await assert.rejects(
    client.request(1, readRequest(3, 0, 1)),
    (e) => isBifrostError(e, "TIMEOUT"),
  );
  // A new connection is accepted (the path is up) but the device never answers.
  await using late = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: proxy.port,
    timeoutMs: 300,
  });
  await assert.rejects(late.request(1, readRequest(3, 0, 1)), (e) => isBifrostError(e, "TIMEOUT"));
  assert.ok(proxy.stats.blackholed >= 2 * 12);
  assert.equal(sim.stats.requests, 1);
  proxy.blackhole(false);
  assert.equal(hex(await client.request(1, readRequest(3, 0, 1))), "03 02 12 34");
});

Deno.test("disconnectAll() closes client connections; new ones still work", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  await using proxy = await startNetemProxy({ target: { host: "127.0.0.1", port: sim.port } });
  await using client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: proxy.port,
    timeoutMs: 1000,
  });
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    assert.equal(hex(await client.request(1, readRequest(3, 0, 1))), "03 02 00 07");
    assert.equal(proxy.stats.active, 2);
    await proxy.disconnectAll();
    assert.equal(proxy.stats.active, 0);
    assert.equal(await raw.read(new Uint8Array(8)).catch(() => null), null);
    await assert.rejects(
      client.request(1, readRequest(3, 0, 1)),
      (e) => isBifrostError(e, "NOT_CONNECTED"),
    );
  } finally {
    raw.close();
  }
  await using again = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: proxy.port,
    timeoutMs: 1000,
  });
  assert.equal(hex(await again.request(1, readRequest(3, 0, 1))), "03 02 00 07");
});

Deno.test("a refused target closes the accepted connection", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  await using proxy = await startNetemProxy({ target: { host: "127.0.0.1", port } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    assert.equal(await conn.read(new Uint8Array(8)).catch(() => null), null);
  } finally {
    conn.close();
  }
  await proxy.disconnectAll();
  assert.equal(proxy.stats.targetFailures, 1);
});
