/**
 * @module
 * A Modbus RTU client transport: sends request PDUs as RTU frames and resolves with the
 * response PDU (exception responses included; see `decodeResponse` in `../pdu.ts`). RTU
 * has no transaction ids, so requests go one at a time, in call order. Before each
 * request the line stays silent for t3.5 after the last byte sent or received.
 *
 * Runs over a serial device ({@linkcode RtuTransport.openSerial}) or over TCP to a serial
 * device server ({@linkcode RtuTransport.connectTcp}). Failures reject with a
 * `BifrostError`: `TIMEOUT` when nothing valid came back in time, `PROTOCOL_ERROR` when
 * only frames with a bad CRC came back in time, `NOT_CONNECTED` once the stream is gone.
 * A late response that arrives during the next request is discarded, unless it matches
 * that request's unit, function code and byte count (it then answers it: the line cannot
 * tell the two apart).
 */

import { BifrostError } from "../../../engine/plugin.ts";
import { encodeRtuFrame, expectedResponseLength, RtuResponseReassembler } from "./frame.ts";
import {
  connectTcpStream,
  openSerialStream,
  type RtuStream,
  type SerialLineOptions,
} from "./stream.ts";
import { DEFAULT_TURNAROUND_MS, isBroadcast, rtuTimings, transmitTimeMs } from "./timing.ts";

/** Options shared by both kinds of line. */
export interface RtuTransportOptions {
  /** Default timeout of a request, ms, counted from the end of the write. Default 1000. */
  timeoutMs?: number;
  /** Baud rate of the serial line (behind the device server for TCP): sets t3.5. */
  baudRate?: number;
  /** Silence before each request, ms. Default t3.5 of `baudRate`; 0 without a baud rate. */
  interFrameMs?: number;
  /** Silence after a broadcast (unit 0), which gets no response, ms. Default 100. */
  turnaroundMs?: number;
}

/** Options of {@linkcode RtuTransport.openSerial}. */
export interface RtuSerialOptions extends RtuTransportOptions, SerialLineOptions {}

/** Options of {@linkcode RtuTransport.connectTcp}. */
export interface RtuTcpOptions extends RtuTransportOptions {
  host: string;
  port: number;
  /** Connect timeout, ms. Default `timeoutMs`. */
  connectTimeoutMs?: number;
}

/** Counters of a transport. */
export interface RtuTransportStats {
  sent: number;
  received: number;
  timeouts: number;
  crcErrors: number;
  /** Bytes dropped while hunting for a frame. */
  discarded: number;
  /** Valid frames that arrived with no request waiting (duplicates, late answers). */
  stray: number;
}

interface Current {
  resolve: (pdu: Uint8Array) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An RTU master on one line. */
export class RtuTransport {
  readonly stats: RtuTransportStats = {
    sent: 0,
    received: 0,
    timeouts: 0,
    crcErrors: 0,
    discarded: 0,
    stray: 0,
  };
  /** Where the line goes, for messages: a device path or `host:port`. */
  readonly where: string;
  readonly #stream: RtuStream;
  readonly #reassembler = new RtuResponseReassembler();
  readonly #timeoutMs: number;
  readonly #silenceMs: number;
  readonly #turnaroundMs: number;
  readonly #baudRate: number | undefined;
  #lastActivity = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #current: Current | undefined;
  #closed: BifrostError | undefined;
  readonly #reader: Promise<void>;

  /** Wraps an open stream; prefer {@linkcode openSerial} and {@linkcode connectTcp}. */
  constructor(stream: RtuStream, where: string, o: RtuTransportOptions = {}) {
    this.#stream = stream;
    this.where = where;
    this.#timeoutMs = o.timeoutMs ?? 1000;
    this.#baudRate = o.baudRate;
    this.#silenceMs = o.interFrameMs ?? (o.baudRate ? rtuTimings(o.baudRate).t35Ms : 0);
    this.#turnaroundMs = o.turnaroundMs ?? DEFAULT_TURNAROUND_MS;
    this.#reader = this.#readLoop();
  }

  /** Configures (`stty`) and opens a serial device; throws `DEVICE_UNREACHABLE`. */
  static async openSerial(o: RtuSerialOptions): Promise<RtuTransport> {
    const baudRate = o.baudRate ?? 9600;
    const stream = await openSerialStream({ ...o, baudRate });
    return new RtuTransport(stream, o.path, { ...o, baudRate });
  }

  /** Connects to an RTU-over-TCP device server; throws `DEVICE_UNREACHABLE`. */
  static async connectTcp(o: RtuTcpOptions): Promise<RtuTransport> {
    const stream = await connectTcpStream(
      o.host,
      o.port,
      o.connectTimeoutMs ?? o.timeoutMs ?? 1000,
    );
    return new RtuTransport(stream, `${o.host}:${o.port}`, o);
  }

