/**
 * @module
 * A TCP proxy in front of the simulator's server, for the faults a real network has: silence
 * (bytes stop flowing, the socket stays open), slow answers (every chunk from the server is
 * held `delayMs`), dropped connections, and an address that goes away and comes back while
 * the server behind it restarts on another port.
 */

/** A running proxy. */
export class TcpProxy {
  readonly host: string;
  #port = 0;
  #target: number;
  #listener: Deno.Listener | undefined;
  #conns = new Set<Deno.Conn>();
  /** Forward nothing while true (both ways). */
  silent = false;
  /** Hold every chunk from the server this long, ms. */
  delayMs = 0;

  private constructor(host: string, target: number) {
    this.host = host;
    this.#target = target;
  }

  /** Listens on `port` (0: a free one) and forwards to `target` on the same host. */
  static start(target: number, port = 0, host = "127.0.0.1"): TcpProxy {
    const p = new TcpProxy(host, target);
    p.#listen(port);
    return p;
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#port;
  }

  /** Points new connections at another server port. */
  retarget(target: number): void {
    this.#target = target;
  }

  #listen(port: number) {
    const l = Deno.listen({ hostname: this.host, port });
    this.#listener = l;
    this.#port = (l.addr as Deno.NetAddr).port;
    (async () => {
      try {
        for await (const conn of l) void this.#serve(conn);
      } catch {
        // Listener closed.
      }
    })();
  }

  async #serve(inbound: Deno.Conn) {
    this.#conns.add(inbound);
    let outbound: Deno.Conn;
    try {
      outbound = await Deno.connect({ hostname: this.host, port: this.#target });
    } catch {
      this.#conns.delete(inbound);
      try {
        inbound.close();
      } catch { /* closed */ }
      return;
    }
    this.#conns.add(outbound);
    const pump = async (from: Deno.Conn, to: Deno.Conn, delayed: boolean) => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await from.read(buf);
          if (n === null) break;
          if (this.silent) continue;
          const chunk = buf.slice(0, n);
          if (delayed && this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
          let at = 0;
          while (at < chunk.length) at += await to.write(chunk.subarray(at));
        }
      } catch {
        // Either side closed.
      }
      for (const c of [from, to]) {
        this.#conns.delete(c);
        try {
          c.close();
        } catch { /* closed */ }
      }
    };
    void pump(inbound, outbound, false);
    void pump(outbound, inbound, true);
  }

  /** Closes every open connection (a network drop); new ones are accepted. */
  drop(): void {
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    this.#conns.clear();
  }

  /** Stops listening and drops every connection: nothing answers at the address. */
  stop(): void {
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    this.#listener = undefined;
    this.drop();
  }

  /** Listens again at the same port. */
  resume(): void {
    if (!this.#listener) this.#listen(this.#port);
  }
}
