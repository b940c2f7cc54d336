/**
 * @module
 * A push driver for tests of the driver contract's `subscribe()`, and the tiny in-process
 * push server it talks to. The server keeps tag values by address, pushes every change to
 * the subscriptions that hold the tag, counts live subscriptions (and their peak, which a
 * driver subscribed twice at once would raise above the number of polls), and can go down
 * (every connection dropped, connects refused) and come back. The driver follows the
 * contract: connect refuses with `DEVICE_UNREACHABLE`, a dropped connection is reported
 * through `connectionLost`, subscribe throws `NOT_CONNECTED` without a connection, and the
 * first values of a subscription are the current ones (as OPC UA sends them).
 */

import { Type } from "@sinclair/typebox";
import type { Clock } from "../clock.ts";
import type {
  Driver,
  DriverContext,
  DriverModule,
  ReadPlan,
  ReadSink,
  Subscription,
  TagConfig,
  TagResult,
  ValueKind,
} from "../driver.ts";
import { BifrostError } from "../errors.ts";
import type { Value } from "../record.ts";

type Listener = (address: string, value: Value) => void;

/** One client connection to a {@linkcode PushServer}. */
class PushConnection {
  open = true;
  readonly subs = new Map<number, Listener>();
  onDrop: (() => void) | undefined;

  constructor(readonly server: PushServer) {}

  drop(): void {
    if (!this.open) return;
    this.open = false;
    this.subs.clear();
    this.onDrop?.();
  }
}

/** The in-process push server. */
export class PushServer {
  readonly values = new Map<string, Value>();
  #up = true;
  #conns = new Set<PushConnection>();
  #nextId = 1;
  /** Subscriptions made, ever. */
  subscribes = 0;
  /** The most subscriptions live at once. */
  peakLive = 0;
  /** The next subscribe fails with this error (once). */
  refuseNext: BifrostError | undefined;
  /** Closing a subscription never finishes (a driver stuck on a dead connection). */
  hangClose = false;
  /** Addresses whose values the server vouches for only in part, with the reason. */
  readonly uncertain = new Map<string, string>();

