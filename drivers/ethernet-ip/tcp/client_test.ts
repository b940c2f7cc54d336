/**
 * The CIP client's request path: timeouts counted from the sweeper's clock (never early),
 * `onFail` settling a failed request instead of a rejection, and a read loop that runs only
 * while a request is on the wire (a close between requests is found by the next one).
 */

import { assert, assertEquals, assertRejects } from "../../../tests/_assert.ts";
import { BifrostError } from "../../../engine/plugin.ts";
import { readTag } from "../core/cip.ts";
import { encodePath, parseAddress } from "../core/address.ts";
import { startEipSimulator } from "../simulator/server.ts";
import { CipClient } from "./client.ts";

const MAP = { tags: { TestDINT: { type: "DINT" as const, value: 42 } } };
const READ = readTag(encodePath(parseAddress("TestDINT")), 1);

async function setup(timeoutMs: number) {
  const sim = await startEipSimulator({ map: MAP, udp: false });
  const lost: string[] = [];
  const client = new CipClient({
    host: sim.host,
    port: sim.port,
    path: "",
    timeoutMs,
    connected: true,
    connectionSize: 4002,
    keepAliveMs: 0,
    name: "plc",
    onLost: (r) => void lost.push(r),
  });
  await client.connect(AbortSignal.timeout(5000));
  return {
    sim,
    client,
    lost,
    async [Symbol.asyncDispose]() {
      client.close();
      await sim.close();
    },
  };
}

const dint = (r: { data: Uint8Array }) =>
  new DataView(r.data.buffer, r.data.byteOffset).getInt32(2, true);

Deno.test("a silent controller times out a request no earlier than its timeout, and not much later", async () => {
  await using s = await setup(400);
  assertEquals(dint(await s.client.request(READ, AbortSignal.timeout(5000))), 42);
  s.sim.faults.silent = true;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const e = await s.client.request(READ, AbortSignal.timeout(5000)).catch((x) => x);
    const took = performance.now() - t0;
    assert(e instanceof BifrostError && e.code === "TIMEOUT", String(e));
    assert(took >= 400, `timed out after ${took.toFixed(0)} ms, before its 400 ms`);
    // Two sweeper periods (25 ms each) late at most, plus a loaded event loop's slack.
    assert(took < 1000, `timed out after ${took.toFixed(0)} ms`);
  }
  s.sim.faults.silent = false;
  assertEquals(dint(await s.client.request(READ, AbortSignal.timeout(5000))), 42);
});

Deno.test("onFail settles a failed request: its value resolves it, its throw rejects it", async () => {
  await using s = await setup(300);
  const onReply = (r: { data: Uint8Array }, a: string, b: number) => `${a}${b}:${dint(r)}`;
  const seen: [string, string, number][] = [];
  const onFail = (e: Error, a: string, b: number) => {
    seen.push([(e as BifrostError).code, a, b]);
    return "failed";
  };
  assertEquals(
    await s.client.requestWith(READ, AbortSignal.timeout(5000), onReply, "x", 1, onFail),
    "x1:42",
  );
  s.sim.faults.silent = true;
  assertEquals(
    await s.client.requestWith(READ, AbortSignal.timeout(5000), onReply, "y", 2, onFail),
    "failed",
  );
  // A signal that aborted before the request: onFail, with nothing sent.
  assertEquals(
    await s.client.requestWith(READ, AbortSignal.abort(), onReply, "z", 3, onFail),
    "failed",
  );
  assertEquals(seen, [["TIMEOUT", "y", 2], ["TIMEOUT", "z", 3]]);
  await assertRejects(
    () =>
      s.client.requestWith(READ, AbortSignal.timeout(5000), onReply, "w", 4, () => {
        throw new RangeError("given up");
      }),
    /given up/,
  );
  s.sim.faults.silent = false;
  // The late replies to the timed-out requests are dropped by their sequence counts.
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(
    await s.client.requestWith(READ, AbortSignal.timeout(5000), onReply, "v", 5, onFail),
    "v5:42",
  );
});

Deno.test("a close between requests is found by the next request: NOT_CONNECTED, reported lost once", async () => {
  await using s = await setup(1000);
  assertEquals(dint(await s.client.request(READ, AbortSignal.timeout(5000))), 42);
  s.sim.dropConnections();
  await new Promise((r) => setTimeout(r, 50));
  const e = await s.client.request(READ, AbortSignal.timeout(5000)).catch((x) => x);
  assert(e instanceof BifrostError && e.code === "NOT_CONNECTED", String(e));
  assertEquals(s.lost.length, 1, s.lost.join("; "));
  // Closed for good: later requests fail at once, nothing more is reported.
  const again = await s.client.request(READ, AbortSignal.timeout(5000)).catch((x) => x);
  assert(again instanceof BifrostError && again.code === "NOT_CONNECTED", String(again));
  assertEquals(s.lost.length, 1);
});

Deno.test("requests made back to back wait their turn and each gets its own reply", async () => {
  await using s = await setup(1000);
  const replies = await Promise.all(
    Array.from({ length: 50 }, () => s.client.request(READ, AbortSignal.timeout(5000))),
  );
  assertEquals(replies.map(dint), Array(50).fill(42));
});
