/**
 * @module
 * Modbus RTU timing (Modbus over Serial Line v1.02, 2.5.1.1): a character is 11 bits
 * (start, 8 data, parity or a second stop bit, stop). Frames are separated by at least
 * 3.5 character times of silence (t3.5) and a frame may not pause for more than 1.5
 * (t1.5). Above 19200 baud the spec fixes t1.5 = 750 µs and t3.5 = 1750 µs, because the
 * computed values would be too short for UART interrupt handling.
 *
 * Broadcasts (unit id 0) get no response: the master waits a turnaround delay before the
 * next request so that slaves can finish processing.
 */

/** Bits per RTU character. */
export const BITS_PER_CHAR = 11;
/** Above this baud rate t1.5 and t3.5 are fixed. */
export const FIXED_TIMING_ABOVE_BAUD = 19200;
/** t1.5 above 19200 baud, ms. */
export const FIXED_T15_MS = 0.75;
/** t3.5 above 19200 baud, ms. */
export const FIXED_T35_MS = 1.75;
/** Default turnaround delay after a broadcast, ms (the spec suggests 100-200 ms). */
export const DEFAULT_TURNAROUND_MS = 100;
/** The broadcast unit id. */
export const BROADCAST_UNIT_ID = 0;

/** The silences of an RTU line at one baud rate. */
export interface RtuTimings {
  baudRate: number;
  /** Time to send one character, ms. */
  charMs: number;
  /** Longest allowed gap inside a frame, ms. */
  t15Ms: number;
  /** Shortest silence between frames, ms. */
  t35Ms: number;
}

function checkBaud(baudRate: number): void {
  if (!Number.isFinite(baudRate) || baudRate <= 0) {
    throw new RangeError(`Cannot use baud rate ${baudRate}: it must be a positive number`);
  }
}

/** Time to send one 11-bit character at `baudRate`, ms. */
export function charTimeMs(baudRate: number): number {
  checkBaud(baudRate);
  return (BITS_PER_CHAR * 1000) / baudRate;
}

/**
 * t1.5 and t3.5 for a baud rate.
 *
 * @example
 * ```ts
 * rtuTimings(9600).t35Ms; // 4.01 (3.5 x 11 bits / 9600 baud)
 * rtuTimings(115200).t35Ms; // 1.75 (fixed above 19200 baud)
 * ```
 */
export function rtuTimings(baudRate: number): RtuTimings {
  const charMs = charTimeMs(baudRate);
  if (baudRate > FIXED_TIMING_ABOVE_BAUD) {
    return { baudRate, charMs, t15Ms: FIXED_T15_MS, t35Ms: FIXED_T35_MS };
  }
  return { baudRate, charMs, t15Ms: 1.5 * charMs, t35Ms: 3.5 * charMs };
}

/** Time to put `bytes` characters on the line, ms (transport timeouts add it). */
export function transmitTimeMs(baudRate: number, bytes: number): number {
  return bytes * charTimeMs(baudRate);
}

/** True for the broadcast unit id: no slave answers it. */
export function isBroadcast(unitId: number): boolean {
  return unitId === BROADCAST_UNIT_ID;
}

/**
 * How long the master stays silent after sending a request to `unitId` before it may
 * send the next one when no response comes: the turnaround delay for broadcasts,
 * undefined for addressed requests (which wait for their response or their timeout).
 */
export function silenceAfterRequestMs(
  unitId: number,
  turnaroundMs: number = DEFAULT_TURNAROUND_MS,
): number | undefined {
  return isBroadcast(unitId) ? turnaroundMs : undefined;
}

/**
 * How long to wait before sending, so that at least `t35Ms` of silence passed since the
 * last byte on the line (sent or received) at `lastActivityMs`; 0 when it already did.
 */
export function remainingSilenceMs(t35Ms: number, lastActivityMs: number, nowMs: number): number {
  return Math.max(0, lastActivityMs + t35Ms - nowMs);
}
