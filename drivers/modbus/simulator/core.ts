/**
 * @module
 * What every Modbus simulator listener shares: the unit memories, the points and their
 * value generators (on one timer), the fault switches, and {@linkcode SimulatorCore.answer},
 * the per-request dispatch that the Modbus TCP (MBAP) and RTU listeners both call. The
 * listeners only frame bytes; everything a unit does happens here.
 */

import { type ModbusAddress, parseAddress } from "../core/address.ts";
import type { ByteOrder, DataType } from "../core/spec.ts";
import { registerCount } from "../core/values.ts";
import { parseDuration, type Value } from "../../../engine/plugin.ts";
import {
  type GeneratorState,
  initGenerator,
  stepGenerator,
} from "../../../simulators/generators.ts";
import { Faults } from "./faults.ts";
import { exceptionResponse, handleRequest, requestSpan, type Span } from "./handler.ts";
import { type Point, type PointSpec, resolveMap, type SimulatorMap } from "./map.ts";
import { fitValue, UnitMemory } from "./memory.ts";

/** The units, generators and timing of a simulator. */
export interface CoreOptions {
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
  /** Broadcasts (unit 0 over RTU) applied to every unit. */
  broadcasts?: number;
}

/** Type, order and unit of a typed access. */
export interface ValueOptions {
  type?: DataType;
  order?: ByteOrder;
  length?: number;
  unitId?: number;
}

/** The control surface of a simulator, whatever it listens on. */
export interface SimulatorControl {
  readonly faults: Faults;
  readonly stats: SimulatorStats;
  /** The memory of a unit (created on first use). */
  unit(unitId: number): UnitMemory;
  /** Whether a unit is served (it has a memory). */
  hasUnit(unitId: number): boolean;
  /** Serves another unit with these points (generators start at once). */
  addUnit(unitId: number, points?: Record<string, PointSpec>): void;
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
}

/** What a listener does with a request for a unit nobody serves. */
export type UnknownUnit = "exception" | "silent";

/** The shared part of every simulator. */
export interface SimulatorCore extends SimulatorControl {
  /**
   * Answers one request PDU to `unitId`, faults applied: the response PDU, or undefined
   * when no answer goes out (dropped, silent unit, unknown unit with `unknown: "silent"`).
   */
  answer(unitId: number, pdu: Uint8Array, unknown: UnknownUnit): Uint8Array | undefined;
  /** Applies a broadcast write to every unit; nothing is answered. */
  broadcast(pdu: Uint8Array): void;
  /** Stops the generator timer. */
  stop(): void;
}

interface LivePoint extends Point {
  state: GeneratorState | undefined;
  frozen: boolean;
  span: Span;
}

function overlaps(a: Span, b: Span): boolean {
  return a.table === b.table && a.start < b.start + b.count && b.start < a.start + a.count;
}

/** Creates the core of a simulator; throws a `RangeError` for a bad map. */
export function createSimulatorCore(options: CoreOptions = {}): SimulatorCore {
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
  const points: LivePoint[] = [];
  const load = (map: SimulatorMap["units"]) => {
    const added: LivePoint[] = resolveMap({ units: map }).map((p) => ({
      ...p,
      state: p.generator ? initGenerator(p.generator) : undefined,
      frozen: false,
      span: {
        table: p.address.table,
        start: p.address.offset,
        count: p.type === "bool" ? 1 : registerCount(p.type, p.length),
      },
    }));
    for (const id of Object.keys(map)) unit(Number(id));
    for (const p of added) {
      const v = p.state ? fitValue(p.state.value, p.type) : p.value;
      unit(p.unitId).setValue(p.address, v, p.type, p.order, p.length);
    }
    points.push(...added);
    return added;
  };
  const allUnits = { ...options.map?.units, ...options.units };
  if (Object.keys(allUnits).length === 0) allUnits[1] = {};
  load(allUnits);
  const freeze = (unitId: number, span: Span) => {
    for (const p of points) if (p.unitId === unitId && overlaps(p.span, span)) p.frozen = true;
  };

  const faults = new Faults();
  const stats: SimulatorStats = { requests: 0, connections: 0, broadcasts: 0 };

  const answer = (unitId: number, req: Uint8Array, unknown: UnknownUnit) => {
    stats.requests++;
    if (faults.takeDrop()) return undefined;
    if (faults.takeDisconnect()) {
      faults.disconnectClients();
      return undefined;
    }
    if (faults.silentUnits.has(unitId)) return undefined;
    const mem = units.get(unitId);
    const fc = req[0] ?? 0;
    let pdu: Uint8Array;
    if (!mem) {
      if (unknown === "silent") return undefined;
      pdu = exceptionResponse(fc, 11);
    } else {
      const code = faults.exceptionFor(unitId, fc, requestSpan(req));
      if (code !== undefined) pdu = exceptionResponse(fc, code);
      else {
        const h = handleRequest(mem, req);
        if (h.written) freeze(unitId, h.written);
        pdu = h.response;
      }
    }
    if (pdu.length >= 2 && faults.takeMalformed()) {
      pdu = pdu.slice();
      pdu[1] = (pdu[1]! + 1) & 0xff;
    }
    return pdu;
  };

  const broadcast = (req: Uint8Array) => {
    stats.requests++;
    stats.broadcasts = (stats.broadcasts ?? 0) + 1;
    for (const [id, mem] of units) {
      if (faults.silentUnits.has(id)) continue;
      const h = handleRequest(mem, req);
      if (h.written) freeze(id, h.written);
    }
  };

  const step = (p: LivePoint, tMs: number) => {
    if (!p.state || p.frozen || !p.generator) return;
    p.state = stepGenerator(p.generator, p.state, tMs);
    unit(p.unitId).setValue(p.address, fitValue(p.state.value, p.type), p.type, p.order, p.length);
  };
  const update = (tMs = now()) => {
    for (const p of points) step(p, tMs);
  };
  const updateMs = parseDuration(options.updateMs ?? options.map?.update ?? 100);
  let timer: ReturnType<typeof setInterval> | undefined;
  const startTimer = () => {
    if (timer === undefined && updateMs > 0 && points.some((p) => p.generator)) {
      update();
      timer = setInterval(() => update(), updateMs);
    }
  };
  startTimer();

  const addr = (text: string): ModbusAddress => parseAddress(text);
  const registers = (address: string, what: string) => {
    const a = addr(address);
    if (a.table !== "HR" && a.table !== "IR") {
      throw new RangeError(`Cannot ${what} registers at "${address}": not a register table`);
    }
    return a as ModbusAddress & { table: "HR" | "IR" };
  };
  const core: SimulatorCore = {
    faults,
    stats,
    unit,
    hasUnit: (id) => units.has(id),
    addUnit(unitId, pts = {}) {
      for (const p of load({ [unitId]: pts })) step(p, now());
      startTimer();
    },
    setRegister(address, word, unitId = 1) {
      core.setRegisters(address, [word], unitId);
    },
    setRegisters(address, words, unitId = 1) {
      const a = registers(address, "set");
      words.forEach((w, i) => unit(unitId).setRegister(a.table, a.offset + i, w));
      freeze(unitId, { table: a.table, start: a.offset, count: words.length });
    },
    getRegisters(address, count, unitId = 1) {
      const a = registers(address, "get");
      return Array.from(
        { length: count },
        (_, i) => unit(unitId).getRegister(a.table, a.offset + i),
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
    answer,
    broadcast,
    stop: () => clearInterval(timer),
  };
  return core;
}
