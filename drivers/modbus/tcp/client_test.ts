import { startModbusSimulator } from "../simulator/server.ts";
import { assertEquals, assertRejects } from "../_test_assert.ts";
import { assertMatch } from "../../../tests/_assert.ts";
import { ModbusTcpClient } from "./client.ts";
import { BifrostError } from "../../../engine/plugin.ts";
import { encodeAdu, readRequest } from "../core/pdu.ts";
import { ResponseStream } from "./response_stream.ts";

const word = (pdu: Uint8Array) => (pdu[2]! << 8) | pdu[3]!;

async function setup(maxInFlight: number, idleRead = true) {
  const sim = await startModbusSimulator();
  sim.setRegisters("HR0", [100, 101, 102]);
  const client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 150,
    maxInFlight,
    idleRead,
  });
  const errors: BifrostError[] = [];
  return {
    sim,
    client,
    errors,
    /** Reads HR0, HR1, HR2 concurrently: values, or the error code (the error in `errors`). */
    readThree: () =>
      Promise.all(
        [0, 1, 2].map((i) =>
          client.request(1, readRequest(3, i, 1)).then(word, (e: BifrostError) => {
            errors.push(e);
            return e.code;
          })
        ),
      ),
    async [Symbol.asyncDispose]() {
      await client.close();
      await sim.close();
    },
  };
}

/** What the client says arrived when the simulator's `fault` hits the first of 3 requests. */
function whatArrived(fault: "malformed" | "truncated" | "wrongTransactionId", maxInFlight: number) {
  if (fault === "malformed") {
    // The simulator adds one to the byte count of a one-register answer.
    return /^function code 0x03 with byte count 3 in a 4-byte PDU, expected byte count 2$/;
  }
  if (fault === "wrongTransactionId") return /^transaction id \d+, expected \d+$/;
  // Alone on the wire it waits for its last 2 bytes; pipelined, the next answer follows it.
  return maxInFlight === 1
    ? /^truncated response: 9 of 11 bytes$/
    : /^truncated response: transaction id \d+ says 11 bytes, which run into bytes that start no frame$/;
}

for (const fault of ["malformed", "truncated", "wrongTransactionId"] as const) {
  for (const [maxInFlight, idleRead] of [[1, true], [3, true], [1, false], [3, false]] as const) {
    Deno.test(`a ${fault} response is dropped and counted, its request fails saying what arrived, the next ones match (maxInFlight ${maxInFlight}, idleRead ${idleRead})`, async () => {
      await using t = await setup(maxInFlight, idleRead);
      t.sim.faults[fault](1);
      assertEquals(await t.readThree(), ["PROTOCOL_ERROR", 101, 102]);
      const said = t.errors[0]!.message;
      const where = `Malformed response from 127.0.0.1:${t.sim.port} within 150 ms: `;
      assertEquals(said.slice(0, where.length), where);
      assertMatch(said.slice(where.length), whatArrived(fault, maxInFlight));
      assertEquals(await t.readThree(), [100, 101, 102]);
      const s = t.client.stats;
      assertEquals([s.timeouts, s.malformedAnswers], [0, 1]);
      if (fault === "wrongTransactionId") assertEquals([s.dropped, s.malformed], [1, 0]);
      else assertEquals([s.dropped, s.malformed >= 1], [0, true]);
      if (fault === "truncated") assertEquals(s.resyncs >= 1, true);
      assertEquals(s.received, 5);
    });
  }
}

Deno.test("a timed-out request rejects with TIMEOUT naming the endpoint", async () => {
  await using t = await setup(1);
  t.sim.faults.drop(1);
  await assertRejects(
    () => t.client.request(1, readRequest(3, 0, 1)),
    BifrostError,
    `No answer from 127.0.0.1:${t.sim.port} within 150 ms`,
  );
});

