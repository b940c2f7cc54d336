/**
 * @module
 * The Modbus TCP simulator: a server on `Deno.listen` that answers straight from the
 * socket read (no timer per request), serves many unit ids, runs value generators on one
 * timer and injects faults on demand. Close it with `await using`.
 */

import { type ModbusAddress, parseAddress } from "../../drivers/modbus/address.ts";
import { encodeAdu, type Frame, MbapReassembler } from "../../drivers/modbus/pdu.ts";
import type { ByteOrder, DataType } from "../../drivers/modbus/spec.ts";
import { parseDuration } from "../../engine/flow/duration.ts";
import type { Value } from "../../engine/record.ts";
import { type GeneratorState, initGenerator, stepGenerator } from "../generators.ts";
import { Faults } from "./faults.ts";
import { exceptionResponse, handleRequest, requestSpan, type Span } from "./handler.ts";
import { type Point, resolveMap, type SimulatorMap } from "./map.ts";
import { fitValue, UnitMemory } from "./memory.ts";
import { registerCount } from "../../drivers/modbus/values.ts";

/** Options of {@linkcode startModbusSimulator}. */
export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Points per unit id; unit 1 (empty) when absent and `map` is absent. */
  units?: SimulatorMap["units"];
  /** A whole map (as loaded from YAML); its `units` merge with `units`. */
  map?: SimulatorMap;
  /** Generator update interval (ms or duration); 0 disables the timer. Default 100 ms. */
  updateMs?: number | string;
  /** Time source of the generators, ms. Default `Date.now`. */
  now?: () => number;
}

/** Counters of a simulator. */
export interface SimulatorStats {
  requests: number;
  connections: number;
}

interface LivePoint extends Point {
  state: GeneratorState | undefined;
  frozen: boolean;
  span: Span;
}

/** A running simulator. */
export interface ModbusSimulator extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly faults: Faults;
  readonly stats: SimulatorStats;
  /** The memory of a unit (created on first use). */
  unit(unitId: number): UnitMemory;
  /** Sets a register of HR (or IR with an `IR` address) to a raw word. */
  setRegister(address: string, word: number, unitId?: number): void;
  /** Sets consecutive registers to raw words. */
  setRegisters(address: string, words: readonly number[], unitId?: number): void;
  /** Raw words of consecutive registers. */
  getRegisters(address: string, count: number, unitId?: number): number[];
  /** Sets a coil or discrete input. */
  setBit(address: string, on: boolean, unitId?: number): void;
  /** Writes a typed value; stops the generator of the point there. */
  setValue(address: string, value: Value, o?: ValueOptions): void;
  /** Reads a typed value. */
  getValue(address: string, o?: ValueOptions): Value;
  /** Runs the generators for time `tMs` (the timer calls this). */
  update(tMs?: number): void;
  close(): Promise<void>;
}

/** Type, order and unit of a typed access. */
export interface ValueOptions {
  type?: DataType;
  order?: ByteOrder;
  length?: number;
  unitId?: number;
}

function overlaps(a: Span, b: Span): boolean {
  return a.table === b.table && a.start < b.start + b.count && b.start < a.start + a.count;
}

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
export function startModbusSimulator(
  options: SimulatorOptions = {},
): Promise<ModbusSimulator> {
  try {
    return Promise.resolve(start(options));
  } catch (e) {
    return Promise.reject(e);
  }
}

