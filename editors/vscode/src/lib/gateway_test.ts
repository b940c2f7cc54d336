/**
 * @module
 * The extension's gateway client and live feed against a real gateway process with its
 * virtual PLC (`bifrost run --simulate`), with an API token.
 */

import assert from "node:assert/strict";
import { GatewayClient, GatewayError, liveUrl, normalizeUrl } from "./gateway.ts";
import { LiveFeed, type LiveValue, reconnectDelay, type SocketLike } from "./live.ts";
import { freePort, startGatewayProcess } from "../../test/_gateway.ts";

const denoSocket = (url: string, headers: Record<string, string>): SocketLike =>
  // Deno's WebSocket takes request headers, as the `ws` package does in VS Code.
  new WebSocket(url, { headers } as unknown as string[]) as unknown as SocketLike;

Deno.test("normalizeUrl() accepts a base or API URL and refuses other schemes", () => {
  assert.equal(normalizeUrl("http://127.0.0.1:8720/"), "http://127.0.0.1:8720");
  assert.equal(normalizeUrl("https://gw.plant:8720/api/v1/"), "https://gw.plant:8720");
  assert.equal(liveUrl("https://gw.plant:8720"), "wss://gw.plant:8720/ws");
  assert.throws(() => normalizeUrl("ftp://x"), /the scheme must be http or https/);
  assert.throws(() => normalizeUrl("not a url"), /Invalid gateway URL "not a url"/);
});

Deno.test("reconnectDelay() doubles from 0.5 s to at most 10 s", () => {
  assert.deepEqual([0, 1, 2, 5, 9].map(reconnectDelay), [500, 1000, 2000, 10_000, 10_000]);
});

Deno.test("GatewayClient reads devices, tags, writes and history of a running gateway", async () => {
  await using gw = await startGatewayProcess({ token: "s3cret-token" });
  const anonymous = new GatewayClient({ url: gw.url });
  await assert.rejects(anonymous.devices(), (e: GatewayError) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, "UNAUTHORIZED");
    assert.match(e.message, /Missing API token/);
    return true;
  });
  const c = new GatewayClient({ url: `${gw.url}/api/v1`, token: "s3cret-token" });
  const [plc] = await c.devices();
  assert.equal(plc?.name, "plc");
  assert.equal(plc?.driver, "modbus-tcp");
  const tags = await c.tags("plc");
  assert.deepEqual(tags.map((t) => [t.name, t.writable, t.unit]), [
    ["level", false, "%"],
    ["setpoint", true, "degC"],
    ["pump", false, undefined],
  ]);
  const read = await c.read("plc", "setpoint");
  assert.equal(read.ok, true);
  assert.equal(read.value, 70);
  const w = await c.write("plc", "setpoint", 42.5);
  assert.equal(w.ok, true);
  assert.equal((await c.read("plc", "setpoint")).value, 42.5);
  await assert.rejects(c.write("plc", "level", 1), (e: GatewayError) => {
    assert.equal(e.status, 403);
    assert.equal(e.code, "WRITE_REJECTED");
    return true;
  });
  await assert.rejects(c.read("plc", "nope"), /Unknown tag "nope" on device "plc"/);
  const flows = await c.flows();
  assert.equal(flows.valid, true);
  assert.equal(flows.polls, 2);
  const stats = await c.stats();
  assert.ok(stats.polls.fast);
  assert.equal(stats.sinks.history?.use, "sqlite");
  // History fills as the polls run.
  let h = await c.history("plc", "level", { points: 50 });
  for (let i = 0; i < 50 && h.points.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 200));
    h = await c.history("plc", "level", { points: 50 });
  }
  assert.ok(h.points.length >= 3, `history points: ${h.points.length}`);
  assert.equal(h.sink, "history");
  assert.match(await c.metrics(), /bifrost_device_reads_total\{device="plc"\} \d+/);
  const down = new GatewayClient({ url: "http://127.0.0.1:1", timeoutMs: 2000 });
  await assert.rejects(down.devices(), (e: GatewayError) => e.code === "UNREACHABLE");
});

Deno.test("LiveFeed gets a changing value over the WebSocket with a token", async () => {
  await using gw = await startGatewayProcess({ token: "live-token", scopes: ["read"] });
  const client = new GatewayClient({ url: gw.url, token: "live-token" });
  const seen: LiveValue[] = [];
  const states: string[] = [];
  const enough = Promise.withResolvers<void>();
  const feed = new LiveFeed({
    url: liveUrl(gw.url),
    headers: client.headers(),
    patterns: ["plc/*"],
    open: denoSocket,
    onValues: (v) => {
      seen.push(...v);
      const levels = new Set(seen.filter((x) => x.tag === "plc/level").map((x) => x.value));
      if (levels.size >= 3) enough.resolve();
    },
    onState: (s) => states.push(s),
  });
  const timer = setTimeout(() => enough.reject(new Error("no changing value in 15 s")), 15_000);
  try {
    await enough.promise;
  } finally {
    clearTimeout(timer);
    feed.close();
  }
  assert.deepEqual(states.slice(0, 2), ["connecting", "open"]);
  const level = seen.find((x) => x.tag === "plc/level")!;
  assert.equal(level.quality, "good");
  assert.equal(typeof level.value, "number");
});

Deno.test("LiveFeed reconnects when the gateway restarts and gets values again", async () => {
  const port = freePort();
  const states: string[] = [];
  let values = 0;
  let waiter: { n: number; done: () => void } | undefined;
  const after = (n: number) =>
    new Promise<void>((done) => {
      waiter = { n, done };
    });
  const feed = new LiveFeed({
    url: `ws://127.0.0.1:${port}/ws`,
    headers: {},
    patterns: ["plc/level"],
    open: denoSocket,
    onValues: (v) => {
      values += v.length;
      if (waiter && values >= waiter.n) waiter.done();
    },
    onState: (s) => states.push(s),
  });
  try {
    {
      await using _gw = await startGatewayProcess({ port });
      await after(3);
    }
    // The gateway is gone: the feed says so and retries.
    const before = values;
    const closedAt = states.lastIndexOf("closed");
    assert.ok(closedAt > states.indexOf("open"), states.join(","));
    await using _again = await startGatewayProcess({ port });
    await after(before + 3);
    assert.ok(states.lastIndexOf("open") > closedAt, states.join(","));
  } finally {
    feed.close();
  }
});
