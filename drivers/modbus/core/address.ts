/**
 * @module
 * Modbus addresses as flows write them, parsed into a table and a 0-based offset.
 *
 * Accepted forms (case-insensitive):
 * - table letters and a 0-based offset: `HR100`, `IR0`, `C5`, `DI7`;
 * - Modicon numbers, 1-based: 5 digits `40101` (offset 100 of the holding registers),
 *   `30001`, `10001`, `00001`, or 6 digits `400101`, `365536`;
 * - a bit of a register: `HR100.3`, `40101.15` (bit 0 is the least significant).
 */

/** The four Modbus tables. */
export const TABLES = ["HR", "IR", "C", "DI"] as const;
/** A Modbus table: holding registers, input registers, coils, discrete inputs. */
export type Table = (typeof TABLES)[number];

/** A parsed address. */
export interface ModbusAddress {
  table: Table;
  /** 0-based offset in the table. */
  offset: number;
  /** Bit of the register (0..15), for bit-of-register tags. */
  bit?: number;
}

/** Whether a table holds 16-bit registers (as opposed to single bits). */
export function isRegisterTable(t: Table): t is "HR" | "IR" {
  return t === "HR" || t === "IR";
}

const MODICON: Record<string, Table> = { "0": "C", "1": "DI", "3": "IR", "4": "HR" };
const LETTERS = /^(HR|IR|DI|C)([0-9]+)(?:\.([0-9]+))?$/i;
const NUMBERS = /^([0-9]{5,6})(?:\.([0-9]+))?$/;

function parseBit(text: string, bitText: string | undefined, table: Table): number | undefined {
  if (bitText === undefined) return undefined;
  if (!isRegisterTable(table)) {
    throw new RangeError(
      `Cannot parse Modbus address "${text}": only registers (HR, IR) have bits, not ${table}`,
    );
  }
  const bit = Number(bitText);
  if (bit > 15) {
    throw new RangeError(
      `Cannot parse Modbus address "${text}": bit must be 0..15, got ${bitText}`,
    );
  }
  return bit;
}

/**
 * Parses an address; throws a `RangeError` saying what is wrong with the text.
 *
 * @example
 * ```ts
 * parseAddress("40101"); // { table: "HR", offset: 100 }
 * parseAddress("HR100.3"); // { table: "HR", offset: 100, bit: 3 }
 * ```
 */
export function parseAddress(text: string): ModbusAddress {
  const s = text.trim();
  const m = LETTERS.exec(s);
  if (m) {
    const table = m[1]!.toUpperCase() as Table;
    const offset = Number(m[2]);
    if (offset > 65535) {
      throw new RangeError(
        `Cannot parse Modbus address "${text}": offset must be 0..65535, got ${offset}`,
      );
    }
    const bit = parseBit(text, m[3], table);
    return bit === undefined ? { table, offset } : { table, offset, bit };
  }
  const n = NUMBERS.exec(s);
  if (n) {
    const digits = n[1]!;
    const table = MODICON[digits[0]!];
    if (!table) {
      throw new RangeError(
        `Cannot parse Modbus address "${text}": a Modicon number starts with 0 (coil), 1 (discrete input), 3 (input register) or 4 (holding register), got ${
          digits[0]
        }`,
      );
    }
    const number = Number(digits.slice(1));
    const max = digits.length === 5 ? 9999 : 65536;
    if (number < 1 || number > max) {
      throw new RangeError(
        `Cannot parse Modbus address "${text}": a ${digits.length}-digit Modicon number counts from 1 to ${max}, got ${number}`,
      );
    }
    const bit = parseBit(text, n[2], table);
    const offset = number - 1;
    return bit === undefined ? { table, offset } : { table, offset, bit };
  }
  throw new RangeError(
    `Cannot parse Modbus address "${text}": expected a table and offset (HR100, IR0, C5, DI7), a Modicon number (40101, 400101) or a register bit (HR100.3)`,
  );
}

/** Formats an address the canonical way (`HR100`, `HR100.3`). */
export function formatAddress(a: ModbusAddress): string {
  return `${a.table}${a.offset}${a.bit === undefined ? "" : `.${a.bit}`}`;
}
