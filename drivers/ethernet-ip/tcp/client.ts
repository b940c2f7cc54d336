/**
 * @module
 * Our CIP client over `Deno.connect` (st-ethernet-ip handles one request at a time through
 * layers of events and timers; this is one socket, one pending request, read while it is on the wire):
 * RegisterSession, Forward Open (Large Forward Open first when the connection size is above
 * 511 bytes, then the standard 504 bytes; unconnected messaging when the controller refuses
 * both), connected requests (SendUnitData with sequence counts) or UCMM (SendRRData, wrapped
 * in Unconnected Send when a route path is set), a keep-alive when idle, Forward Close and
 * UnRegisterSession on close. It knows nothing of tags: CIP messages in, CIP replies out.
 */

import { BifrostError } from "../../../engine/plugin.ts";
import {
  type ConnectionTriad,
  forwardClose,
  forwardOpen,
  readReply,
  type Reply,
  request,
  SERVICES,
  unconnectedSend,
} from "../core/cip.ts";
import { logicalPath, parseRoutePath } from "../core/address.ts";
import {
  COMMANDS,
  HEADER_SIZE,
  ITEMS,
  readCpf,
  registerSession,
  sendRRData,
  UNIT_DATA_OVERHEAD,
  writeUnitDataHead,
} from "../core/encap.ts";
import { describeStatus } from "../core/status.ts";

/** Options of {@linkcode CipClient}. */
export interface CipClientOptions {
  host: string;
  port: number;
  /** Route path text (`1,0`), empty for none. */
  path: string;
  timeoutMs: number;
  connected: boolean;
  connectionSize: number;
  keepAliveMs: number;
  /** Names the device in errors. */
  name: string;
  /** Called when the connection is lost outside a request. */
  onLost?: (reason: string) => void;
  /** Called with a warning line (a Forward Open fallback). */
  onWarn?: (line: string) => void;
}

let nextSerial = (Date.now() & 0x7fff) + 1;

/**
 * Called with a reply borrowed from the receive buffer ({@linkcode CipClient.requestWith}):
 * `reply` and its `data` are valid during the call only; `a` and `b` are the caller's.
 */
export type OnReply<A, B, T> = (reply: Reply, a: A, b: B) => T;

/**
 * Called instead of a rejection when a request given one fails ({@linkcode CipClient.requestWith}):
 * its return value resolves the request, a throw rejects it.
 */
export type OnFail<A, B, T> = (e: Error, a: A, b: B) => T;

/** The one request on the wire (one object per client, reused by every request). */
interface Pending {
  active: boolean;
  resolve(reply: unknown): void;
  reject(e: Error): void;
  /** Parses the (copied) frame before the promise settles (a throw rejects it). */
  map: ((f: Uint8Array) => unknown) | undefined;
  /** Takes the reply borrowed from the receive buffer (connected requests; a throw rejects). */
  onReply: OnReply<unknown, unknown, unknown> | undefined;
  onFail: OnFail<unknown, unknown, unknown> | undefined;
  a: unknown;
  b: unknown;
  sequence: number;
  deadline: number;
  signal: AbortSignal;
  what: string;
}

const NO_EXTENDED: number[] = Object.freeze([]) as unknown as number[];
const noop = () => {};

/** The resolving functions of the last {@linkcode newPromise}. */
const captured = { resolve: noop as (v: unknown) => void, reject: noop as (e: Error) => void };
const capture = (resolve: (v: unknown) => void, reject: (e: Error) => void) => {
  captured.resolve = resolve;
  captured.reject = reject;
};
/** A promise whose resolving functions are left in `captured` (no executor closure per request). */
const newPromise = <T>() =>
  new Promise<T>(capture as (r: (v: T) => void, j: (e: Error) => void) => void);

