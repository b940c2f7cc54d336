/**
 * @module
 * Answers one Modbus request PDU from a {@linkcode UnitMemory}: FC1-6, 15, 16, 22 and 23.
 * Pure and synchronous, so the server answers straight from the socket read.
 */

import type { Table } from "../core/address.ts";
import type { UnitMemory } from "./memory.ts";

/** The part of a table a request touches. */
export interface Span {
  table: Table;
  start: number;
  count: number;
}

/** The outcome of one request: a response PDU and the span it wrote, if any. */
export interface Handled {
  response: Uint8Array;
  written?: Span;
}

/** An exception response PDU. */
export function exceptionResponse(fc: number, code: number): Uint8Array {
  return new Uint8Array([(fc | 0x80) & 0xff, code]);
}

const u16 = (p: Uint8Array, i: number) => (p[i]! << 8) | p[i + 1]!;
const READ_TABLE: Record<number, Table> = { 1: "C", 2: "DI", 3: "HR", 4: "IR" };
const MIN_LENGTH: Record<number, number> = {
  1: 5,
  2: 5,
  3: 5,
  4: 5,
  5: 5,
  6: 5,
  15: 6,
  16: 6,
  22: 7,
  23: 10,
};

/** The span a request reads or writes (for fault rules), or undefined for unknown codes. */
export function requestSpan(pdu: Uint8Array): Span | undefined {
  const fc = pdu[0]!;
  if (pdu.length < (MIN_LENGTH[fc] ?? Infinity)) return undefined;
  const start = u16(pdu, 1);
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
      return { table: READ_TABLE[fc]!, start, count: u16(pdu, 3) };
    case 5:
      return { table: "C", start, count: 1 };
    case 15:
      return { table: "C", start, count: u16(pdu, 3) };
    case 6:
    case 22:
      return { table: "HR", start, count: 1 };
    case 16:
      return { table: "HR", start, count: u16(pdu, 3) };
    case 23:
      return { table: "HR", start, count: u16(pdu, 3) };
    default:
      return undefined;
  }
}

function readBits(mem: UnitMemory, fc: 1 | 2, start: number, qty: number): Uint8Array {
  const bits = mem.table(fc === 1 ? "C" : "DI");
  const n = (qty + 7) >> 3;
  const out = new Uint8Array(2 + n);
  out[0] = fc;
  out[1] = n;
  for (let i = 0; i < qty; i++) if (bits[start + i] === 1) out[2 + (i >> 3)]! |= 1 << (i & 7);
  return out;
}

function readRegs(mem: UnitMemory, fc: number, table: "HR" | "IR", start: number, qty: number) {
  const out = new Uint8Array(2 + 2 * qty);
  out[0] = fc;
  out[1] = 2 * qty;
  out.set(mem.table(table).subarray(2 * start, 2 * (start + qty)), 2);
  return out;
}

/** Handles a request PDU; malformed and unsupported requests get exception responses. */
export function handleRequest(mem: UnitMemory, pdu: Uint8Array): Handled {
  const fc = pdu[0] ?? 0;
  const min = MIN_LENGTH[fc];
  if (min === undefined) return { response: exceptionResponse(fc, 1) };
  if (pdu.length < min) return { response: exceptionResponse(fc, 3) };
  const start = u16(pdu, 1);
  const qty = u16(pdu, 3);
  const fits = (n: number) => start + n <= 65536;
  switch (fc) {
    case 1:
    case 2:
      if (qty < 1 || qty > 2000) return { response: exceptionResponse(fc, 3) };
      if (!fits(qty)) return { response: exceptionResponse(fc, 2) };
      return { response: readBits(mem, fc, start, qty) };
    case 3:
    case 4:
      if (qty < 1 || qty > 125) return { response: exceptionResponse(fc, 3) };
      if (!fits(qty)) return { response: exceptionResponse(fc, 2) };
      return { response: readRegs(mem, fc, fc === 3 ? "HR" : "IR", start, qty) };
    case 5:
      if (qty !== 0xff00 && qty !== 0) return { response: exceptionResponse(fc, 3) };
      mem.setBit("C", start, qty === 0xff00);
      return { response: pdu.slice(0, 5), written: { table: "C", start, count: 1 } };
    case 6:
      mem.setRegister("HR", start, qty);
      return { response: pdu.slice(0, 5), written: { table: "HR", start, count: 1 } };
    case 15: {
      const bytes = pdu[5]!;
      if (qty < 1 || qty > 1968 || bytes !== (qty + 7) >> 3 || pdu.length < 6 + bytes) {
        return { response: exceptionResponse(fc, 3) };
      }
      if (!fits(qty)) return { response: exceptionResponse(fc, 2) };
      for (let i = 0; i < qty; i++) {
        mem.setBit("C", start + i, ((pdu[6 + (i >> 3)]! >> (i & 7)) & 1) === 1);
      }
      return { response: pdu.slice(0, 5), written: { table: "C", start, count: qty } };
    }
    case 16: {
      const bytes = pdu[5]!;
      if (qty < 1 || qty > 123 || bytes !== 2 * qty || pdu.length < 6 + bytes) {
        return { response: exceptionResponse(fc, 3) };
      }
      if (!fits(qty)) return { response: exceptionResponse(fc, 2) };
      mem.table("HR").set(pdu.subarray(6, 6 + bytes), 2 * start);
      return { response: pdu.slice(0, 5), written: { table: "HR", start, count: qty } };
    }
    case 22: {
      const and = u16(pdu, 3);
      const or = u16(pdu, 5);
      const w = mem.getRegister("HR", start);
      mem.setRegister("HR", start, (w & and) | (or & ~and & 0xffff));
      return { response: pdu.slice(0, 7), written: { table: "HR", start, count: 1 } };
    }
    default: {
      // 23: write first, then read (Modbus spec 6.17).
      const wStart = u16(pdu, 5);
      const wQty = u16(pdu, 7);
      const bytes = pdu[9]!;
      if (
        qty < 1 || qty > 125 || wQty < 1 || wQty > 121 || bytes !== 2 * wQty ||
        pdu.length < 10 + bytes
      ) {
        return { response: exceptionResponse(fc, 3) };
      }
      if (!fits(qty) || wStart + wQty > 65536) return { response: exceptionResponse(fc, 2) };
      mem.table("HR").set(pdu.subarray(10, 10 + bytes), 2 * wStart);
      return {
        response: readRegs(mem, fc, "HR", start, qty),
        written: { table: "HR", start: wStart, count: wQty },
      };
    }
  }
}
