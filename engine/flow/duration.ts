/**
 * @module
 * Durations as flows write them: `10ms`, `500ms`, `1s`, `1.5s`, `5m`, `1h`, `7d`, or a bare
 * number of milliseconds.
 */

/** The JSON Schema pattern of a duration string. */
export const DURATION_PATTERN = "^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration into milliseconds.
 *
 * @example
 * ```ts
 * parseDuration("1.5s"); // 1500
 * ```
 */
export function parseDuration(d: string | number): number {
  if (typeof d === "number") {
    if (!Number.isFinite(d) || d < 0) {
      throw new RangeError(`Cannot use ${d} as a duration: it must be a non-negative number`);
    }
    return d;
  }
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(d.trim());
  if (!m) {
    throw new RangeError(
      `Cannot parse duration "${d}": expected a number and a unit (ms, s, m, h, d), e.g. "500ms"`,
    );
  }
  return Number(m[1]) * UNITS[m[2]!]!;
}
