/**
 * @module
 * A TCP proxy that impairs the network between a client and any TCP device: latency,
 * jitter, "loss", bandwidth, forced disconnects and a blackhole. Protocol-agnostic: it
 * relays bytes, in order per direction, and never looks inside them.
 *
 * On a byte stream nothing is ever lost: TCP retransmits. What an application sees of
 * packet loss is a stall of about one retransmission timeout, so `lossRate` holds a chunk
 * (one read, up to 16 KiB) back for `lossStallMs` (default 200 ms, the Linux minimum RTO),
 * and everything behind it waits too. The blackhole models a dead device behind a live
 * network path: connections are accepted and bytes are read, but nothing is forwarded in
 * either direction, so clients see timeouts rather than refusals.
 *
 * @example
 * ```ts
 * await using proxy = await startNetemProxy({ target: { host: "127.0.0.1", port: 5020 }, latencyMs: 50 });
 * // point the client at proxy.port
 * proxy.blackhole(true);
 * ```
 */

import { checkConditions, Lane, type NetemConditions, NO_IMPAIRMENT } from "./_lane.ts";

export { type NetemConditions, NO_IMPAIRMENT } from "./_lane.ts";

/** Options of {@linkcode startNetemProxy}. */
export interface NetemProxyOptions extends Partial<NetemConditions> {
  /** Where connections go. */
  target: { host: string; port: number };
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port. Default 0 (any free port). */
  port?: number;
  /** Start blackholed. Default false. */
  blackhole?: boolean;
  /** Source of randomness in [0, 1) for jitter and loss. Default `Math.random`. */
  random?: () => number;
}

/** Counters of a proxy. */
export interface NetemStats {
  /** Connections accepted. */
  connections: number;
  /** Connections open now. */
  active: number;
  /** Bytes delivered client → target. */
  bytesUp: number;
  /** Bytes delivered target → client. */
  bytesDown: number;
  /** Chunks held back by "loss". */
  stalls: number;
  /** Bytes swallowed by the blackhole. */
  blackholed: number;
  /** Accepted connections closed because the target refused them. */
  targetFailures: number;
}

/** A running proxy. */
export interface NetemProxy extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly stats: NetemStats;
  /** The conditions in force (a copy). */
  readonly conditions: NetemConditions;
  /** Changes conditions; applies to chunks read from now on. Throws a `RangeError`. */
  set(conditions: Partial<NetemConditions>): void;
  /** Closes every client and target connection; the listener stays open. */
  disconnectAll(): Promise<void>;
  /**
   * While on, accepts but never forwards (a dead device): bytes read either way are
   * dropped. Open connections forward again when it is turned off; connections accepted
   * while on never reach the target and stay dead until closed (e.g. `disconnectAll()`).
   */
  blackhole(on: boolean): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

interface Session {
  conns: Deno.TcpConn[];
  done: Promise<void>;
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch {
    // Already closed.
  }
}

/** Starts a proxy listening on `host:port` that forwards to `target`. */
export function startNetemProxy(o: NetemProxyOptions): Promise<NetemProxy> {
  const conditions: NetemConditions = { ...NO_IMPAIRMENT };
  const pick = (c: Partial<NetemConditions>) => {
    checkConditions(c);
    for (const k of Object.keys(NO_IMPAIRMENT) as (keyof NetemConditions)[]) {
      if (c[k] !== undefined) conditions[k] = c[k];
    }
  };
  pick(o);
  const random = o.random ?? Math.random;
  const stats: NetemStats = {
    connections: 0,
    active: 0,
    bytesUp: 0,
    bytesDown: 0,
    stalls: 0,
    blackholed: 0,
    targetFailures: 0,
  };
  const up = { bytes: 0, stalls: 0 };
  const down = { bytes: 0, stalls: 0 };
  const sync = () => {
    stats.bytesUp = up.bytes;
    stats.bytesDown = down.bytes;
    stats.stalls = up.stalls + down.stalls;
  };
  let black = o.blackhole ?? false;
  const sessions = new Set<Session>();
  const listener = Deno.listen({ hostname: o.host ?? "127.0.0.1", port: o.port ?? 0 });

  /** Reads `src` into `lane` (or into the blackhole) until EOF or an error. */
  async function pump(src: Deno.TcpConn, lane: Lane | undefined): Promise<void> {
    const buf = new Uint8Array(16384);
    for (;;) {
      const n = await src.read(buf);
      if (n === null) break;
      if (black || !lane) {
        stats.blackholed += n;
        continue;
      }
      lane.push(buf.slice(0, n));
      await lane.backpressure();
    }
    lane?.push(null);
  }

  async function relay(client: Deno.TcpConn, session: Session): Promise<void> {
    if (black) {
      // A dead device: hold the connection, read and drop, never open the target.
      await pump(client, undefined).catch(() => {});
      return;
    }
    let target: Deno.TcpConn;
    try {
      target = await Deno.connect({ hostname: o.target.host, port: o.target.port });
      target.setNoDelay(true);
    } catch {
      stats.targetFailures++;
      return;
    }
    session.conns.push(target);
    const toTarget = new Lane(() => conditions, random, up);
    const toClient = new Lane(() => conditions, random, down);
    const stop = () => {
      toTarget.stop();
      toClient.stop();
      for (const c of session.conns) closeQuietly(c);
    };
    // Any error in any of the four loops tears the whole connection down; a clean EOF
    // half-closes the other side, and the session ends once both directions ended.
    const run = (p: Promise<void>) => p.catch(stop);
    await Promise.all([
      run(pump(client, toTarget)),
      run(pump(target, toClient)),
      run(toTarget.run(target)),
      run(toClient.run(client)),
    ]);
    sync();
  }

  function accept(client: Deno.TcpConn): void {
    client.setNoDelay(true);
    stats.connections++;
    stats.active++;
    const session: Session = { conns: [client], done: Promise.resolve() };
    session.done = relay(client, session).finally(() => {
      for (const c of session.conns) closeQuietly(c);
      sessions.delete(session);
      stats.active--;
      sync();
    });
    sessions.add(session);
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) accept(conn);
    } catch {
      // The listener was closed.
    }
  })();

  const disconnectAll = async () => {
    const all = [...sessions];
    for (const s of all) for (const c of s.conns) closeQuietly(c);
    await Promise.all(all.map((s) => s.done));
  };
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      closeQuietly(listener);
      await accepting;
      await disconnectAll();
    })();

  const addr = listener.addr;
  return Promise.resolve({
    host: addr.hostname,
    port: addr.port,
    get stats() {
      sync();
      return stats;
    },
    get conditions() {
      return { ...conditions };
    },
    set: pick,
    disconnectAll,
    blackhole(on: boolean) {
      black = on;
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}
