/**
 * @module
 * The client side of the Modbus benchmark's sequential runs, in a child process so that it
 * can be pinned (`taskset -c 0`) next to the server. It reads one JSON command a line on
 * stdin and answers one JSON line on stdout:
 *
 * `{"mode":"ours"|"raw"|"driver","port":5020,"count":10,"ms":1000}` →
 * `{"requests":28000,"seconds":1.0,"cpuMs":990}`
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
import { ModbusTcpClient } from "../../drivers/modbus/client.ts";
import { ModbusTcpDriver } from "../../drivers/modbus/driver.ts";
import { readRequest } from "../../drivers/modbus/pdu.ts";

/** One command of the parent. */
export interface ClientCommand {
  mode: "ours" | "raw" | "driver";
  port: number;
  count: number;
  ms: number;
}

/** The answer to a command. */
export interface ClientResult {
  requests: number;
  seconds: number;
  /** CPU time of this process during the timed loop (user + system), ms. */
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

async function run(c: ClientCommand): Promise<ClientResult> {
  const key = `${c.mode}:${c.port}:${c.count}`;
  let once = loops.get(key);
  if (!once) {
    const make = c.mode === "ours" ? oursLoop : c.mode === "raw" ? rawLoop : driverLoop;
    once = await make(c.port, c.count);
    loops.set(key, once);
    const end = performance.now() + 300;
    while (performance.now() < end) for (let i = 0; i < 64; i++) await once();
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + c.ms;
  let n = 0;
  let t = t0;
  while (t < end) {
    for (let i = 0; i < 64; i++) await once();
    n += 64;
    t = performance.now();
  }
  const cpu1 = process.cpuUsage();
  return {
    requests: n,
    seconds: (t - t0) / 1000,
    cpuMs: (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1000,
  };
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
