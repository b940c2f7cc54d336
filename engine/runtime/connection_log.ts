/**
 * @module
 * What a device's connection says in the log, and how far its backoff has grown: one line
 * when an outage starts, one when it ends, debug lines in between, however many connections
 * it takes. Kept apart from {@linkcode DeviceRuntime}'s connect loop so that the decisions
 * can be tested without sockets.
 *
 * A new connection is on probation ({@linkcode ConnectionLog.connected}) until the device
 * answers or it has lasted long enough ({@linkcode ConnectionLog.confirm}). Lost before that,
 * it is a failed connect like a refused one ({@linkcode ConnectionLog.lost} says so): a
 * device behind a proxy or serial device server that accepts and closes at once is backed
 * off, not reconnected on every poll, and not logged twice a poll.
 */

import type { Logger } from "../log.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";

/** The log lines of a connection's outages. */
export const CONNECTION_LINES = {
  unreachable: "Device unreachable; retrying with backoff",
  stillUnreachable: "Device still unreachable",
  closes: "Device accepts connections but closes them; retrying with backoff",
  stillCloses: "Device still closes connections",
  closedNew: "Device closed a new connection",
  lost: "Device connection lost; reconnecting",
  connected: "Device connected",
  connectedAfterRetrying: "Device connected after retrying",
  stillNotAnswering: "Device reconnected, still not answering",
} as const;

/** One device's connection log and backoff count. */
export class ConnectionLog {
  readonly #log: Logger;
  readonly #backoff: BackoffOptions;
  /** Consecutive failed connects: refused, or closed by the peer while on probation. */
  #failures = 0;
  /** Whether this outage's loss was logged ("connection lost; reconnecting"). */
  #reconnecting = false;
  /** Whether the connection is past its probation. */
  #confirmed = true;

  constructor(log: Logger, backoff: BackoffOptions) {
    this.#log = log;
    this.#backoff = backoff;
  }

  /** Consecutive failed connects so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Whether the open connection is past its probation. */
  get confirmed(): boolean {
    return this.#confirmed;
  }

  /** A connection was made: on probation until {@linkcode confirm}. */
  connected(): void {
    this.#confirmed = false;
  }

  /**
   * A connect failed: refused (`closes` false) or closed by the peer while on probation.
   * Logs the first of an outage (unless the outage's loss was logged), the rest at debug,
   * and returns how long to wait before the next attempt.
   */
  failed(error: string, closes: boolean): number {
    const failures = ++this.#failures;
    const delay = backoffDelay(failures, this.#backoff);
    if (failures === 1 && !this.#reconnecting) {
      this.#log.warn(closes ? CONNECTION_LINES.closes : CONNECTION_LINES.unreachable, { error });
    } else {
      this.#log.debug(closes ? CONNECTION_LINES.stillCloses : CONNECTION_LINES.stillUnreachable, {
        error,
        attempt: failures,
        delay,
      });
    }
    return delay;
  }

  /**
   * Ends the connection's probation: it counts as made and the outage as over, logged once
   * ("Device connected after retrying" after failures). `answering` false (a device that
   * holds connections but answers nothing) logs at debug; `quiet` logs nothing (the caller
   * logs the recovery its own way).
   */
  confirm(answering: boolean, quiet = false): void {
    if (this.#confirmed) return;
    this.#confirmed = true;
    const attempts = this.#failures + 1;
    this.#failures = 0;
    this.#reconnecting = false;
    if (quiet) return;
    if (!answering) this.#log.debug(CONNECTION_LINES.stillNotAnswering);
    else if (attempts > 1) this.#log.info(CONNECTION_LINES.connectedAfterRetrying, { attempts });
    else this.#log.info(CONNECTION_LINES.connected);
  }

  /**
   * The open connection was lost. Returns true when it was on probation (the caller backs
   * off through {@linkcode failed}); otherwise logs the loss, at debug for a device known
   * not to answer.
   */
  lost(error: string, answering: boolean): boolean {
    if (!this.#confirmed) {
      this.#log.debug(CONNECTION_LINES.closedNew, { error });
      return true;
    }
    this.#reconnecting = true;
    if (answering) this.#log.warn(CONNECTION_LINES.lost, { error });
    else this.#log.debug(CONNECTION_LINES.lost, { error });
    return false;
  }
}
