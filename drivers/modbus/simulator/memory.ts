/**
 * @module
 * The data of one simulated Modbus unit: coils and discrete inputs (one byte per bit) and
 * holding and input registers (as wire bytes, so a read answers with one copy). Tables are
 * allocated on first use, so a simulator with many unit ids stays small.
 */

import { isRegisterTable, type ModbusAddress, type Table } from "../core/address.ts";
import type { ByteOrder, DataType } from "../core/spec.ts";
import { decodeRegisters, encodeRegisters, registerCount } from "../core/values.ts";
import type { Value } from "../../../engine/plugin.ts";

const SIZE = 65536;

/** The four tables of one unit. */
export class UnitMemory {
  #tables: Partial<Record<Table, Uint8Array>> = {};

  /** The raw table: register bytes for HR/IR, one byte (0/1) per bit for C/DI. */
  table(t: Table): Uint8Array {
    let a = this.#tables[t];
    if (!a) {
      a = new Uint8Array(isRegisterTable(t) ? 2 * SIZE : SIZE);
      this.#tables[t] = a;
    }
    return a;
  }

  /** Register `offset` of HR or IR as a 16-bit word. */
  getRegister(t: "HR" | "IR", offset: number): number {
    const a = this.table(t);
    return (a[2 * offset]! << 8) | a[2 * offset + 1]!;
  }

  /** Sets register `offset` of HR or IR to a 16-bit word. */
  setRegister(t: "HR" | "IR", offset: number, word: number): void {
    const a = this.table(t);
    a[2 * offset] = (word >> 8) & 0xff;
    a[2 * offset + 1] = word & 0xff;
  }

  /** Bit `offset` of C or DI. */
  getBit(t: "C" | "DI", offset: number): boolean {
    return this.table(t)[offset] === 1;
  }

  /** Sets bit `offset` of C or DI. */
  setBit(t: "C" | "DI", offset: number, on: boolean): void {
    this.table(t)[offset] = on ? 1 : 0;
  }

  /** Writes a typed value at an address (a bit, a register bit or registers). */
  setValue(a: ModbusAddress, value: Value, type: DataType, order: ByteOrder, length = 1): void {
    if (!isRegisterTable(a.table)) {
      this.setBit(a.table, a.offset, value === true || (typeof value === "number" && value !== 0));
      return;
    }
    if (a.bit !== undefined) {
      const w = this.getRegister(a.table, a.offset);
      const on = value === true || (typeof value === "number" && value !== 0);
      this.setRegister(a.table, a.offset, on ? w | (1 << a.bit) : w & ~(1 << a.bit));
      return;
    }
    const bytes = encodeRegisters(value, type, order, length);
    this.table(a.table).set(bytes, 2 * a.offset);
  }

  /** Reads a typed value at an address. */
  getValue(a: ModbusAddress, type: DataType, order: ByteOrder, length = 1): Value {
    if (!isRegisterTable(a.table)) return this.getBit(a.table, a.offset);
    if (a.bit !== undefined) return ((this.getRegister(a.table, a.offset) >> a.bit) & 1) === 1;
    if (a.offset + registerCount(type, length) > SIZE) {
      throw new RangeError(`Cannot read ${type} at ${a.table}${a.offset}: past the last register`);
    }
    return decodeRegisters(this.table(a.table), 2 * a.offset, type, order, length);
  }
}

/** Fits a generated number into a type: rounds and wraps integers, `!= 0` for bools. */
export function fitValue(v: number, type: DataType): Value {
  switch (type) {
    case "bool":
      return v !== 0;
    case "float32":
    case "float64":
      return v;
    case "string":
      return String(v);
    case "int64":
      return BigInt.asIntN(64, BigInt(Math.round(v)));
    case "uint64":
      return BigInt.asUintN(64, BigInt(Math.round(v)));
    case "int16":
      return Number(BigInt.asIntN(16, BigInt(Math.round(v))));
    case "uint16":
      return Number(BigInt.asUintN(16, BigInt(Math.round(v))));
    case "int32":
      return Number(BigInt.asIntN(32, BigInt(Math.round(v))));
    case "uint32":
      return Number(BigInt.asUintN(32, BigInt(Math.round(v))));
  }
}