/** One CIP session to one target. */
export class CipClient {
  #o: CipClientOptions;
  #conn: Deno.TcpConn | undefined;
  #session = 0;
  #route: Uint8Array;
  #otId = 0;
  #toId = 0;
  #triad: ConnectionTriad | undefined;
  #sequence = 1;
  #p: Pending = {
    active: false,
    resolve: noop,
    reject: noop,
    map: undefined,
    onReply: undefined,
    onFail: undefined,
    a: undefined,
    b: undefined,
    sequence: 0,
    deadline: 0,
    signal: new AbortController().signal,
    what: "",
  };
  /** The reply handed to `requestWith` callbacks, refilled for every reply. */
  #reply: Reply = { service: 0, status: 0, extended: NO_EXTENDED, data: new Uint8Array(0) };
  #busy = false;
  #context = 0;
  #frames = new WeakMap<Uint8Array, Uint8Array>();
  #lastMsg: Uint8Array | undefined;
  #lastFrame: Uint8Array | undefined;
  #releaseOnSettle = false;
  #waiting: (() => Promise<void>)[] = [];
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #buf = new Uint8Array(16384);
  #have = 0;
  #lastUse = 0;
  /**
   * The sweeper's clock (`performance.now()` at its last tick, at most one period old): what a
   * request's deadline and the keep-alive's idle time are counted from, with no clock reading
   * per request.
   */
  #clock = 0;
  #period = 100;
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  /** Whether a read loop runs (it does while a request is on the wire; see `#readLoop`). */
  #reading = false;
  /** Bytes a connected message may carry (the negotiated size), or 504 unconnected. */
  size = 504;
  /** Whether requests go over a Forward Open connection. */
  isConnected = false;
  /** Whether the Forward Open was a Large one. */
  large = false;

  constructor(o: CipClientOptions) {
    this.#o = o;
    this.#route = o.path === "" ? new Uint8Array(0) : parseRoutePath(o.path);
  }

  #where(): string {
    return `"${this.#o.name}" (${this.#o.host}:${this.#o.port})`;
  }

  /** Opens the socket, the session and (when asked) the connection. */
  async connect(signal: AbortSignal): Promise<void> {
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(this.#o.timeoutMs)]);
    try {
      const connecting = Deno.connect({ hostname: this.#o.host, port: this.#o.port });
      this.#conn = await abortable(connecting, timeout, (c) => c.close());
      this.#conn.setNoDelay(true);
    } catch (e) {
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot connect to ${this.#where()}: ${
          timeout.aborted ? "no answer within " + this.#o.timeoutMs + " ms" : (e as Error).message
        }`,
        { cause: e },
      );
    }
    this.#period = Math.max(5, Math.min(100, this.#o.timeoutMs / 16));
    this.#clock = performance.now();
    const sweeper = setInterval(() => this.#sweep(), this.#period);
    Deno.unrefTimer(sweeper as unknown as number);
    this.#sweeper = sweeper;
    try {
      const reg = await this.#exchange(registerSession(), -1, signal, "RegisterSession");
      this.#session = new DataView(reg.buffer, reg.byteOffset).getUint32(4, true);
      if (this.#o.connected) await this.#open(signal);
    } catch (e) {
      this.close();
      if (e instanceof BifrostError && e.code === "DEVICE_EXCEPTION") throw e;
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot open a session with ${this.#where()}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.#lastUse = this.#clock = performance.now();
    if (this.#o.keepAliveMs > 0) {
      const timer = setInterval(() => this.#tick(), Math.max(100, this.#o.keepAliveMs / 2));
      Deno.unrefTimer(timer as unknown as number);
      this.#keepAlive = timer;
    }
  }

  async #open(signal: AbortSignal): Promise<void> {
    const sizes = this.#o.connectionSize > 511
      ? [this.#o.connectionSize, 504]
      : [this.#o.connectionSize];
    let last = "";
    for (const size of sizes) {
      const large = size > 511;
      this.#toId = (Math.random() * 0xfffffff) >>> 0 | 1;
      const triad = {
        serial: nextSerial++ & 0xffff,
        vendorId: 0x1337,
        originatorSerial: 0x42464953,
      };
      const msg = forwardOpen({
        large,
        size,
        toConnectionId: this.#toId,
        triad,
        route: this.#route,
      });
      const r = readReply(
        await this.#unconnected(msg, signal, large ? "Large Forward Open" : "Forward Open"),
      );
      if (r.status === 0) {
        const v = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        this.#otId = v.getUint32(0, true);
        this.#triad = triad;
        this.size = size;
        this.isConnected = true;
        this.large = large;
        return;
      }
      last = `${large ? "Large Forward Open" : "Forward Open"} of ${size} bytes refused: ${
        describeStatus(r.status, r.extended)
      }`;
      if (large) this.#o.onWarn?.(`${this.#where()}: ${last}; trying a standard Forward Open`);
    }
    this.#o.onWarn?.(`${this.#where()}: ${last}; using unconnected messaging`);
    this.size = 504;
  }

  #tick(): void {
    if (this.#closed || this.#p.active || this.#clock - this.#lastUse < this.#o.keepAliveMs) {
      return;
    }
    // Get Attribute Single (vendor id) of the Identity object: the cheapest request there is.
    const msg = request(SERVICES.GET_ATTRIBUTE_SINGLE, logicalPath(1, 1, 1), new Uint8Array(0));
    this.request(msg, AbortSignal.timeout(this.#o.timeoutMs)).catch(() => {});
  }

  /** Sends one CIP message (connected when a connection is open) and returns the reply. */
  request(msg: Uint8Array, signal: AbortSignal): Promise<Reply> {
    return this.requestWith(msg, signal, ownReply, undefined, undefined, undefined);
  }

  /**
   * Sends one CIP message and calls `onReply(reply, a, b)` with its reply as it arrives,
   * resolving with what that returns (a throw rejects). The reply is borrowed from the
   * receive buffer, valid during the call only: the driver's read path decodes its values
   * there, without a copy of the frame, a reply object or a closure per request. With
   * `onFail`, a failure (timeout, cancellation, lost connection, a throw of `onReply`) calls
   * `onFail(error, a, b)` instead of rejecting: the request resolves with what it returns and
   * rejects with what it throws (no `then` and closure per request to catch a rare failure).
   */
  requestWith<A, B, T>(
    msg: Uint8Array,
    signal: AbortSignal,
    onReply: OnReply<A, B, T>,
    a: A,
    b: B,
    onFail?: OnFail<A, B, T>,
  ): Promise<T> {
    if (!this.#busy) return this.#run(msg, signal, onReply, a, b, onFail);
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#waiting.push(() => this.#run(msg, signal, onReply, a, b, onFail).then(resolve, reject));
    return promise;
  }

  /** Runs one request now; the next waiting one starts when it settles. */
  #run<A, B, T>(
    msg: Uint8Array,
    signal: AbortSignal,
    onReply: OnReply<A, B, T>,
    a: A,
    b: B,
    onFail: OnFail<A, B, T> | undefined,
  ): Promise<T> {
    this.#busy = true;
    this.#lastUse = this.#clock;
    if (!this.isConnected) {
      const sent = this.#unconnected(msg, signal, "request", true).then((bytes) => {
        this.#next();
        return onReply(readReply(bytes), a, b);
      }, (e) => {
        this.#next();
        throw e;
      });
      return onFail ? sent.catch((e) => onFail(e, a, b)) : sent;
    }
    // The hot path: the reply is parsed and the next request released where the frame is
    // delivered, so a request costs one promise (no then/finally hops per request).
    const frame = this.#unitData(msg);
    this.#releaseOnSettle = true;
    return this.#exchange<T>(
      frame,
      this.#sequence,
      signal,
      "request",
      undefined,
      onReply as OnReply<unknown, unknown, unknown>,
      a,
      b,
      onFail as OnFail<unknown, unknown, unknown> | undefined,
    );
  }

  /** A request settled: a connected request releases the next one (see `#run`). */
  #settled(): void {
    if (!this.#releaseOnSettle) return;
    this.#releaseOnSettle = false;
    this.#next();
  }

  #next = (): void => {
    this.#busy = false;
    const next = this.#waiting.shift();
    if (next) void next();
  };

  #unitData(msg: Uint8Array): Uint8Array {
    const seq = this.#sequence = (this.#sequence + 1) & 0xffff;
    // A plan's requests are the same bytes every poll: their frame is built once per
    // connection and only the sequence count changes (one request is on the wire at a time,
    // so the previous write of a frame has finished before it is written again).
    let out = msg === this.#lastMsg ? this.#lastFrame : this.#frames.get(msg);
    if (!out) {
      out = new Uint8Array(UNIT_DATA_OVERHEAD + msg.length);
      writeUnitDataHead(out, this.#session, this.#otId, seq, msg.length);
      out.set(msg, UNIT_DATA_OVERHEAD);
      this.#frames.set(msg, out);
    }
    this.#lastMsg = msg;
    this.#lastFrame = out;
    out[HEADER_SIZE + 20] = seq & 0xff;
    out[HEADER_SIZE + 21] = seq >> 8;
    return out;
  }

  async #unconnected(
    msg: Uint8Array,
    signal: AbortSignal,
    what: string,
    routed = false,
  ): Promise<Uint8Array> {
    const wrapped = routed && this.#route.length > 0 ? unconnectedSend(msg, this.#route) : msg;
    // The sender context tells this reply from a late one to a request that timed out.
    const context = this.#context = (this.#context + 1) >>> 0 || 1;
    const f = await this.#exchange(
      sendRRData(this.#session, wrapped, context),
      -1 - context,
      signal,
      what,
    );
    const item = readCpf(f.subarray(HEADER_SIZE)).find((i) => i.type === ITEMS.UNCONNECTED_DATA);
    if (!item) throw new RangeError("the SendRRData reply has no unconnected data item");
    return item.data;
  }

  /**
   * Sends a frame and waits for its reply. No timer or listener per request: the sweeper
   * (every quarter of the timeout) fails a request past its deadline or whose signal
   * aborted, which keeps a request's cost to its bytes (`setTimeout` costs show at 3k req/s).
   */
  #exchange<T = Uint8Array>(
    out: Uint8Array,
    sequence: number,
    signal: AbortSignal,
    what: string,
    map?: (f: Uint8Array) => T,
    onReply?: OnReply<unknown, unknown, unknown>,
    a?: unknown,
    b?: unknown,
    onFail?: OnFail<unknown, unknown, unknown>,
  ): Promise<T> {
    const conn = this.#conn;
    let early: Error | undefined;
    if (!conn || this.#closed) {
      early = new BifrostError("NOT_CONNECTED", `Cannot send to ${this.#where()}: not connected`);
    } else if (signal.aborted) {
      early = new BifrostError("TIMEOUT", `The ${what} to ${this.#where()} was cancelled`);
    }
    if (early !== undefined) {
      this.#settled();
      if (onFail === undefined) return Promise.reject(early);
      try {
        return Promise.resolve(onFail(early, a, b) as T);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const promise = newPromise<T>();
    const p = this.#p;
    p.active = true;
    p.sequence = sequence;
    p.resolve = captured.resolve;
    p.reject = captured.reject;
    p.map = map as ((f: Uint8Array) => unknown) | undefined;
    p.onReply = onReply;
    p.onFail = onFail;
    p.a = a;
    p.b = b;
    // Counted from the sweeper's clock, one period late at most: a period is added so that a
    // request never times out early; it does at most two periods (an eighth of it) late.
    p.deadline = this.#clock + this.#period + this.#o.timeoutMs;
    p.signal = signal;
    p.what = what;
    conn!.write(out).catch(this.#onWriteError);
    if (!this.#reading) {
      this.#reading = true;
      void this.#readLoop(conn!);
    }
    return promise;
  }

  #onWriteError = (e: Error): void => this.#lost(`write failed: ${e.message}`);

  /**
   * Ends the pending request and returns how to fail it: its `reject`, or (with `onFail`) a
   * function that settles it through `onFail`. Its fields are read before the next request
   * may refill them.
   */
  #end(): Pending["reject"] {
    const p = this.#p;
    p.active = false;
    const reject = p.reject;
    const onFail = p.onFail;
    if (onFail === undefined) {
      p.a = p.b = undefined;
      this.#settled();
      return reject;
    }
    const resolve = p.resolve, a = p.a, b = p.b;
    p.a = p.b = p.onFail = undefined;
    this.#settled();
    return (e: Error) => {
      try {
        resolve(onFail(e, a, b));
      } catch (x) {
        reject(x as Error);
      }
    };
  }

  #sweep(): void {
    const now = this.#clock = performance.now();
    const p = this.#p;
    if (!p.active) return;
    const what = p.what;
    if (p.signal.aborted) {
      this.#end()(new BifrostError("TIMEOUT", `The ${what} to ${this.#where()} was cancelled`));
    } else if (now >= p.deadline) {
      this.#end()(
        new BifrostError(
          "TIMEOUT",
          `No reply from ${this.#where()} to a ${what} within ${this.#o.timeoutMs} ms`,
        ),
      );
    }
  }

  /**
   * Reads while a request is on the wire, as a raw request-reply loop does: a read kept pending
   * between requests costs every request a few percent of its round trip under Deno (and
   * holds its promises between polls). The price: a controller that closes the connection
   * between polls is found by the next request (or the keep-alive), not at once.
   */
  async #readLoop(conn: Deno.Conn): Promise<void> {
    try {
      for (;;) {
        if (this.#have === this.#buf.length) {
          const bigger = new Uint8Array(this.#buf.length * 2);
          bigger.set(this.#buf);
          this.#buf = bigger;
        }
        const buf = this.#buf;
        const n = await conn.read(this.#have === 0 ? buf : buf.subarray(this.#have));
        if (n === null) return this.#lost("the controller closed the connection");
        this.#have += n;
        let at = 0;
        while (this.#have - at >= HEADER_SIZE) {
          const len = HEADER_SIZE + (buf[at + 2]! | (buf[at + 3]! << 8));
          if (this.#have - at < len) break;
          // Frames are parsed in place: a reply borrowed by `requestWith` is used up before
          // the next frame is looked at.
          this.#deliver(buf, at, len);
          at += len;
        }
        if (at === this.#have) this.#have = 0;
        else if (at > 0) {
          buf.copyWithin(0, at, this.#have);
          this.#have -= at;
        }
        // Nothing on the wire and nothing half read: the loop ends, the next request starts
        // it again (see `#readLoop`).
        if (!this.#p.active && this.#have === 0) {
          this.#reading = false;
          return;
        }
      }
    } catch (e) {
      this.#lost(`read failed: ${(e as Error).message}`);
    }
  }

  /** Checks a reply frame (`len` bytes at `at` of `b`) against the pending request and settles it. */
  #deliver(b: Uint8Array, at: number, len: number): void {
    const p = this.#p;
    if (!p.active) return; // a late reply to a request that timed out
    const command = b[at]! | (b[at + 1]! << 8);
    const status = (b[at + 8]! | (b[at + 9]! << 8) | (b[at + 10]! << 16) | (b[at + 11]! << 24)) >>>
      0;
    if (status !== 0) {
      return this.#end()(
        new BifrostError(
          "DEVICE_EXCEPTION",
          `${this.#where()} refused the request: encapsulation status 0x${status.toString(16)}`,
          { details: { protocol: "ethernet-ip", code: status, name: "encapsulation error" } },
        ),
      );
    }
    const session = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>>
      0;
    if (p.sequence !== -1 && session !== this.#session) {
      return this.#end()(
        new RangeError(
          `${this.#where()} answered for session 0x${session.toString(16)}, ours is 0x${
            this.#session.toString(16)
          }`,
        ),
      );
    }
    if (command === COMMANDS.SEND_RR_DATA && p.sequence < -1) {
      const context = (b[at + 12]! | (b[at + 13]! << 8) | (b[at + 14]! << 16) |
        (b[at + 15]! << 24)) >>> 0;
      if (context !== -1 - p.sequence) return; // a reply to an earlier, timed-out request
    }
    // A connected request takes SendUnitData only; any other request anything but: a stray
    // frame of the other kind (a late reply across a fallback) is dropped, not taken as ours.
    if ((command === COMMANDS.SEND_UNIT_DATA) !== (p.sequence >= 0)) return;
    let v: unknown;
    if (p.sequence >= 0) {
      const seq = b[at + HEADER_SIZE + 20]! | (b[at + HEADER_SIZE + 21]! << 8);
      if (seq !== p.sequence) return; // a reply to an earlier, timed-out request
      try {
        v = this.#connected(b, at, len, p);
      } catch (e) {
        return this.#end()(e as Error);
      }
    } else {
      const f = b.slice(at, at + len);
      try {
        v = p.map ? p.map(f) : f;
      } catch (e) {
        return this.#end()(e as Error);
      }
    }
    const resolve = p.resolve;
    p.onFail = undefined;
    this.#end();
    resolve(v);
  }

  /** A SendUnitData reply of our connection, handed to the pending request's `onReply`. */
  #connected(b: Uint8Array, at: number, len: number, p: Pending): unknown {
    const h = at + HEADER_SIZE;
    // The Message Router reply is read where it lies, `m` to `end` of `buf`: the reply's data
    // is the one view made of the frame.
    let buf = b, m: number, end: number;
    // The usual layout (connected address of 4 bytes, then a data item that fills the frame)
    // without parsing; anything else goes through the CPF parser, which checks every length.
    if (
      len >= HEADER_SIZE + 22 && b[h + 6] === 2 && b[h + 7] === 0 &&
      b[h + 8] === ITEMS.CONNECTED_ADDRESS && b[h + 9] === 0 && b[h + 10] === 4 &&
      b[h + 16] === ITEMS.CONNECTED_DATA && b[h + 17] === 0 &&
      (b[h + 18]! | (b[h + 19]! << 8)) === len - HEADER_SIZE - 20
    ) {
      const id = (b[h + 12]! | (b[h + 13]! << 8) | (b[h + 14]! << 16) | (b[h + 15]! << 24)) >>> 0;
      if (id !== this.#toId) throw this.#otherConnection(id);
      m = h + 22;
      end = at + len;
    } else {
      const items = readCpf(b.subarray(h, at + len));
      const addr = items.find((i) => i.type === ITEMS.CONNECTED_ADDRESS);
      const item = items.find((i) => i.type === ITEMS.CONNECTED_DATA);
      if (!addr || addr.data.length !== 4 || !item || item.data.length < 2) {
        throw new RangeError("the SendUnitData reply has no connected address or data");
      }
      const d = addr.data;
      const id = (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0;
      if (id !== this.#toId) throw this.#otherConnection(id);
      buf = item.data;
      m = 2;
      end = buf.length;
    }
    if (end - m < 4) throw new RangeError(`a CIP reply of ${end - m} bytes is too short`);
    const r = this.#reply;
    const ext = buf[m + 3]!;
    if (ext === 0) {
      r.extended = NO_EXTENDED;
      r.data = buf.subarray(m + 4, end);
    } else {
      if (4 + ext * 2 > end - m) {
        throw new RangeError("the CIP reply's extended status is cut short");
      }
      r.extended = [];
      for (let i = m + 4; i < m + 4 + ext * 2; i += 2) {
        r.extended.push(buf[i]! | (buf[i + 1]! << 8));
      }
      r.data = buf.subarray(m + 4 + ext * 2, end);
    }
    r.service = buf[m]! & 0x7f;
    r.status = buf[m + 2]!;
    return p.onReply!(r, p.a, p.b);
  }

  #otherConnection(id: number): RangeError {
    return new RangeError(
      `${this.#where()} answered on connection 0x${id.toString(16)}, ours is 0x${
        this.#toId.toString(16)
      }`,
    );
  }

  #lost(reason: string): void {
    if (this.#closed) return;
    this.close();
    this.#o.onLost?.(reason);
  }

  /** Forward Close and UnRegisterSession, best effort, then closes the socket. */
  async closeGracefully(): Promise<void> {
    if (this.#closed) return;
    if (this.isConnected && this.#triad) {
      await this.#unconnected(
        forwardClose(this.#triad, this.#route),
        AbortSignal.timeout(500),
        "Forward Close",
      ).catch(() => {});
    }
    const out = new Uint8Array(HEADER_SIZE);
    new DataView(out.buffer).setUint16(0, COMMANDS.UNREGISTER_SESSION, true);
    new DataView(out.buffer).setUint32(4, this.#session, true);
    await this.#conn?.write(out).catch(() => {});
    this.close();
  }

  /** Closes the socket at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.isConnected = false;
    clearInterval(this.#keepAlive);
    clearInterval(this.#sweeper);
    for (const w of this.#waiting.splice(0)) void w();
    try {
      this.#conn?.close();
    } catch { /* closed already */ }
    if (this.#p.active) {
      this.#end()(
        new BifrostError("NOT_CONNECTED", `The connection to ${this.#where()} is closed`),
      );
    }
  }
}

/** The caller's own copy of a borrowed reply (`request`). */
function ownReply(r: Reply): Reply {
  return {
    service: r.service,
    status: r.status,
    extended: r.extended === NO_EXTENDED ? [] : r.extended,
    data: r.data.slice(),
  };
}

async function abortable<T>(
  p: Promise<T>,
  signal: AbortSignal,
  dispose: (v: T) => void,
): Promise<T> {
  if (signal.aborted) {
    p.then(dispose, () => {});
    throw signal.reason;
  }
  const { promise, reject } = Promise.withResolvers<never>();
  const on = () => reject(signal.reason);
  signal.addEventListener("abort", on, { once: true });
  try {
    return await Promise.race([p, promise]);
  } catch (e) {
    p.then(dispose, () => {});
    throw e;
  } finally {
    signal.removeEventListener("abort", on);
  }
}