Deno.test("ResponseStream skips garbage before a header and keeps partial frames", () => {
  const pending = new Map([[7, readRequest(3, 0, 1)], [8, readRequest(3, 1, 1)]]);
  const s = new ResponseStream((tid) => pending.get(tid));
  const got: [number, number][] = [];
  const on = (tid: number, pdu: Uint8Array) => got.push([tid, word(pdu)]);
  const r7 = encodeAdu(7, 1, new Uint8Array([3, 2, 0x12, 0x34]));
  const r8 = encodeAdu(8, 1, new Uint8Array([3, 2, 0x56, 0x78]));
  s.push(
    new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, ...r7.subarray(0, 9)]),
    on,
  );
  assertEquals(got, []);
  s.push(new Uint8Array([...r7.subarray(9), ...r8]), on);
  assertEquals(got, [[7, 0x1234], [8, 0x5678]]);
  assertEquals([s.stats.malformed, s.stats.resyncs, s.pending], [1, 1, 0]);
});

Deno.test("ResponseStream rejects a truncated frame that swallowed the next one and finds that one", () => {
  const pending = new Map([[1, readRequest(3, 0, 2)], [2, readRequest(3, 0, 1)]]);
  const s = new ResponseStream((tid) => pending.get(tid));
  const got: number[] = [];
  const r1 = encodeAdu(1, 1, new Uint8Array([3, 4, 1, 2, 3, 4]));
  const r2 = encodeAdu(2, 1, new Uint8Array([3, 2, 0xab, 0xcd]));
  s.push(new Uint8Array([...r1.subarray(0, r1.length - 2), ...r2]), (tid) => got.push(tid));
  assertEquals(got, [2]);
  assertEquals(s.stats.malformed, 1);
});

Deno.test("ResponseStream discards a stale partial frame once its request is gone", () => {
  const pending = new Map([[1, readRequest(3, 0, 2)]]);
  const s = new ResponseStream((tid) => pending.get(tid));
  s.push(encodeAdu(1, 1, new Uint8Array([3, 4, 1, 2, 3, 4])).subarray(0, 11), () => {});
  s.discardStale();
  assertEquals(s.pending, 11);
  pending.delete(1);
  s.discardStale();
  assertEquals([s.pending, s.stats.malformed], [0, 1]);
});

Deno.test("requests beyond maxInFlight wait in the queue and all match their answers", async () => {
  await using t = await setup(2);
  t.sim.setRegisters("HR10", Array.from({ length: 20 }, (_, i) => 500 + i));
  const got = await Promise.all(
    Array.from({ length: 20 }, (_, i) => t.client.request(1, readRequest(3, 10 + i, 1)).then(word)),
  );
  assertEquals(got, Array.from({ length: 20 }, (_, i) => 500 + i));
  assertEquals([t.client.stats.sent, t.client.stats.received, t.client.inFlight], [20, 20, 0]);
});

Deno.test("a PDU handed out stays intact while later responses arrive", async () => {
  await using t = await setup(1);
  t.sim.setRegisters("HR3", Array.from({ length: 122 }, (_, i) => i));
  const first = await t.client.request(1, readRequest(3, 0, 1));
  // 300 answers of 252 bytes: more than the 64 KB arena the PDUs are copied into.
  const big = [];
  for (let i = 0; i < 300; i++) big.push(await t.client.request(1, readRequest(3, 0, 125)));
  assertEquals(word(first), 100);
  assertEquals(big.every((p) => p.length === 252 && word(p) === 100 && p[251] === 121), true);
});

Deno.test("an aborted signal rejects its request wherever it is; the connection goes on", async () => {
  await using t = await setup(1);
  t.sim.faults.delayMs = 50;
  const onWire = new AbortController();
  const queued = new AbortController();
  const a = t.client.request(1, readRequest(3, 0, 1), onWire.signal);
  const b = t.client.request(1, readRequest(3, 1, 1), queued.signal);
  const c = t.client.request(1, readRequest(3, 2, 1));
  queued.abort(new Error("stop b"));
  onWire.abort(new Error("stop a"));
  await assertRejects(() => a, Error, "stop a");
  await assertRejects(() => b, Error, "stop b");
  assertEquals(word(await c), 102);
  t.sim.faults.delayMs = 0;
  assertEquals(word(await t.client.request(1, readRequest(3, 0, 1))), 100);
});

