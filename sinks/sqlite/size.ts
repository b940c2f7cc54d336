/**
 * @module
 * Sizes as flows write them: `512MB`, `1GB`, `64KB`, `1.5GB`, `100B`. KB, MB, GB and TB
 * are powers of 1024 (the KiB spellings are accepted too), as SQLite pages and most
 * operators' disk tools count them.
 */

/** The JSON Schema pattern of a size string. */
export const SIZE_PATTERN = "^[0-9]+(\\.[0-9]+)?\\s?([KMGT]i?B|B)$";

const UNITS: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * Parses a size into bytes.
 *
 * @example
 * ```ts
 * parseSize("512MB"); // 536870912
 * ```
 */
export function parseSize(s: string | number): number {
  if (typeof s === "number") {
    if (!Number.isFinite(s) || s < 0) {
      throw new RangeError(`Cannot use ${s} as a size: it must be a non-negative number of bytes`);
    }
    return s;
  }
  const m = /^([0-9]+(?:\.[0-9]+)?)\s?(?:([KMGT])i?B|B)$/.exec(s.trim());
  if (!m) {
    throw new RangeError(
      `Cannot parse size "${s}": expected a number and a unit (B, KB, MB, GB, TB), e.g. "512MB"`,
    );
  }
  return Math.round(Number(m[1]) * UNITS[m[2] ?? "B"]!);
}
