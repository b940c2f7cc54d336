/**
 * @module
 * The Modbus TCP simulator: a server on `Deno.listen` that answers straight from the
 * socket read (no timer per request), serves many unit ids, runs value generators on one
 * timer and injects faults on demand. Close it with `await using`. The units, generators,
 * faults and the per-request dispatch live in {@linkcode createSimulatorCore}; this file
 * frames MBAP (and adds RTU listeners on the same core with `rtu:`).
 */

import { encodeAdu, type Frame, MbapReassembler } from "../core/pdu.ts";
import {
  type CoreOptions,
  createSimulatorCore,
  type SimulatorControl,
  type SimulatorCore,
} from "./core.ts";
import { listenRtu, type RtuListeners, type RtuListenOptions } from "./rtu_server.ts";

/** Options of {@linkcode startModbusSimulator}. */
export interface SimulatorOptions extends CoreOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Also serve the same units over RTU (RTU over TCP and/or a serial device). */
  rtu?: RtuListenOptions;
}

/** A running simulator. */
export interface ModbusSimulator extends SimulatorControl, AsyncDisposable {
  readonly host: string;
  readonly port: number;
  /** Port of the RTU-over-TCP listener (`rtu.tcpPort`), 0 when there is none. */
  readonly rtuPort: number;
  /** The serial device served (`rtu.serialPath`), if any. */
  readonly serialPath: string | undefined;
  close(): Promise<void>;
}

export type { SimulatorStats, ValueOptions } from "./core.ts";

/**
 * Starts a simulator.
 *
 * @example
 * ```ts
 * await using sim = await startModbusSimulator({
 *   units: { 1: { HR0: { type: "float32", generator: "sine", min: 0, max: 100, period: "10s" } } },
 * });
 * console.log(sim.port);
 * ```
 */
export async function startModbusSimulator(
  options: SimulatorOptions = {},
): Promise<ModbusSimulator> {
  const core = createSimulatorCore(options);
  let mbap: MbapListener | undefined;
  let rtu: RtuListeners | undefined;
  try {
    mbap = listenMbap(core, options.host ?? "127.0.0.1", options.port ?? 0);
    if (options.rtu) rtu = await listenRtu(core, { host: mbap.host, ...options.rtu });
  } catch (e) {
    core.stop();
    await mbap?.close();
    throw e;
  }
  core.faults.disconnectClients = () => {
    mbap!.disconnect();
    rtu?.disconnect();
  };
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      core.stop();
      await Promise.all([mbap!.close(), rtu?.close()]);
    })();
    return closed;
  };
  const { answer: _a, broadcast: _b, stop: _s, ...control } = core;
  return {
    ...control,
    host: mbap.host,
    port: mbap.port,
    rtuPort: rtu?.port ?? 0,
    serialPath: rtu?.serialPath,
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface MbapListener {
  host: string;
  port: number;
  disconnect(): void;
  close(): Promise<void>;
}

/** The Modbus TCP (MBAP) listener of a core. */
function listenMbap(core: SimulatorCore, host: string, port: number): MbapListener {
  const faults = core.faults;
  const conns = new Set<Deno.TcpConn>();
  const disconnect = () => {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    conns.clear();
  };

  const respond = (f: Frame): Uint8Array | undefined => {
    const pdu = core.answer(f.unitId, f.pdu, "exception");
    if (!pdu) return undefined;
    let tid = f.transactionId;
    if (faults.takeWrongTransactionId()) {
      tid = (tid + 0x8000) & 0xffff;
    }
    const adu = encodeAdu(tid, f.unitId, pdu);
    if (faults.takeTruncated()) {
      return adu.subarray(0, adu.length - Math.min(faults.truncateBytes, adu.length - 8));
    }
    return adu;
  };
  const serve = async (conn: Deno.TcpConn) => {
    conns.add(conn);
    core.stats.connections++;
    const buf = new Uint8Array(16384);
    const reassembler = new MbapReassembler();
    const out: Uint8Array[] = [];
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let writing = Promise.resolve();
    const writeAll = async (data: Uint8Array) => {
      let off = 0;
      while (off < data.length) off += await conn.write(data.subarray(off));
    };
    const onFrame = (f: Frame) => {
      const r = respond(f);
      if (r) out.push(r);
    };
    try {
      conn.setNoDelay(true);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        reassembler.push(buf.subarray(0, n), onFrame);
        if (out.length === 0) continue;
        let data = out[0]!;
        if (out.length > 1) {
          data = new Uint8Array(out.reduce((s, a) => s + a.length, 0));
          let at = 0;
          for (const a of out) {
            data.set(a, at);
            at += a.length;
          }
        }
        out.length = 0;
        if (faults.delayMs > 0) {
          // Latency, not a busy device: later requests are not held up by this one.
          const timer = setTimeout(() => {
            timers.delete(timer);
            writing = writing.then(() => writeAll(data)).catch(() => {});
          }, faults.delayMs);
          timers.add(timer);
        } else {
          await writing;
          await writeAll(data);
        }
      }
    } catch {
      // The client went away or we closed the connection: nothing to answer.
    } finally {
      for (const t of timers) clearTimeout(t);
      await writing;
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };

  const listener = Deno.listen({ hostname: host, port, transport: "tcp" });
  const serving = new Set<Promise<void>>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        const p = serve(conn);
        serving.add(p);
        p.finally(() => serving.delete(p));
      }
    } catch {
      // Listener closed.
    }
  })();

  let closed: Promise<void> | undefined;
  return {
    host,
    port: (listener.addr as Deno.NetAddr).port,
    disconnect,
    close() {
      closed ??= (async () => {
        try {
          listener.close();
        } catch { /* already closed */ }
        disconnect();
        await accepting;
        await Promise.all([...serving]);
      })();
      return closed;
    },
  };
}
