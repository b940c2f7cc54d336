/**
 * @module
 * The options and the health report of a `DeviceRuntime` (its states, counters
 * and the defaults of its backoff and probation).
 */

import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { BackoffOptions } from "./backoff.ts";

/** Connection states. */
export type DeviceState = "idle" | "connecting" | "connected" | "backoff" | "closed";

/** Health of a device, for the API and metrics. */
export interface DeviceHealth {
  state: DeviceState;
  /** Wall-clock ms of the last state change. */
  since: number;
  lastError?: string;
  connects: number;
  connectFailures: number;
  reads: number;
  readErrors: number;
  /** Live subscriptions (subscribed `subscribe:` polls). */
  subscriptions: number;
  /** Whether the device answered since it was last found not answering (see module doc). */
  answering: boolean;
  /** Tag reads that failed because no answer came in time. */
  timeouts: number;
  /** Tag reads that failed because what came was malformed, truncated or another's answer. */
  malformed: number;
  /** Round trip of the last read that got through to the driver, ms. */
  latencyMs?: number;
}

/** Options of a `DeviceRuntime`. */
export interface DeviceRuntimeOptions {
  log: Logger;
  clock: Clock;
  backoff?: BackoffOptions;
  /** Consecutive all-timeout reads that count as a lost connection. */
  timeoutsBeforeReconnect?: number;
  /** The shortest interval poll of the device, ms (see `DriverContext.pollEveryMs`). */
  pollEveryMs?: number;
  /**
   * How long a new connection must last, if the device answers nothing on it, before it
   * counts as made (see the module doc). Default: 2 s, or two polls of `pollEveryMs` if
   * longer (a poll that reads only while requests are on the wire notices a close at the
   * next poll).
   */
  earlyLossMs?: number;
}

/** The backoff of a device's connects unless the options say otherwise. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };
