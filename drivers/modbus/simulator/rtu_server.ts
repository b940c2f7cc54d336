/**
 * @module
 * The RTU side of the Modbus simulator: the same units, generators and faults as the TCP
 * simulator ({@linkcode SimulatorCore}), framed as RTU, served over TCP (RTU over TCP, what
 * a serial device server carries) and/or on a serial device (one end of a `socat` pty
 * pair in tests). A unit nobody serves stays silent, as on a real line; a broadcast
 * (unit 0) is applied to every unit and answered by none. Extra faults: bad CRC, silent
 * unit.
 */

import { encodeRtuFrame, type RtuFrame, RtuRequestReassembler } from "../rtu/frame.ts";
import { openSerialStream, type RtuStream } from "../rtu/stream.ts";
import {
  type CoreOptions,
  createSimulatorCore,
  type SimulatorControl,
  type SimulatorCore,
} from "./core.ts";

/** Where an RTU simulator listens. */
export interface RtuListenOptions {
  /** Host of the RTU-over-TCP listener. Default 127.0.0.1. */
  host?: string;
  /** Port of an RTU-over-TCP listener (0: any free port). No TCP listener when absent. */
  tcpPort?: number;
  /** A serial device to serve (e.g. one end of a socat pty pair). */
  serialPath?: string;
  /** Serial settings; default 9600 baud, parity "none" (Linux ptys refuse `parenb`). */
  baudRate?: number;
  parity?: "none" | "even" | "odd";
  stopBits?: 1 | 2;
}

/** Options of {@linkcode startRtuSimulator}. */
export interface RtuSimulatorOptions extends CoreOptions, RtuListenOptions {}

/** A running RTU simulator. */
export interface RtuSimulator extends SimulatorControl, AsyncDisposable {
  readonly host: string;
  /** Port of the RTU-over-TCP listener, 0 when there is none. */
  readonly port: number;
  /** The served serial device, if any. */
  readonly serialPath: string | undefined;
  close(): Promise<void>;
}

/** RTU listeners on a core; `close()` stops them (not the core). */
export interface RtuListeners {
  host: string;
  port: number;
  serialPath: string | undefined;
  /** Closes every served stream (the serial device too). */
  disconnect(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Serves RTU requests from a stream until it ends. */
async function serveStream(core: SimulatorCore, stream: RtuStream): Promise<void> {
  const reassembler = new RtuRequestReassembler();
  const buf = new Uint8Array(512);
  const out: Uint8Array[] = [];
  const onFrame = (f: RtuFrame) => {
    if (f.unitId === 0) {
      core.broadcast(f.pdu);
      return;
    }
    const pdu = core.answer(f.unitId, f.pdu, "silent");
    if (!pdu) return;
    const frame = encodeRtuFrame(f.unitId, pdu);
    if (core.faults.takeBadCrc()) {
      frame[frame.length - 1]! ^= 0x5a;
    }
    out.push(frame);
  };
  try {
    for (;;) {
      const n = await stream.read(buf);
      if (n === null) return;
      reassembler.push(buf.subarray(0, n), onFrame);
      for (const frame of out.splice(0)) {
        // A slave answers one request at a time: a delay holds the line, unlike over MBAP.
        if (core.faults.delayMs > 0) await sleep(core.faults.delayMs);
        let off = 0;
        while (off < frame.length) off += await stream.write(frame.subarray(off));
      }
    }
  } catch {
    // The stream was closed under the read or the write.
  }
}

/** Starts RTU listeners (TCP and/or serial) on an existing core. */
export async function listenRtu(core: SimulatorCore, o: RtuListenOptions): Promise<RtuListeners> {
  const host = o.host ?? "127.0.0.1";
  const streams = new Set<RtuStream>();
  const serving = new Set<Promise<void>>();
  const serve = (stream: RtuStream) => {
    streams.add(stream);
    core.stats.connections++;
    const p = serveStream(core, stream).finally(() => {
      streams.delete(stream);
      serving.delete(p);
      try {
        stream.close();
      } catch { /* already closed */ }
    });
    serving.add(p);
  };
  let listener: Deno.TcpListener | undefined;
  let accepting: Promise<void> = Promise.resolve();
  if (o.tcpPort !== undefined) {
    const l = Deno.listen({ hostname: host, port: o.tcpPort, transport: "tcp" });
    listener = l;
    accepting = (async () => {
      try {
        for await (const conn of l) {
          conn.setNoDelay(true);
          serve(conn);
        }
      } catch {
        // Listener closed.
      }
    })();
  }
  if (o.serialPath !== undefined) {
    try {
      serve(
        await openSerialStream({
          path: o.serialPath,
          baudRate: o.baudRate ?? 9600,
          parity: o.parity ?? "none",
          ...(o.stopBits ? { stopBits: o.stopBits } : {}),
        }),
      );
    } catch (e) {
      listener?.close();
      await accepting;
      throw e;
    }
  }
  const disconnect = () => {
    for (const s of streams) {
      try {
        s.close();
      } catch { /* already closed */ }
    }
  };
  core.faults.disconnectClients = disconnect;
  let closed: Promise<void> | undefined;
  return {
    host,
    port: listener ? (listener.addr as Deno.NetAddr).port : 0,
    serialPath: o.serialPath,
    disconnect,
    close() {
      closed ??= (async () => {
        try {
          listener?.close();
        } catch { /* already closed */ }
        await accepting;
        disconnect();
        await Promise.all([...serving]);
      })();
      return closed;
    },
  };
}

/**
 * Starts an RTU simulator: RTU over TCP on `tcpPort` and/or a serial device at
 * `serialPath` (at least one).
 *
 * @example
 * ```ts
 * await using sim = await startRtuSimulator({ tcpPort: 0, units: { 1: {}, 2: {} } });
 * // a modbus-rtu-tcp device: host 127.0.0.1, port sim.port
 * ```
 */
export async function startRtuSimulator(o: RtuSimulatorOptions): Promise<RtuSimulator> {
  if (o.tcpPort === undefined && o.serialPath === undefined) {
    throw new RangeError("Cannot start an RTU simulator without tcpPort or serialPath");
  }
  const core = createSimulatorCore(o);
  let rtu: RtuListeners;
  try {
    rtu = await listenRtu(core, o);
  } catch (e) {
    core.stop();
    throw e;
  }
  const close = async () => {
    core.stop();
    await rtu.close();
  };
  const { answer: _a, broadcast: _b, stop: _s, ...control } = core;
  return {
    ...control,
    host: rtu.host,
    port: rtu.port,
    serialPath: rtu.serialPath,
    close,
    [Symbol.asyncDispose]: close,
  };
}
