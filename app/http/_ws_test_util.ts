/**
 * @module
 * WebSocket clients for the live-data tests and benchmark: {@linkcode WsClient} wraps a
 * real `WebSocket` with a message queue, and {@linkcode RawWsClient} speaks the protocol
 * over a bare TCP connection so that a test decides when (and whether) it reads: a client
 * that never reads, whose TCP window fills up, as a stuck dashboard does.
 */

/** A JSON message of the live-data API. */
// deno-lint-ignore no-explicit-any
export type Msg = Record<string, any>;

/** A `WebSocket` whose JSON messages are awaited in order. */
export class WsClient implements AsyncDisposable {
  readonly ws: WebSocket;
  #queue: Msg[] = [];
  #waiters: ((m: Msg) => void)[] = [];
  /** Called on every message, before it is queued (the benchmark's latency probe). */
  onMessage: ((m: Msg) => boolean | void) | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (this.onMessage?.(m) === false) return;
      const w = this.#waiters.shift();
      if (w) w(m);
      else this.#queue.push(m);
    };
  }

  /** Connects to `url` (`ws://…/ws`). */
  static async connect(url: string): Promise<WsClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = (e) =>
        reject(new Error(`cannot connect to ${url}: ${(e as ErrorEvent).message}`));
    });
    return new WsClient(ws);
  }

  /** Sends a message. */
  send(m: Msg): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The next message (rejects after `ms`). */
  next(ms = 5000): Promise<Msg> {
    const m = this.#queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`no message within ${ms} ms`));
      }, ms);
      const w = (x: Msg) => {
        clearTimeout(t);
        resolve(x);
      };
      this.#waiters.push(w);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => this.ws.onclose = r);
    this.ws.close();
    await closed;
  }
}

/** A WebSocket client over a bare TCP connection, reading only when asked. */
export class RawWsClient implements AsyncDisposable {
  #buf = new Uint8Array(0);
  /** Bytes of frames read so far. */
  bytesRead = 0;

  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects and upgrades `GET path`. */
  static async connect(port: number, path = "/ws"): Promise<RawWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const c = new RawWsClient(conn);
    await c.#write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Version: 13\r\n\r\n`,
    ));
    for (;;) {
      const text = new TextDecoder().decode(c.#buf);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        if (!text.startsWith("HTTP/1.1 101")) throw new Error(`upgrade refused: ${text}`);
        c.#buf = c.#buf.slice(end + 4);
        return c;
      }
      await c.#fill();
    }
  }

  async #write(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }

  async #fill(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.conn.read(chunk);
    if (n === null) throw new Error("connection closed");
    const merged = new Uint8Array(this.#buf.length + n);
    merged.set(this.#buf);
    merged.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = merged;
  }

  /** Sends a masked text frame. */
  async send(m: Msg): Promise<void> {
    const payload = new TextEncoder().encode(JSON.stringify(m));
    if (payload.length > 65535) throw new RangeError("test frames stay under 64 KiB");
    const head = payload.length < 126 ? [0x81, 0x80 | payload.length] : [
      0x81,
      0x80 | 126,
      payload.length >> 8,
      payload.length & 255,
    ];
    const mask = [1, 2, 3, 4];
    const frame = new Uint8Array(head.length + 4 + payload.length);
    frame.set(head);
    frame.set(mask, head.length);
    for (let i = 0; i < payload.length; i++) {
      frame[head.length + 4 + i] = payload[i]! ^ mask[i % 4]!;
    }
    await this.#write(frame);
  }

  /** The next text message (server frames are unmasked and, here, never fragmented). */
  async next(): Promise<Msg> {
    for (;;) {
      const b = this.#buf;
      if (b.length >= 2) {
        let len = b[1]! & 127;
        let off = 2;
        if (len === 126 && b.length >= 4) {
          len = (b[2]! << 8) | b[3]!;
          off = 4;
        } else if (len === 127 && b.length >= 10) {
          len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
          off = 10;
        }
        if ((len < 126 || off > 2) && b.length >= off + len) {
          const text = new TextDecoder().decode(b.subarray(off, off + len));
          this.#buf = b.slice(off + len);
          this.bytesRead += off + len;
          const op = b[0]! & 15;
          if (op === 1) return JSON.parse(text);
          if (op === 8) {
            const code = len >= 2 ? (b[off]! << 8) | b[off + 1]! : 1005;
            return { type: "close", code };
          }
          continue; // ping or other control frame
        }
      }
      await this.#fill();
    }
  }

  /**
   * Reads (and drops) messages until the connection ends: the close frame's code, or
   * "closed" when the connection ended without one (closed or reset by the server).
   */
  async readUntilClose(): Promise<number | "closed"> {
    try {
      for (;;) {
        const m = await this.next();
        if (m.type === "close") return m.code;
      }
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionReset || /connection closed/.test(String(e))) {
        return "closed";
      }
      throw e;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.conn.close();
    } catch { /* already closed */ }
    return Promise.resolve();
  }
}
