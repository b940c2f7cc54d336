/**
 * @module
 * A Modbus TCP client written on `Deno.connect`: MBAP framing with a stream reassembler,
 * transaction ids matched to pending requests (pipelining up to `maxInFlight`), and
 * timeouts checked by one sweeping interval shared by all the clients of the process
 * ({@linkcode register}) instead of a timer per request (`setTimeout` costs about 2 ms under
 * Deno) or per connection. Responses resolve straight from socket reads.
 *
 * The client knows nothing of tags: it sends PDUs and returns response PDUs (exception
 * responses included). Transport failures reject with a `BifrostError`: `NOT_CONNECTED`
 * when the connection is gone, `TIMEOUT` when no answer came in time. A response that is
 * malformed, truncated or carries a transaction id nobody waits for is dropped and counted
 * (see {@linkcode ResponseStream}), the stream stays in step, and when its request's time is
 * up it rejects with `PROTOCOL_ERROR` saying what arrived ("Malformed response from
 * 10.0.0.5:502 within 1000 ms: transaction id 17, expected 16"), counted in
 * `malformedAnswers` apart from `timeouts`.
 *
 * The request path is built to cost no more than a bare socket loop (the benchmark in
 * `scripts/bench/modbus.ts` compares them), so it allocates nothing but the promise:
 * requests sit in a ring of reusable slots that own their ADU buffers
 * ({@linkcode SlotRing}), a frame is written at once when the socket is idle
 * ({@linkcode FrameWriter}), response PDUs are views of a shared arena (see
 * {@linkcode ResponseStream}), a deadline is a reading of the sweeper's shared clock rather
 * than a clock reading of its own, and an abort signal costs a listener only to the requests
 * that pass one. A client registers with the shared sweeper when it sends (nothing to do
 * when it is registered) and leaves at the first sweep that finds nothing on its wire; the
 * sweeper runs while any client is registered. Its period serves every registered client
 * (this client's tick: timeout / 20, 5..50 ms), so a timeout fires between `timeout` and
 * about `timeout + 10 %` (see `client_sweeper.ts`). Timeouts cost no allocation per request
 * or per poll cycle (no timer, no closure, no registry node); idle connections wake nobody.
 * What may outlive a poll cycle is the read kept pending between polls (`#readLoop`),
 * which notices at once a connection the peer closed. With `idleRead: false` the client
 * reads only while requests are on the wire: a read ends with the last answer and the next
 * request starts one. Under Deno a pending read holds about 0.7 KB (its promises and the
 * socket's set of pending reads); kept from one poll to the next, 1,000 of them a second
 * are promoted to the old generation and cost major collections. The price is that a close
 * between polls is found by the next request (which fails), not at once.
 */

import { BifrostError } from "../../../engine/plugin.ts";
import {
  captured,
  MAX_PDU,
  newRequestPromise,
  type Reject,
  type Resolve,
  type Slot,
  SlotRing,
  type Ticket,
} from "./client_slots.ts";
import { type ClientOptions, openConnection } from "./client_connect.ts";
import { register, SweepEntry, tickFor, unregister } from "./client_sweeper.ts";
import { FrameWriter } from "./client_writer.ts";
import { ResponseStream } from "./response_stream.ts";
import type { ModbusTransport } from "../core/transport.ts";

export type { ClientOptions } from "./client_connect.ts";

/** Counters of a client. */
export interface ClientStats {
  sent: number;
  received: number;
  /** Responses with no pending request (late, or a wrong transaction id). */
  dropped: number;
  /** Responses dropped as malformed or truncated (bad header, PDU not fitting its request). */
  malformed: number;
  /** Times the byte stream was resynchronised (scanned for a good header, stale bytes dropped). */
  resyncs: number;
  /** Requests that got no answer at all in time. */
  timeouts: number;
  /**
   * Requests that got, instead of their answer, a malformed or truncated frame or one with
   * another transaction id (they fail with `PROTOCOL_ERROR`, not `TIMEOUT`).
   */
  malformedAnswers: number;
}

/**
 * Read buffers shared by the clients of the process: a read loop takes one while it runs and
 * gives it back when it ends, so that 1,000 devices polled without idle reads hold a few
 * buffers between them, not 4 KB each.
 */
const readBuffers: Uint8Array[] = [];
const READ_BUFFER_BYTES = 4096;
const POOLED_BUFFERS = 64;

function takeReadBuffer(): Uint8Array {
  return readBuffers.pop() ?? new Uint8Array(READ_BUFFER_BYTES);
}

function giveReadBuffer(b: Uint8Array): void {
  if (readBuffers.length < POOLED_BUFFERS) readBuffers.push(b);
}

