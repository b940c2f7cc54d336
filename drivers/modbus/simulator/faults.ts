/**
 * @module
 * Fault injection of the Modbus simulator, switched on and off from code or from the command
 * line (`bifrost sim modbus --fault busy=5%`): exception codes for address ranges, response
 * delay, dropped requests, malformed frames, truncated frames, wrong transaction ids and
 * disconnects (Modbus TCP), bad CRCs (RTU), and silent units (a slave that is off: no answer
 * at all, over any listener). Each frame fault comes as a count (`dropNext`: the next n
 * requests) and as a probability per request (`dropRate`); `random` is injectable so tests
 * of rates need not be statistical.
 */

import type { Table } from "../core/address.ts";
import type { Span } from "./handler.ts";

/** Answer requests touching a range with an exception. */
export interface ExceptionRule {
  /** Exception code (2 = Illegal data address, 6 = Server device busy…). */
  code: number;
  /** Only this unit; all units when absent. */
  unitId?: number;
  /** Only this function code; all when absent. */
  fc?: number;
  /** Only this table; all tables when absent. */
  table?: Table;
  /** Probability (0..1) that a matching request gets the exception; always when absent. */
  probability?: number;
  /** First address of the range (default 0). */
  start?: number;
  /** Length of the range (default: to the end of the table). */
  count?: number;
}

type CountedFault =
  | "dropNext"
  | "malformedNext"
  | "wrongTransactionIdNext"
  | "truncatedNext"
  | "badCrcNext";

/** The faults a simulator injects. */
export class Faults {
  #rules: ExceptionRule[] = [];
  /**
   * Delay every response by this many ms (0: answer at once). The delay is per response, like
   * network latency: pipelined requests are answered `delayMs` after each arrived, not one
   * after the other.
   */
  delayMs = 0;
  /** Requests still to drop without an answer (Infinity: all). */
  dropNext = 0;
  /** Responses still to corrupt (their byte count is wrong). */
  malformedNext = 0;
  /** Responses still to send with a wrong transaction id. */
  wrongTransactionIdNext = 0;
  /** Responses still to send truncated: their MBAP length stays, their last bytes go. */
  truncatedNext = 0;
  /** How many bytes a truncated response loses (at most all of its PDU but one byte). */
  truncateBytes = 2;
  /** RTU responses still to send with a corrupted CRC. */
  badCrcNext = 0;
  /** Units that answer nothing (not even broadcasts apply to them). */
  readonly silentUnits = new Set<number>();
  /** Set by the server: closes every client connection. */
  disconnectClients: () => void = () => {};
  /** Probability (0..1) per request that it is dropped without an answer. */
  dropRate = 0;
  /** Probability (0..1) per response that it is malformed (wrong byte count). */
  malformedRate = 0;
  /** Probability (0..1) per response that it carries a wrong transaction id. */
  wrongTransactionIdRate = 0;
  /** Probability (0..1) per response that it is truncated by `truncateBytes`. */
  truncatedRate = 0;
  /** Probability (0..1) per RTU response that its CRC is corrupted. */
  badCrcRate = 0;
  /** Probability (0..1) per request that every client connection is closed instead. */
  disconnectRate = 0;
  /** Where probabilities draw from: a number in [0, 1). */
  random: () => number = Math.random;

  /** True with probability `rate`. */
  #roll(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  /** True while counter `count` lasts (using one up), else with probability `rate`. */
  #take(count: CountedFault, rate: number): boolean {
    if (this[count] > 0) {
      this[count]--;
      return true;
    }
    return this.#roll(rate);
  }

  /** Whether to drop this request (counts first, then the rate). */
  takeDrop(): boolean {
    return this.#take("dropNext", this.dropRate);
  }

  /** Whether to malform this response. */
  takeMalformed(): boolean {
    return this.#take("malformedNext", this.malformedRate);
  }

  /** Whether to send this response with a wrong transaction id. */
  takeWrongTransactionId(): boolean {
    return this.#take("wrongTransactionIdNext", this.wrongTransactionIdRate);
  }

  /** Whether to truncate this response. */
  takeTruncated(): boolean {
    return this.#take("truncatedNext", this.truncatedRate);
  }

  /** Whether to corrupt the CRC of this RTU response. */
  takeBadCrc(): boolean {
    return this.#take("badCrcNext", this.badCrcRate);
  }

  /** Whether to close the connections instead of answering this request. */
  takeDisconnect(): boolean {
    return this.#roll(this.disconnectRate);
  }

  /** Adds an exception rule; returns a function that removes it. */
  exception(rule: ExceptionRule): () => void {
    this.#rules.push(rule);
    return () => {
      this.#rules = this.#rules.filter((r) => r !== rule);
    };
  }

  /** Drops the next `n` requests (default 1). */
  drop(n = 1): void {
    this.dropNext = n;
  }

  /** Sends the next `n` responses malformed (default 1). */
  malformed(n = 1): void {
    this.malformedNext = n;
  }

  /** Sends the next `n` responses truncated by `bytes` bytes (default 1 response, 2 bytes). */
  truncated(n = 1, bytes = 2): void {
    this.truncatedNext = n;
    this.truncateBytes = bytes;
  }

  /** Sends the next `n` RTU responses with a corrupted CRC (default 1). */
  badCrc(n = 1): void {
    this.badCrcNext = n;
  }

  /** Makes a unit silent (`on` true, the default) or alive again. */
  silence(unitId: number, on = true): void {
    if (on) this.silentUnits.add(unitId);
    else this.silentUnits.delete(unitId);
  }

  /** Sends the next `n` responses with a wrong transaction id (default 1). */
  wrongTransactionId(n = 1): void {
    this.wrongTransactionIdNext = n;
  }

  /** Removes every fault. */
  clear(): void {
    this.#rules = [];
    this.delayMs = 0;
    this.dropNext = 0;
    this.malformedNext = 0;
    this.wrongTransactionIdNext = 0;
    this.truncatedNext = 0;
    this.truncateBytes = 2;
    this.badCrcNext = 0;
    this.dropRate = 0;
    this.malformedRate = 0;
    this.wrongTransactionIdRate = 0;
    this.truncatedRate = 0;
    this.badCrcRate = 0;
    this.disconnectRate = 0;
    this.silentUnits.clear();
  }

  /** The exception code for a request, if a rule matches. */
  exceptionFor(unitId: number, fc: number, span: Span | undefined): number | undefined {
    for (const r of this.#rules) {
      if (r.unitId !== undefined && r.unitId !== unitId) continue;
      if (r.fc !== undefined && r.fc !== fc) continue;
      if (!span) {
        if (r.table !== undefined || r.start !== undefined) continue;
        if (r.probability !== undefined && !this.#roll(r.probability)) continue;
        return r.code;
      }
      if (r.table !== undefined && r.table !== span.table) continue;
      const start = r.start ?? 0;
      const end = r.count === undefined ? Infinity : start + r.count;
      if (span.start < end && span.start + span.count > start) {
        if (r.probability !== undefined && !this.#roll(r.probability)) continue;
        return r.code;
      }
    }
    return undefined;
  }
}