  /** Subscriptions live now, over every connection. */
  get live(): number {
    let n = 0;
    for (const c of this.#conns) n += c.subs.size;
    return n;
  }

  /** Open connections. */
  get connections(): number {
    return this.#conns.size;
  }

  connect(): PushConnection {
    if (!this.#up) {
      throw new BifrostError("DEVICE_UNREACHABLE", "Cannot connect to the push server: it is down");
    }
    const c = new PushConnection(this);
    this.#conns.add(c);
    return c;
  }

  disconnect(c: PushConnection): void {
    c.open = false;
    c.subs.clear();
    this.#conns.delete(c);
  }

  subscribe(c: PushConnection, listener: Listener): number {
    if (!c.open) throw new BifrostError("NOT_CONNECTED", "Cannot subscribe: connection closed");
    const refused = this.refuseNext;
    if (refused) {
      this.refuseNext = undefined;
      throw refused;
    }
    const id = this.#nextId++;
    c.subs.set(id, listener);
    this.subscribes++;
    this.peakLive = Math.max(this.peakLive, this.live);
    return id;
  }

  unsubscribe(c: PushConnection, id: number): void {
    c.subs.delete(id);
  }

  /** Sets a value and pushes it to every subscription. */
  set(address: string, value: Value): void {
    this.values.set(address, value);
    for (const c of this.#conns) for (const l of c.subs.values()) l(address, value);
  }

  /** Goes down: every connection dropped, connects refused until {@linkcode up}. */
  down(): void {
    this.#up = false;
    const conns = [...this.#conns];
    this.#conns.clear();
    for (const c of conns) c.drop();
  }

  /** Comes back. */
  up(): void {
    this.#up = true;
  }
}

/** Servers by the name a test device gives in `server:`. */
export const pushServers = new Map<string, PushServer>();

const KINDS: Record<string, ValueKind> = {
  float: "float",
  int: "integer",
  bool: "boolean",
  string: "string",
};

class PushDriver implements Driver {
  readonly maxInFlight = 1;
  #conn: PushConnection | undefined;

  constructor(readonly server: PushServer, readonly ctx: DriverContext, readonly clock: Clock) {}

  async connect(): Promise<void> {
    await Promise.resolve(); // as a network round trip would
    const c = this.server.connect();
    c.onDrop = () => this.ctx.connectionLost?.("the push server closed the connection");
    this.#conn = c;
  }

  close(): Promise<void> {
    if (this.#conn) this.server.disconnect(this.#conn);
    this.#conn = undefined;
    return Promise.resolve();
  }

  plan(tags: readonly TagConfig[]): ReadPlan {
    return { tags, describe: () => [`subscribe ${tags.map((t) => t.address).join(", ")}`] };
  }

  read(plan: ReadPlan): Promise<TagResult[]> {
    if (!this.#conn?.open) return Promise.reject(this.#notConnected());
    return Promise.resolve(
      plan.tags.map((t) => ({
        ok: true as const,
        value: this.server.values.get(t.address) ?? null,
        ...(this.server.uncertain.has(t.address)
          ? { uncertain: this.server.uncertain.get(t.address)! }
          : {}),
      })),
    );
  }

  write(tag: TagConfig, value: Value): Promise<void> {
    if (!this.#conn?.open) return Promise.reject(this.#notConnected());
    this.server.set(tag.address, value);
    return Promise.resolve();
  }

  async subscribe(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
    _options: Record<string, unknown>,
  ): Promise<Subscription> {
    await Promise.resolve(); // as a network round trip would
    const c = this.#conn;
    if (!c?.open) throw this.#notConnected();
    const index = new Map<string, number[]>();
    plan.tags.forEach((t, i) => index.set(t.address, [...(index.get(t.address) ?? []), i]));
    const id = this.server.subscribe(c, (address, value) => {
      const uncertain = this.server.uncertain.get(address);
      for (const i of index.get(address) ?? []) {
        sink.value(i, value, this.clock.now(), uncertain);
      }
    });
    // The first values of a subscription are the current ones.
    plan.tags.forEach((t, i) => {
      const v = this.server.values.get(t.address);
      if (v !== undefined) sink.value(i, v, this.clock.now(), this.server.uncertain.get(t.address));
    });
    const close = () => {
      this.server.unsubscribe(c, id);
      return this.server.hangClose ? new Promise<void>(() => {}) : Promise.resolve();
    };
    signal.addEventListener("abort", () => this.server.unsubscribe(c, id), { once: true });
    return { close };
  }

  #notConnected(): BifrostError {
    return new BifrostError("NOT_CONNECTED", "Not connected to the push server");
  }
}

/** The test push driver module (`driver: test-push`, `server: <name in pushServers>`). */
export const pushDriver: DriverModule = {
  name: "test-push",
  description: "Test driver that pushes values (tests only).",
  status: "experimental",
  deviceSpec: Type.Object({ server: Type.String({ description: "Push server name" }) }),
  tagSpec: Type.Object({
    address: Type.String({ description: "Value name on the server" }),
    type: Type.Union(Object.keys(KINDS).map((k) => Type.Literal(k)), { description: "Type" }),
  }),
  subscribeSpec: Type.Object({
    samplingMs: Type.Optional(
      Type.Integer({ minimum: 1, default: 100, description: "Sampling interval, ms" }),
    ),
  }, { additionalProperties: false }),
  create(device, ctx): Driver {
    const name = String(device.config.server);
    const server = pushServers.get(name);
    if (!server) throw new Error(`No push server "${name}" registered`);
    return new PushDriver(server, ctx, ctx.clock);
  },
  valueKind(tag) {
    const kind = KINDS[tag.type];
    if (!kind) throw new RangeError(`unknown type "${tag.type}"`);
    return kind;
  },
};