/** A connected Modbus TCP client. */
export class ModbusTcpClient implements ModbusTransport {
  readonly stats: ClientStats = {
    sent: 0,
    received: 0,
    dropped: 0,
    malformed: 0,
    resyncs: 0,
    timeouts: 0,
    malformedAnswers: 0,
  };
  readonly #conn: Deno.TcpConn;
  readonly #where: string;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #ring: SlotRing;
  readonly #queue: Ticket[] = [];
  readonly #stream: ResponseStream;
  readonly #writer: FrameWriter<Slot>;
  #closed: BifrostError | undefined;
  /** The read loop; it ends when the connection does, or (idleRead false) when idle. */
  #reader: Promise<void> = Promise.resolve();
  #reading = false;
  readonly #idleRead: boolean;
  readonly #onLost: ((error: BifrostError) => void) | undefined;
  /** This client's place in the shared sweeper. */
  readonly #entry: SweepEntry;

  private constructor(
    conn: Deno.TcpConn,
    where: string,
    timeoutMs: number,
    maxInFlight: number,
    idleRead: boolean,
    onLost: ((error: BifrostError) => void) | undefined,
  ) {
    this.#conn = conn;
    this.#idleRead = idleRead;
    this.#onLost = onLost;
    this.#where = where;
    this.#timeoutMs = timeoutMs;
    this.#maxInFlight = Math.max(1, maxInFlight);
    this.#ring = new SlotRing(this.#maxInFlight);
    this.#stream = new ResponseStream((tid) => this.#ring.get(tid)?.pdu);
    this.#writer = new FrameWriter(conn, (e) => this.#fail(e));
    this.#entry = new SweepEntry(tickFor(timeoutMs), this.#sweep);
    if (idleRead) this.#startReading();
  }

  /**
   * Connects; throws `DEVICE_UNREACHABLE` when the connection is refused, unreachable or
   * takes longer than `timeoutMs`.
   */
  static async connect(o: ClientOptions): Promise<ModbusTcpClient> {
    const conn = await openConnection(o);
    return new ModbusTcpClient(
      conn,
      `${o.host}:${o.port}`,
      o.timeoutMs,
      o.maxInFlight ?? 1,
      o.idleRead ?? true,
      o.onLost,
    );
  }

  /** Whether the connection is still usable. */
  get connected(): boolean {
    return this.#closed === undefined;
  }

  /** Whether a read is pending on the socket (always, with `idleRead`, until closed). */
  get reading(): boolean {
    return this.#reading;
  }

  /** Requests waiting for an answer or for a free slot. */
  get inFlight(): number {
    return this.#ring.active + this.#queue.length;
  }

  /**
   * Sends a request PDU to `unitId` and resolves with the response PDU (which may be an
   * exception response; see `decodeResponse`). The PDU must stay unchanged until then.
   */
  request(unitId: number, pdu: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (pdu.length < 1 || pdu.length > MAX_PDU) {
      return Promise.reject(
        new RangeError(`Cannot send a PDU of ${pdu.length} bytes: expected 1..${MAX_PDU}`),
      );
    }
    const promise = newRequestPromise();
    const { resolve, reject } = captured;
    let ticket: Ticket | undefined;
    if (signal || this.#ring.active >= this.#maxInFlight) {
      const t: Ticket = {
        unitId,
        pdu,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        slot: undefined,
        tid: -1,
      };
      if (signal) {
        t.onAbort = () => this.#abort(t);
        signal.addEventListener("abort", t.onAbort, { once: true });
      }
      ticket = t;
    }
    if (this.#ring.active < this.#maxInFlight) this.#send(unitId, pdu, resolve, reject, ticket);
    else this.#queue.push(ticket!);
    return promise;
  }

  #send(unitId: number, pdu: Uint8Array, resolve: Resolve, reject: Reject, ticket?: Ticket) {
    const slot = this.#ring.take(unitId, pdu, this.#writer.held);
    slot.resolve = resolve;
    slot.reject = reject;
    slot.deadline = register(this.#entry) + this.#timeoutMs;
    if (ticket) {
      ticket.slot = slot;
      ticket.tid = slot.tid;
      slot.ticket = ticket;
    }
    this.stats.sent++;
    if (!this.#reading) this.#startReading();
    this.#writer.write(slot.frame, slot);
  }

  #startReading(): void {
    this.#reading = true;
    this.#reader = this.#readLoop();
  }

  /** Sends the next queued request, if a slot is free. */
  #next(): void {
    if (this.#closed || this.#queue.length === 0 || this.#ring.active >= this.#maxInFlight) return;
    const t = this.#queue.shift()!;
    this.#send(t.unitId, t.pdu, t.resolve, t.reject, t);
  }

  /** Rejects a request whose signal aborted, wherever it is. */
  #abort(t: Ticket): void {
    const reason = t.signal!.reason;
    const slot = t.slot;
    if (slot) {
      if (slot.tid !== t.tid) return;
      this.#ring.free(slot);
      t.reject(reason);
      this.#next();
      return;
    }
    const i = this.#queue.indexOf(t);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    t.signal!.removeEventListener("abort", t.onAbort!);
    t.reject(reason);
  }