Deno.test("abortUnsignalled() rejects the requests sent without a signal, and only those", async () => {
  await using t = await setup(3);
  t.sim.faults.delayMs = 50;
  const own = new AbortController();
  const plain = [0, 1].map((i) => t.client.request(1, readRequest(3, i, 1)));
  const signalled = t.client.request(1, readRequest(3, 2, 1), own.signal);
  const queued = t.client.request(1, readRequest(3, 0, 1));
  t.client.abortUnsignalled(new Error("device stopped"));
  for (const p of [...plain, queued]) await assertRejects(() => p, Error, "device stopped");
  assertEquals(word(await signalled), 102);
  assertEquals(t.client.inFlight, 0);
});

Deno.test("a lost connection rejects requests on the wire and queued with NOT_CONNECTED", async () => {
  await using t = await setup(1);
  t.sim.faults.dropNext = Infinity;
  const all = [0, 1, 2].map((i) =>
    t.client.request(1, readRequest(3, i, 1)).then(() => "ok", (e: BifrostError) => e.code)
  );
  t.sim.faults.disconnectClients();
  assertEquals(await Promise.all(all), ["NOT_CONNECTED", "NOT_CONNECTED", "NOT_CONNECTED"]);
  assertEquals(t.client.connected, false);
  assertEquals(
    await t.client.request(1, readRequest(3, 0, 1)).catch((e: BifrostError) => e.code),
    "NOT_CONNECTED",
  );
});

Deno.test("idleRead (the default) keeps a read pending and notices a close between requests", async () => {
  await using t = await setup(1);
  assertEquals(word(await t.client.request(1, readRequest(3, 0, 1))), 100);
  assertEquals(t.client.reading, true);
  t.sim.faults.disconnectClients();
  for (let i = 0; i < 100 && t.client.connected; i++) await new Promise((r) => setTimeout(r, 10));
  assertEquals(t.client.connected, false);
});

Deno.test("idleRead false reads only while requests are on the wire; the next request finds a close", async () => {
  await using t = await setup(1, false);
  assertEquals(t.client.reading, false);
  const three = await Promise.all(
    [0, 1, 2].map((i) => t.client.request(1, readRequest(3, i, 1)).then(word)),
  );
  assertEquals(three, [100, 101, 102]);
  assertEquals(t.client.reading, false, "the read ends with the last answer");
  t.sim.faults.disconnectClients();
  await new Promise((r) => setTimeout(r, 50));
  assertEquals(t.client.connected, true, "nobody reads while idle");
  assertEquals(
    await t.client.request(1, readRequest(3, 0, 1)).catch((e: BifrostError) => e.code),
    "NOT_CONNECTED",
  );
  assertEquals(t.client.connected, false);
});

Deno.test("ResponseStream takes a length and hands out copies of the read buffer", () => {
  const pending = new Map([[1, readRequest(3, 0, 1)], [2, readRequest(3, 1, 1)]]);
  const s = new ResponseStream((tid) => pending.get(tid));
  const buf = new Uint8Array(64).fill(0xee);
  const got: Uint8Array[] = [];
  buf.set(encodeAdu(1, 1, new Uint8Array([3, 2, 0x12, 0x34])));
  s.push(buf, (_, pdu) => got.push(pdu), 11);
  buf.set(encodeAdu(2, 1, new Uint8Array([3, 2, 0x56, 0x78])));
  s.push(buf, (_, pdu) => got.push(pdu), 11);
  assertEquals(got.map(word), [0x1234, 0x5678]);
  assertEquals([s.pending, s.stats.malformed], [0, 0]);
});