function start(options: SimulatorOptions): ModbusSimulator {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const units = new Map<number, UnitMemory>();
  const unit = (id: number) => {
    let u = units.get(id);
    if (!u) {
      u = new UnitMemory();
      units.set(id, u);
    }
    return u;
  };
  const allUnits = { ...options.map?.units, ...options.units };
  if (Object.keys(allUnits).length === 0) allUnits[1] = {};
  const points: LivePoint[] = resolveMap({ units: allUnits }).map((p) => ({
    ...p,
    state: p.generator ? initGenerator(p.generator) : undefined,
    frozen: false,
    span: {
      table: p.address.table,
      start: p.address.offset,
      count: p.type === "bool" ? 1 : registerCount(p.type, p.length),
    },
  }));
  for (const id of Object.keys(allUnits)) unit(Number(id));
  for (const p of points) {
    const v = p.state ? fitValue(p.state.value, p.type) : p.value;
    unit(p.unitId).setValue(p.address, v, p.type, p.order, p.length);
  }
  const freeze = (unitId: number, span: Span) => {
    for (const p of points) if (p.unitId === unitId && overlaps(p.span, span)) p.frozen = true;
  };

  const faults = new Faults();
  const stats: SimulatorStats = { requests: 0, connections: 0 };
  const conns = new Set<Deno.TcpConn>();
  faults.disconnectClients = () => {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    conns.clear();
  };

  const respond = (f: Frame): Uint8Array | undefined => {
    stats.requests++;
    if (faults.dropNext > 0) {
      faults.dropNext--;
      return undefined;
    }
    const mem = units.get(f.unitId);
    let pdu: Uint8Array;
    if (!mem) pdu = exceptionResponse(f.pdu[0] ?? 0, 11);
    else {
      const code = faults.exceptionFor(f.unitId, f.pdu[0] ?? 0, requestSpan(f.pdu));
      if (code !== undefined) pdu = exceptionResponse(f.pdu[0] ?? 0, code);
      else {
        const h = handleRequest(mem, f.pdu);
        if (h.written) freeze(f.unitId, h.written);
        pdu = h.response;
      }
    }
    let tid = f.transactionId;
    if (faults.wrongTransactionIdNext > 0) {
      faults.wrongTransactionIdNext--;
      tid = (tid + 0x8000) & 0xffff;
    }
    if (faults.malformedNext > 0 && pdu.length >= 2) {
      faults.malformedNext--;
      pdu = pdu.slice();
      pdu[1] = (pdu[1]! + 1) & 0xff;
    }
    const adu = encodeAdu(tid, f.unitId, pdu);
    if (faults.truncatedNext > 0) {
      faults.truncatedNext--;
      return adu.subarray(0, adu.length - Math.min(faults.truncateBytes, adu.length - 8));
    }
    return adu;
  };

  const serve = async (conn: Deno.TcpConn) => {
    conns.add(conn);
    stats.connections++;
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

  const listener = Deno.listen({ hostname: host, port: options.port ?? 0, transport: "tcp" });
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

  const update = (tMs = now()) => {
    for (const p of points) {
      if (!p.state || p.frozen || !p.generator) continue;
      p.state = stepGenerator(p.generator, p.state, tMs);
      unit(p.unitId).setValue(
        p.address,
        fitValue(p.state.value, p.type),
        p.type,
        p.order,
        p.length,
      );
    }
  };
  const updateMs = parseDuration(options.updateMs ?? options.map?.update ?? 100);
  let timer: ReturnType<typeof setInterval> | undefined;
  if (updateMs > 0 && points.some((p) => p.generator)) {
    update();
    timer = setInterval(() => update(), updateMs);
  }

  const addr = (text: string): ModbusAddress => parseAddress(text);
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      clearInterval(timer);
      try {
        listener.close();
      } catch { /* already closed */ }
      faults.disconnectClients();
      await accepting;
      await Promise.all([...serving]);
    })();
    return closed;
  };

  const sim: ModbusSimulator = {
    host,
    port: (listener.addr as Deno.NetAddr).port,
    faults,
    stats,
    unit,
    setRegister(address, word, unitId = 1) {
      sim.setRegisters(address, [word], unitId);
    },
    setRegisters(address, words, unitId = 1) {
      const a = addr(address);
      if (a.table !== "HR" && a.table !== "IR") {
        throw new RangeError(`Cannot set registers at "${address}": not a register table`);
      }
      words.forEach((w, i) => unit(unitId).setRegister(a.table as "HR", a.offset + i, w));
      freeze(unitId, { table: a.table, start: a.offset, count: words.length });
    },
    getRegisters(address, count, unitId = 1) {
      const a = addr(address);
      if (a.table !== "HR" && a.table !== "IR") {
        throw new RangeError(`Cannot get registers at "${address}": not a register table`);
      }
      return Array.from(
        { length: count },
        (_, i) => unit(unitId).getRegister(a.table as "HR", a.offset + i),
      );
    },
    setBit(address, on, unitId = 1) {
      const a = addr(address);
      unit(unitId).setValue(a, on, "bool", "ABCD");
      freeze(unitId, { table: a.table, start: a.offset, count: 1 });
    },
    setValue(address, value, o = {}) {
      const a = addr(address);
      const type = o.type ?? (typeof value === "boolean" ? "bool" : "uint16");
      const unitId = o.unitId ?? 1;
      const length = o.length ?? 1;
      unit(unitId).setValue(a, value, type, o.order ?? "ABCD", length);
      const count = type === "bool" ? 1 : registerCount(type, length);
      freeze(unitId, { table: a.table, start: a.offset, count });
    },
    getValue(address, o = {}) {
      const a = addr(address);
      return unit(o.unitId ?? 1).getValue(a, o.type ?? "uint16", o.order ?? "ABCD", o.length ?? 1);
    },
    update,
    close,
    [Symbol.asyncDispose]: close,
  };
  return sim;
}