  /**
   * Rejects with `reason` every request sent without a signal of its own, on the wire or
   * queued (see {@linkcode ModbusTransport.abortUnsignalled}). Their answers, if they come,
   * are dropped.
   */
  abortUnsignalled(reason: unknown): void {
    for (const slot of this.#ring.slots) {
      if (slot.tid === -1 || slot.ticket?.signal) continue;
      const reject = slot.reject!;
      this.#ring.free(slot);
      reject(reason);
    }
    const queue = this.#queue;
    for (let i = 0; i < queue.length;) {
      const t = queue[i]!;
      if (t.signal) i++;
      else {
        queue.splice(i, 1);
        t.reject(reason);
      }
    }
    while (queue.length > 0 && this.#ring.active < this.#maxInFlight && !this.#closed) this.#next();
  }

  #onFrame = (tid: number, pdu: Uint8Array): void => {
    const slot = this.#ring.get(tid);
    if (!slot) return;
    this.stats.received++;
    const resolve = slot.resolve!;
    this.#ring.free(slot);
    if (this.#ring.active === 0) this.#stream.settle();
    resolve(pdu);
    if (this.#queue.length > 0) this.#next();
  };

  #syncStats(): void {
    const s = this.#stream.stats;
    this.stats.dropped = s.dropped;
    this.stats.malformed = s.malformed;
    this.stats.resyncs = s.resyncs;
  }

  async #readLoop(): Promise<void> {
    const buf = takeReadBuffer();
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#stream.push(buf, this.#onFrame, n);
        this.#syncStats();
        // Without idle reads, the loop ends with the last answer; the next request restarts it.
        if (!this.#idleRead && this.#ring.active === 0 && !this.#closed) {
          this.#reading = false;
          return;
        }
      }
      this.#fail(undefined);
    } catch (e) {
      this.#fail(e);
    } finally {
      // No read holds it any more, and `push` copied out what it keeps.
      giveReadBuffer(buf);
    }
  }

  /**
   * Called by the shared sweeper: expires the requests whose deadline is at most `now` (the
   * sweeper's clock); returns whether requests are still on the wire.
   */
  #sweep = (now: number): boolean => {
    if (this.#ring.active === 0) return false;
    let expired = 0;
    for (const slot of this.#ring.slots) {
      if (slot.tid === -1 || slot.deadline > now) continue;
      expired++;
      const tid = slot.tid;
      const reject = slot.reject!;
      // Something arrived, but not an answer that fits: say what (counted in `malformed` or
      // `dropped` by the stream), rather than "no answer", which is kept for silence.
      const problem = this.#stream.problemFor(tid);
      this.#ring.free(slot);
      if (problem !== undefined) {
        this.stats.malformedAnswers++;
        reject(
          new BifrostError(
            "PROTOCOL_ERROR",
            `Malformed response from ${this.#where} within ${this.#timeoutMs} ms: ${problem}`,
            { details: { malformed: true } },
          ),
        );
        continue;
      }
      this.stats.timeouts++;
      // The same text for every request: a tag's reason does not change from poll to poll.
      reject(
        new BifrostError(
          "TIMEOUT",
          `No answer from ${this.#where} within ${this.#timeoutMs} ms`,
          { details: { transactionId: tid } },
        ),
      );
    }
    // Still synchronous: no byte of the next request's answer can have been read yet, so a
    // partial answer of an expired request goes before it could be glued to the next one.
    if (expired > 0) {
      this.#stream.discardStale();
      if (this.#ring.active === 0) this.#stream.settle();
      this.#syncStats();
      while (this.#queue.length > 0 && this.#ring.active < this.#maxInFlight && !this.#closed) {
        this.#next();
      }
    }
    return this.#ring.active > 0;
  };

  /**
   * Marks the connection dead and rejects everything pending with NOT_CONNECTED; tells
   * `onLost` unless `close()` is the cause.
   */
  #fail(cause: unknown, lost = true): void {
    if (this.#closed) return;
    const why = cause === undefined
      ? "the peer closed the connection"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    const closed = new BifrostError(
      "NOT_CONNECTED",
      `Lost the connection to ${this.#where}: ${why}`,
      { cause },
    );
    this.#closed = closed;
    this.#writer.stop();
    unregister(this.#entry);
    for (const slot of this.#ring.slots) {
      if (slot.tid === -1) continue;
      const reject = slot.reject!;
      this.#ring.free(slot);
      reject(closed);
    }
    for (const t of this.#queue.splice(0)) {
      if (t.onAbort) t.signal!.removeEventListener("abort", t.onAbort);
      t.reject(closed);
    }
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    if (lost) this.#onLost?.(closed);
  }

  /** Closes the connection; pending requests reject with NOT_CONNECTED. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#fail(new Error("the client closed it"), false);
    }
    await this.#reader;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
