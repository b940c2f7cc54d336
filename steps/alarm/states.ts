/**
 * @module
 * The alarm state machine of ISA-18.2 (ANSI/ISA-18.2-2016, figure 5): normal, unacknowledged,
 * acknowledged, returned to normal unacknowledged, shelved and suppressed by design. Pure
 * functions from (state, event) to state, so that every transition is tested on its own.
 */

/** Alarm states, by their ISA-18.2 letters. */
export const AlarmState = {
  /** A: normal, acknowledged. */
  NORM: 0,
  /** B: active, unacknowledged. */
  UNACK: 1,
  /** C: active, acknowledged. */
  ACKED: 2,
  /** D: returned to normal, unacknowledged. */
  RTNUN: 3,
  /** E: shelved by an operator (for a time). */
  SHLVD: 4,
  /** F: suppressed by design (a condition such as the unit being stopped). */
  DSUPR: 5,
} as const;
/** A state code. */
export type AlarmStateCode = (typeof AlarmState)[keyof typeof AlarmState];
/** State names, by code. */
export const STATE_NAMES = ["NORM", "UNACK", "ACKED", "RTNUN", "SHLVD", "DSUPR"] as const;

/** What can happen to an alarm. */
export type AlarmEvent =
  | "activate"
  | "clear"
  | "acknowledge"
  | "shelve"
  | "unshelve"
  | "suppress"
  | "unsuppress";

/**
 * The state after `event`. `active` is whether the condition holds now (after delays): a
 * shelved or suppressed alarm that is released comes back unacknowledged when its condition
 * still holds, normal otherwise. Events that do not apply leave the state as it is.
 */
export function transition(s: AlarmStateCode, event: AlarmEvent, active: boolean): AlarmStateCode {
  switch (event) {
    case "activate":
      return s === AlarmState.NORM || s === AlarmState.RTNUN ? AlarmState.UNACK : s;
    case "clear":
      if (s === AlarmState.UNACK) return AlarmState.RTNUN;
      if (s === AlarmState.ACKED) return AlarmState.NORM;
      return s;
    case "acknowledge":
      if (s === AlarmState.UNACK) return AlarmState.ACKED;
      if (s === AlarmState.RTNUN) return AlarmState.NORM;
      return s;
    case "shelve":
      return s === AlarmState.DSUPR ? s : AlarmState.SHLVD;
    case "suppress":
      return s === AlarmState.SHLVD ? s : AlarmState.DSUPR;
    case "unshelve":
      if (s !== AlarmState.SHLVD) return s;
      return active ? AlarmState.UNACK : AlarmState.NORM;
    case "unsuppress":
      if (s !== AlarmState.DSUPR) return s;
      return active ? AlarmState.UNACK : AlarmState.NORM;
  }
}