  /** Whether the line is still usable. */
  get connected(): boolean {
    return this.#closed === undefined;
  }

  /**
   * Sends a request PDU to `unitId` and resolves with the response PDU. A broadcast
   * (unit 0) resolves with an empty PDU after the turnaround delay. Throws a `RangeError`
   * for function codes whose response length RTU cannot frame.
   */
  request(
    unitId: number,
    pdu: Uint8Array,
    timeoutMs: number = this.#timeoutMs,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const frame = encodeRtuFrame(unitId, pdu);
    if (!isBroadcast(unitId)) expectedResponseLength(pdu);
    const run = this.#chain.then(() => this.#exchange(unitId, pdu, frame, timeoutMs, signal));
    this.#chain = run.catch(() => {});
    return run;
  }

  async #exchange(
    unitId: number,
    pdu: Uint8Array,
    frame: Uint8Array,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    if (this.#closed) throw this.#closed;
    signal?.throwIfAborted();
    const wait = this.#lastActivity + this.#silenceMs - performance.now();
    if (wait > 0) await sleep(wait);
    this.#reassembler.expect(unitId, pdu);
    const crcBefore = this.#reassembler.stats.crcErrors;
    const { promise, resolve } = Promise.withResolvers<Uint8Array>();
    const current: Current = { resolve, timer: undefined };
    this.#current = current;
    let onAbort: (() => void) | undefined;
    try {
      let off = 0;
      while (off < frame.length) off += await this.#stream.write(frame.subarray(off));
      this.stats.sent++;
      this.#lastActivity = performance.now() +
        (this.#baudRate ? transmitTimeMs(this.#baudRate, frame.length) : 0);
      if (isBroadcast(unitId)) {
        await sleep(this.#turnaroundMs);
        this.#lastActivity = performance.now();
        return new Uint8Array(0);
      }
      const failed = new Promise<never>((_, reject) => {
        current.timer = setTimeout(() => {
          this.stats.timeouts++;
          const crc = this.#reassembler.stats.crcErrors - crcBefore;
          reject(
            crc > 0
              ? new BifrostError(
                "PROTOCOL_ERROR",
                `Cannot read a valid response from ${this.where} (unit ${unitId}, function ${
                  pdu[0]
                }): ${crc} frame(s) with a bad CRC within ${timeoutMs} ms`,
                { details: { crcErrors: crc } },
              )
              : new BifrostError(
                "TIMEOUT",
                `No answer from ${this.where} (unit ${unitId}, function ${
                  pdu[0]
                }) within ${timeoutMs} ms`,
              ),
          );
        }, timeoutMs);
        if (signal) {
          onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
        }
        this.#failCurrent = reject;
      });
      return await Promise.race([promise, failed]);
    } catch (e) {
      if (e instanceof BifrostError) throw e;
      if (signal?.aborted && e === signal.reason) throw e;
      this.#fail(e);
      throw this.#closed!;
    } finally {
      clearTimeout(current.timer);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
      if (this.#current === current) this.#current = undefined;
      this.#failCurrent = undefined;
    }
  }

  /** Rejects the request on the wire (set while it waits for its response). */
  #failCurrent: ((e: unknown) => void) | undefined;

  #onFrame = (f: { pdu: Uint8Array }): void => {
    const c = this.#current;
    if (!c) {
      this.stats.stray++;
      return;
    }
    this.#current = undefined;
    this.stats.received++;
    c.resolve(f.pdu);
  };

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(512);
    try {
      for (;;) {
        const n = await this.#stream.read(buf);
        if (n === null) break;
        this.#lastActivity = performance.now();
        this.#reassembler.push(buf.subarray(0, n), this.#onFrame);
        this.stats.crcErrors = this.#reassembler.stats.crcErrors;
        this.stats.discarded = this.#reassembler.stats.discarded;
      }
      this.#fail(undefined);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Marks the line dead; the request on the wire and all later ones get NOT_CONNECTED. */
  #fail(cause: unknown): void {
    if (this.#closed) return;
    const why = cause === undefined
      ? "the peer closed the connection"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    this.#closed = new BifrostError(
      "NOT_CONNECTED",
      `Lost the line to ${this.where}: ${why}`,
      { cause },
    );
    this.#failCurrent?.(this.#closed);
    try {
      this.#stream.close();
    } catch {
      // Already closed.
    }
  }

  /** Closes the line; the request on the wire and queued ones reject with NOT_CONNECTED. */
  async close(): Promise<void> {
    this.#fail(new Error("the client closed it"));
    await this.#reader;
    await this.#chain;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
