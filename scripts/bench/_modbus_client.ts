/**
 * @module
 * The client side of the Modbus benchmark's sequential runs, in a child process so that it
 * can be pinned (`taskset -c 0`) next to the server. It reads one JSON command a line on
 * stdin and answers one JSON line on stdout:
 *
 * `{"port":5020,"loops":[{"mode":"ours","count":10},{"mode":"raw","count":10}],"ms":2000}` →
 * `{"loops":[{"requests":14000,"seconds":0.99},{"requests":15000,"seconds":0.98}],"cpuMs":1300}`
 *
 * The loops of a command run interleaved, `chunk` (200) requests each in turn, so that the
 * machine's noise falls on all of them alike and their ratios hold even when rates swing.
 *
 * - `ours`: `ModbusTcpClient.request()` of an FC3 PDU, one request at a time;
 * - `raw`: a `Deno.connect` loop writing the same 12 request bytes and reading until the
 *   whole response is in (the floor: no framing, no matching, no allocation);
 * - `driver`: `ModbusTcpDriver.read()` of a plan of `count` uint16 tags (one request),
 *   values decoded, as the gateway calls it.
 *
 * Connections stay open between commands (one per mode, port and count); the first command
 * of each warms up for 300 ms first.
 */

import process from "node:process";
import { systemClock } from "../../engine/clock.ts";
import type { TagConfig } from "../../engine/driver.ts";
import { nullLogger } from "../../engine/log.ts";
import { ModbusTcpClient } from "../../drivers/modbus/tcp/client.ts";
import { ModbusTcpDriver } from "../../drivers/modbus/tcp/driver.ts";
import { readRequest } from "../../drivers/modbus/core/pdu.ts";

/** One loop of a command: how to read and how many registers. */
export interface LoopSpec {
  mode: "ours" | "raw" | "driver";
  count: number;
}

/**
 * One command of the parent: the loops run interleaved, `chunk` requests of each in turn,
 * for `ms` in all, so that every loop sees the same share of the machine's noise.
 */
export interface ClientCommand {
  port: number;
  loops: LoopSpec[];
  ms: number;
  chunk?: number;
}

/** What one loop of a command did. */
export interface LoopResult {
  requests: number;
  seconds: number;
}

/** The answer to a command: one result per loop, in order, and the CPU time of the run. */
export interface ClientResult {
  loops: LoopResult[];
  /** CPU time of this process during the timed loops (user + system), ms. */
  cpuMs: number;
}

/** One request; resolves when its full response is in. */
type Once = () => Promise<void>;

async function oursLoop(port: number, count: number): Promise<Once> {
  const client = await ModbusTcpClient.connect({ host: "127.0.0.1", port, timeoutMs: 2000 });
  const pdu = readRequest(3, 0, count);
  return async () => {
    await client.request(1, pdu);
  };
}

async function rawLoop(port: number, count: number): Promise<Once> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const req = new Uint8Array([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, count]);
  const want = 9 + 2 * count;
  const buf = new Uint8Array(512);
  return async () => {
    let off = 0;
    while (off < req.length) off += await conn.write(req.subarray(off));
    let got = 0;
    while (got < want) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) throw new Error(`Lost the connection to port ${port}`);
      got += n;
    }
  };
}

async function driverLoop(port: number, count: number): Promise<Once> {
  const tags: TagConfig[] = Array.from({ length: count }, (_, i) => ({
    name: `t${i}`,
    address: `HR${i}`,
    type: "uint16",
    writable: false,
    config: { address: `HR${i}`, type: "uint16" },
  }));
  const driver = new ModbusTcpDriver(
    { name: "bench", driver: "modbus-tcp", config: { host: "127.0.0.1", port }, tags: new Map() },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(new AbortController().signal);
  const plan = driver.plan(tags);
  const signal = new AbortController().signal;
  return async () => {
    const r = await driver.read(plan, signal);
    if (!r[0]?.ok) throw new Error(`Read failed: ${JSON.stringify(r[0])}`);
  };
}

const loops = new Map<string, Once>();

async function loopFor(port: number, l: LoopSpec): Promise<Once> {
  const key = `${l.mode}:${port}:${l.count}`;
  let once = loops.get(key);
  if (!once) {
    const make = l.mode === "ours" ? oursLoop : l.mode === "raw" ? rawLoop : driverLoop;
    once = await make(port, l.count);
    loops.set(key, once);
    const end = performance.now() + 300;
    while (performance.now() < end) for (let i = 0; i < 64; i++) await once();
  }
  return once;
}

async function run(c: ClientCommand): Promise<ClientResult> {
  const onces: Once[] = [];
  for (const l of c.loops) onces.push(await loopFor(c.port, l));
  const chunk = c.chunk ?? 200;
  const out = c.loops.map(() => ({ requests: 0, seconds: 0 }));
  const cpu0 = process.cpuUsage();
  const end = performance.now() + c.ms;
  while (performance.now() < end) {
    for (let k = 0; k < onces.length; k++) {
      const once = onces[k]!;
      const t0 = performance.now();
      for (let i = 0; i < chunk; i++) await once();
      out[k]!.seconds += (performance.now() - t0) / 1000;
      out[k]!.requests += chunk;
    }
  }
  const cpu1 = process.cpuUsage();
  return { loops: out, cpuMs: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1000 };
}

if (import.meta.main) {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buf = "";
  for await (const chunk of lines) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() === "") continue;
      try {
        console.log(JSON.stringify(await run(JSON.parse(line) as ClientCommand)));
      } catch (e) {
        console.log(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
      }
    }
  }
  Deno.exit(0);
}
