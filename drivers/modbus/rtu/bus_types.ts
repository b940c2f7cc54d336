/**
 * @module
 * Types of the RTU bus scheduler (`bus.ts`): the line it drives, its options, and the
 * statistics it reports per slave.
 */

import type { Clock } from "../../../engine/plugin.ts";

/** The line the scheduler drives: one request at a time (an `RtuTransport` fits). */
export interface BusLine {
  request(
    unitId: number,
    pdu: Uint8Array,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
}

/** Breaker settings of one slave. */
export interface BreakerOptions {
  /** Consecutive timeouts that open the breaker; 0 disables it. Default 3. */
  breakerTimeouts?: number;
  /** Time between probes of an open breaker, ms. Default 10000. */
  probeIntervalMs?: number;
}

/** Options of a {@linkcode BusScheduler}. */
export interface BusOptions {
  clock: Clock;
  /** Where the line goes, for messages (`/dev/ttyUSB0`, `host:port`). */
  where?: string;
  /** Relative jitter of the probe interval, 0..1. Default 0.2 (±20 %). */
  jitter?: number;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number;
}

/** State of a slave's breaker. */
export type BreakerState = "closed" | "open" | "half-open";

/** Counters of one slave on the line. */
export interface SlaveStats {
  unitId: number;
  /** Requests sent on the line (probes included). */
  requests: number;
  timeouts: number;
  /** Other failures on the line (bad CRC, line lost). */
  errors: number;
  /** Requests refused at once because the breaker was open. */
  rejected: number;
  breaker: BreakerState;
  /** Times the breaker opened. */
  opened: number;
  /** Total time requests waited for the line, ms. */
  waitMs: number;
  /** Requests waiting now. */
  queued: number;
}

/** Counters of a line: per slave, by unit id. */
export interface BusStats {
  where: string;
  /** Requests sent on the line, all slaves. */
  requests: number;
  /** Total time the line was busy with requests, ms. */
  busyMs: number;
  slaves: SlaveStats[];
}
