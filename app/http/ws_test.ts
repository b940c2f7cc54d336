/**
 * @module
 * Tests of the live-data WebSocket against a real gateway: polled from the Modbus simulator
 * over TCP, or fed by the in-process push server (changes on demand), served with
 * `Deno.serve` on port 0 and read by real WebSocket clients, one of which never reads.
 */

import assert from "node:assert/strict";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { PushServer, pushServers } from "../../engine/runtime/_push_driver_test_util.ts";
import { wsApp, wsMetrics, type WsOptions, wsPart } from "./ws.ts";
import { Exposition } from "./_exposition.ts";
import { parseExposition, sampleValue } from "./_prom_test_util.ts";
import { serve, startGateway, type TestGateway } from "./_test_util.ts";
import { type Msg, RawWsClient, WsClient } from "./_ws_test_util.ts";

/** A gateway on a push server with `tags` string/float tags, and the WebSocket app served. */
async function pushed(name: string, tags: string[], type = "float", o: WsOptions = {}) {
  const server = new PushServer();
  pushServers.set(name, server);
  const g = await startGateway(`
devices:
  plc:
    driver: test-push
    server: ${name}
    tags:
${tags.map((t) => `      ${t}: { address: ${t}, type: ${type} }`).join("\n")}
polls:
  live: { device: plc, tags: "*", subscribe: {} }
sinks:
  out: { use: sqlite, from: live, path: HISTORY }
`.replace("HISTORY", `${await Deno.makeTempDir()}/h.db`));
  await g.gateway.devices.get("plc")!.whenConnected();
  const stop = new AbortController();
  const part = wsPart(g.gateway, { signal: stop.signal, ...o });
  const srv = serve(part.app.fetch);
  return {
    hub: part.hub,
    server,
    g,
    srv,
    url: `ws://127.0.0.1:${srv.port}/ws`,
    async [Symbol.asyncDispose]() {
      stop.abort();
      await srv[Symbol.asyncDispose]();
      await g[Symbol.asyncDispose]();
      pushServers.delete(name);
    },
  };
}

Deno.test("a subscriber gets a snapshot of the polled values, then their changes", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 11 }, HR1: { type: "int16", value: 22 } } },
  });
  await using g: TestGateway = await startGateway(`
devices:
  press-1:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      temp_in: { address: HR0, type: int16 }
      level: { address: HR1, type: int16, writable: true }
polls:
  fast: { device: press-1, tags: "*", every: 20ms }
sinks:
  out: { use: sqlite, from: fast, path: ${await Deno.makeTempDir()}/h.db }
`);
  const stop = new AbortController();
  await using srv = serve(wsApp(g.gateway, { signal: stop.signal }).fetch);
  try {
    await using c = await WsClient.connect(`ws://127.0.0.1:${srv.port}/ws`);
    c.send({ type: "subscribe", id: 7, patterns: ["press-?/*"] });
    // The first subscriber of a tag gets its value with the next poll.
    const snap = await c.next();
    assert.deepEqual({ ...snap, values: undefined }, {
      type: "snapshot",
      id: 7,
      tags: 2,
      values: undefined,
    });
    const first = await c.next();
    assert.equal(first.type, "update");
    assert.deepEqual(
      first.values.map((v: Msg) => [v.tag, v.value, v.quality]).sort(),
      [["press-1/level", 22, "good"], ["press-1/temp_in", 11, "good"]],
    );
    assert.ok(Math.abs(first.values[0].ts - Date.now()) < 5000);
    await g.gateway.write("press-1", "level", 99);
    for (;;) {
      const m = await c.next();
      const level = m.values.find((v: Msg) => v.tag === "press-1/level");
      if (level?.value === 99) break;
    }
    // A second client's snapshot holds the current values at once.
    await using d = await WsClient.connect(`ws://127.0.0.1:${srv.port}/ws`);
    d.send({ type: "subscribe", patterns: ["*/temp*"] });
    const s2 = await d.next();
    assert.equal(s2.tags, 1);
    assert.deepEqual(s2.values.map((v: Msg) => [v.tag, v.value]), [["press-1/temp_in", 11]]);
  } finally {
    stop.abort();
  }
});

Deno.test("only matching tags are sent, at most one value per tag per update", async () => {
  await using t = await pushed("ws-match", ["temp1", "temp2", "level"]);
  await using c = await WsClient.connect(t.url);
  c.send({ type: "subscribe", id: "a", patterns: ["plc/temp*"] });
  assert.equal((await c.next()).tags, 2);
  // Values set in one turn reach the gateway in one batch: one update, latest wins.
  t.server.set("temp1", 1);
  t.server.set("level", 5);
  t.server.set("temp2", 2);
  const u = await c.next();
  assert.equal(u.type, "update");
  assert.deepEqual(u.values.map((v: Msg) => [v.tag, v.value]).sort(), [
    ["plc/temp1", 1],
    ["plc/temp2", 2],
  ]);
  c.send({ type: "unsubscribe", id: "b", patterns: ["plc/temp*"] });
  assert.deepEqual(await c.next(), { type: "unsubscribed", id: "b", tags: 2 });
  c.send({ type: "subscribe", id: "c", patterns: ["plc/level"] });
  // No client watched "level" before: its value comes with its next change.
  assert.deepEqual(await c.next(), { type: "snapshot", id: "c", tags: 1, values: [] });
  t.server.set("temp1", 3);
  t.server.set("level", 6);
  assert.deepEqual((await c.next()).values.map((v: Msg) => [v.tag, v.value]), [["plc/level", 6]]);
});

Deno.test("a request that is not understood gets an error naming the problem; the socket stays open", async () => {
  await using t = await pushed("ws-errors", ["a"]);
  await using c = await WsClient.connect(t.url);
  c.send({ type: "watch", id: 1 });
  assert.deepEqual(await c.next(), {
    type: "error",
    id: 1,
    message: 'Unknown message type "watch": expected "subscribe" or "unsubscribe"',
  });
  c.send({ type: "subscribe", id: 2, patterns: ["plant1/*/temp"] });
  assert.match((await c.next()).message, /Pattern "plant1\/\*\/temp" must be "device\/tag"/);
  c.send({ type: "subscribe", id: 3, patterns: "plc/*" });
  assert.match((await c.next()).message, /"patterns" must be a non-empty list of strings/);
  c.ws.send("{nope");
  assert.match((await c.next()).message, /^Message is not JSON/);
  c.send({ type: "subscribe", id: 4, patterns: ["plc/*"] });
  assert.equal((await c.next()).tags, 1);
});

Deno.test("a client that never reads is coalesced and told what it missed; others are not delayed", async () => {
  const tags = Array.from({ length: 50 }, (_, i) => `s${i}`);
  await using t = await pushed("ws-slow", tags, "string", { lowWaterBytes: 8192, checkEveryMs: 5 });
  await using fast = await WsClient.connect(t.url);
  fast.send({ type: "subscribe", patterns: ["plc/*"] });
  await fast.next();
  await using slow = await RawWsClient.connect(t.srv.port);
  await slow.send({ type: "subscribe", patterns: ["plc/*"] });
  assert.equal((await slow.next()).tags, 50);
  // 200 rounds of 50 values of 2 KB: 20 MB, far more than the socket buffers hold.
  const pad = "x".repeat(2000);
  const rounds = 200;
  for (let r = 0; r < rounds; r++) {
    for (const tag of tags) t.server.set(tag, `${r}:${pad}`);
    // The fast client sees every round, in order.
    const u = await fast.next();
    assert.equal(u.type, "update");
    assert.equal(u.values.length, 50);
    assert.ok(u.values.every((v: Msg) => v.value.startsWith(`${r}:`)), `round ${r}`);
  }
  // The slow client now reads everything it was sent: every value is delivered or counted.
  let delivered = 0;
  let dropped = 0;
  const latest = new Map<string, string>();
  for (;;) {
    const m = await Promise.race([
      slow.next(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 500)),
    ]);
    if (!m) break;
    if (m.type === "dropped") dropped += m.count;
    else {
      delivered += m.values.length;
      for (const v of m.values) latest.set(v.tag, v.value.split(":")[0]);
    }
    if (latest.size === 50 && [...latest.values()].every((v) => v === `${rounds - 1}`)) break;
  }
  assert.equal(delivered + dropped, rounds * 50, `${delivered} delivered + ${dropped} dropped`);
  assert.ok(
    dropped > rounds * 50 / 2,
    `only ${dropped} dropped: the slow client was not throttled`,
  );
  assert.ok(slow.bytesRead < 10e6, `the slow client was sent ${slow.bytesRead} bytes`);
  assert.deepEqual([...new Set(latest.values())], [`${rounds - 1}`]);
  // /metrics counts what the slow client was told it missed.
  const x = new Exposition();
  wsMetrics(x, t.hub);
  const m = parseExposition(x.text());
  assert.equal(sampleValue(m, "bifrost_ws_dropped_updates_total"), dropped);
  assert.equal(sampleValue(m, "bifrost_ws_clients"), 2);
  assert.ok(sampleValue(m, "bifrost_ws_updates_sent_total") >= rounds);
});

Deno.test("a client that keeps asking and never reads its answers is closed", async () => {
  const tags = Array.from({ length: 50 }, (_, i) => `s${i}`);
  await using t = await pushed("ws-asker", tags, "string", { lowWaterBytes: 4096 });
  const pad = "y".repeat(2000);
  // Watched once so that the snapshots below carry the values (100 KB each).
  await using c = await WsClient.connect(t.url);
  c.send({ type: "subscribe", patterns: ["plc/*"] });
  await c.next();
  for (const tag of tags) t.server.set(tag, pad);
  await c.next();
  await using asker = await RawWsClient.connect(t.srv.port);
  let closed = false;
  for (let i = 0; i < 2000 && !closed; i++) {
    try {
      await asker.send({ type: "unsubscribe" });
      await asker.send({ type: "subscribe", patterns: ["plc/*"] });
    } catch {
      closed = true; // the gateway closed the connection
    }
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
  }
  // Reading now finds the connection closed after what was buffered (with the close frame,
  // code 1008, when it fitted in the buffer).
  assert.ok(closed || [1008, "closed"].includes(await asker.readUntilClose()));
  // The others go on.
  t.server.set("s1", "after");
  assert.equal((await c.next()).values[0].value, "after");
  assert.equal(t.hub.counters.slowClosed, 1);
});
