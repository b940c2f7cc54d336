/**
 * @module
 * The request side of the Modbus driver: sends PDUs through a {@linkcode ModbusTransport},
 * checks the responses (exceptions and malformed answers become contextual
 * `BifrostError`s) and reads whole plans with retries. Reading is on the hot path of every
 * poll: without pipelining the requests of a plan go one after the other in a plain loop (no
 * `Promise.allSettled`, no request queued in the client), the first attempt of a request
 * skips `withRetries` (which only a failed attempt enters), tags decode straight from the
 * response PDU into the caller's `ReadSink` (no result object per tag), and no message text
 * is built unless something fails.
 */

import { BifrostError, type Clock, isBifrostError, type ReadSink } from "../../../engine/plugin.ts";
import { dataOffset, exceptionConstant, exceptionName, responseProblem } from "./pdu.ts";
import { decodeInto, failInto } from "./plan_decode.ts";
import type { ModbusReadPlan, PlannedRequest } from "./planner.ts";
import { type RetryOptions, withRetries } from "./retry.ts";
import type { ModbusTransport } from "./transport.ts";

/**
 * Whether a request's failure fails the whole read: a lost connection or an error that is not
 * a `BifrostError`. Any other failure has already marked its own request's tags bad.
 */
function failsWholeRead(e: unknown): boolean {
  return !isBifrostError(e) || isBifrostError(e, "NOT_CONNECTED");
}

/** Sends a device's PDUs and reads its plans. */
export class Exchanger {
  /**
   * @param device the device name, for messages
   * @param unitId the unit addressed (0: broadcast, whose answers are not checked)
   * @param pipelined whether the transport takes several requests on the wire at once (then
   *   a plan's requests are sent together)
   */
  constructor(
    readonly device: string,
    readonly unitId: number,
    readonly retry: RetryOptions,
    readonly clock: Clock,
    readonly pipelined = false,
  ) {}

  /** A transport error with the action and device in front of its message. */
  transportError(e: unknown, what: string): unknown {
    if (!isBifrostError(e)) return e;
    return new BifrostError(e.code, `Cannot ${what} on "${this.device}": ${e.message}`, {
      cause: e,
      details: e.details,
    });
  }

  /**
   * Throws a contextual BifrostError when a response is an exception or malformed. The
   * action is `what` + `range` (reads: "read " and the range, so that nothing is built per
   * request).
   */
  check(pdu: Uint8Array, response: Uint8Array, what: string, range = ""): void {
    // A broadcast gets no response: the transport waited the turnaround delay.
    if (this.unitId === 0) return;
    const fc = pdu[0]!;
    if (response.length >= 2 && response[0] === (fc | 0x80)) {
      const exception = response[1]!;
      throw new BifrostError(
        "DEVICE_EXCEPTION",
        `Cannot ${what}${range} on "${this.device}": ${
          exceptionName(exception)
        } (Modbus exception ${exception})`,
        {
          details: { protocol: "modbus", code: exception, name: exceptionConstant(exception) },
        },
      );
    }
    const problem = responseProblem(pdu, response);
    if (problem !== undefined) {
      throw new BifrostError(
        "PROTOCOL_ERROR",
        `Cannot ${what}${range} on "${this.device}": malformed response, ${problem}`,
      );
    }
  }

  /** Sends one PDU; returns the checked response PDU or throws a contextual BifrostError. */
  async exchangePdu(
    client: ModbusTransport,
    pdu: Uint8Array,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    let response: Uint8Array;
    try {
      response = await client.request(this.unitId, pdu, signal);
    } catch (e) {
      throw this.transportError(e, what);
    }
    this.check(pdu, response, what);
    return response;
  }

  /** Sends one PDU; returns the data of the response or throws a contextual BifrostError. */
  async exchange(
    client: ModbusTransport,
    pdu: Uint8Array,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const response = await this.exchangePdu(client, pdu, what, signal);
    return this.unitId === 0 ? response : response.subarray(dataOffset(pdu[0]!));
  }

  /**
   * Reads a plan, handing each tag's value or failure to `sink` by its index in the plan. A
   * Modbus exception or a timeout fails only the tags of its request (all requests timing
   * out throws `TIMEOUT`); a lost connection throws `NOT_CONNECTED`; an aborted `signal`
   * throws its reason. `sig` is what each request passes (undefined when the caller watches
   * `signal` for all of them).
   */
  async readInto(
    client: ModbusTransport,
    plan: ModbusReadPlan,
    sig: AbortSignal | undefined,
    signal: AbortSignal,
    sink: ReadSink,
  ): Promise<void> {
    const requests = plan.requests;
    if (!this.pipelined || requests.length === 1) {
      // One request on the wire at a time: the same order as queueing them all, without the
      // queue. A failure of one request fails its own tags and the next request goes on.
      let timeouts = 0;
      let timeout: unknown;
      for (let i = 0; i < requests.length; i++) {
        try {
          await this.#readRequest(client, requests[i]!, sink, sig, signal);
        } catch (e) {
          if (signal.aborted) throw signal.reason;
          if (failsWholeRead(e)) throw e;
          if (isBifrostError(e, "TIMEOUT") && timeouts++ === 0) timeout = e;
        }
      }
      if (signal.aborted) throw signal.reason;
      if (timeouts > 0 && timeouts === requests.length) throw timeout;
      return;
    }
    const outcomes = await Promise.allSettled(
      requests.map((r) => this.#readRequest(client, r, sink, sig, signal)),
    );
    if (signal.aborted) throw signal.reason;
    let timeouts = 0;
    for (const o of outcomes) {
      if (o.status === "fulfilled") continue;
      if (failsWholeRead(o.reason)) throw o.reason;
      if (isBifrostError(o.reason, "TIMEOUT")) timeouts++;
    }
    if (timeouts > 0 && timeouts === requests.length) {
      throw (outcomes[0] as PromiseRejectedResult).reason;
    }
  }

  /**
   * Reads one planned request into `sink`. The first attempt runs inline; only a failed
   * one goes through `withRetries` (which sees that failure as its own first attempt).
   */
  async #readRequest(
    client: ModbusTransport,
    r: PlannedRequest,
    sink: ReadSink,
    sig: AbortSignal | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    let response: Uint8Array | undefined;
    let failed: unknown;
    try {
      response = await client.request(this.unitId, r.pdu, sig);
    } catch (e) {
      failed = this.transportError(e, `read ${r.range}`);
    }
    if (response !== undefined) {
      try {
        this.check(r.pdu, response, "read ", r.range);
      } catch (e) {
        failed = e;
        response = undefined;
      }
    }
    decodeInto(
      r,
      response ?? await this.#retryRead(client, r, sink, sig, signal, failed),
      this.clock.now(),
      sink,
    );
  }

  /**
   * The retries of a read request whose first attempt failed with `failed` (which
   * `withRetries` sees as its own first attempt): the checked response PDU, or throws after
   * marking the request's tags bad.
   */
  async #retryRead(
    client: ModbusTransport,
    r: PlannedRequest,
    sink: ReadSink,
    sig: AbortSignal | undefined,
    signal: AbortSignal,
    failed: unknown,
  ): Promise<Uint8Array> {
    let first = true;
    try {
      return await withRetries(
        () => {
          if (!first) return this.exchangePdu(client, r.pdu, `read ${r.range}`, sig);
          first = false;
          return Promise.reject(failed);
        },
        this.retry,
        this.clock,
        signal,
      );
    } catch (e) {
      if (isBifrostError(e)) failInto(r, e, sink);
      throw e;
    }
  }
}
