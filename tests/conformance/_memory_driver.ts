/**
 * @module
 * An in-memory driver with every optional member of the driver contract (`browse`,
 * `subscribe`, `subscribeSpec`), and its device, to run the conformance suite's own cases
 * against: the push and browse cases have no registered driver to run on until a push
 * driver (OPC UA) lands. Switching the device off drops its connections as a network peer
 * would: the driver tells the engine through `connectionLost`. Not registered; nothing
 * outside the suite's self-test uses it.
 */

import { Type } from "@sinclair/typebox";
import type {
  BrowseNode,
  DeviceConfig,
  Driver,
  DriverContext,
  DriverModule,
  ReadPlan,
  ReadSink,
  Subscription,
  TagConfig,
  TagResult,
} from "../../engine/driver.ts";
import { BifrostError } from "../../engine/errors.ts";
import type { Value } from "../../engine/record.ts";
import type { ConformanceSimulator } from "./_driver_types.ts";

type Listener = (address: string, value: Value) => void;

/** A device in memory: values by address, faults, push listeners, open connections. */
class MemoryDevice {
  values = new Map<string, Value>();
  failing = new Set<string>();
  /** Addresses whose values are uncertain, with the reason. */
  uncertain = new Map<string, string>();
  silent = false;
  on = true;
  listeners = new Set<Listener>();
  /** Drops each open connection (its driver's side). */
  connections = new Set<() => void>();
  set(address: string, value: Value): void {
    this.values.set(address, value);
    for (const l of this.listeners) l(address, value);
  }
  off(): void {
    this.on = false;
    for (const drop of [...this.connections]) drop();
  }
}

const devices = new Map<string, MemoryDevice>();
let nextId = 0;

/** Starts an in-memory device; its connection is `{ id }`. */
export function startMemoryDevice(): Promise<ConformanceSimulator> {
  const id = `mem-${++nextId}`;
  const d = new MemoryDevice();
  devices.set(id, d);
  const close = () => {
    devices.delete(id);
    return Promise.resolve();
  };
  return Promise.resolve({
    connection: { id },
    setValue: (t, v) => d.set(t.address, v),
    getValue: (t) => d.values.get(t.address) ?? null,
    failTag(t) {
      d.failing.add(t.address);
      return () => d.failing.delete(t.address);
    },
    uncertainTag(t) {
      d.uncertain.set(t.address, "out of service");
      return () => d.uncertain.delete(t.address);
    },
    silence: (on) => void (d.silent = on),
    stop: () => Promise.resolve(d.off()),
    start: () => Promise.resolve(void (d.on = true)),
    close,
    [Symbol.asyncDispose]: close,
  });
}

/** The driver: a connection to a {@linkcode MemoryDevice}, with its subscriptions. */
class MemoryDriver implements Driver {
  readonly maxInFlight = 1;
  #device: DeviceConfig;
  #ctx: DriverContext;
  #connected: MemoryDevice | undefined;
  /** The listeners of this connection's subscriptions. */
  #listeners = new Set<Listener>();
  /** Called by the device when it is switched off: the peer closed the connection. */
  #dropped = () => {
    this.#disconnect();
    this.#ctx.connectionLost?.(`${this.#where} closed the connection`);
  };

  constructor(device: DeviceConfig, ctx: DriverContext) {
    this.#device = device;
    this.#ctx = ctx;
  }

  get #where(): string {
    return `"${this.#device.name}" (mem://${this.#device.config.id})`;
  }

  connect(): Promise<void> {
    const d = devices.get(String(this.#device.config.id));
    if (!d?.on) {
      return Promise.reject(
        new BifrostError("DEVICE_UNREACHABLE", `Cannot connect to ${this.#where}: refused`),
      );
    }
    this.#disconnect();
    d.connections.add(this.#dropped);
    this.#connected = d;
    return Promise.resolve();
  }

  #disconnect(): void {
    const d = this.#connected;
    if (!d) return;
    d.connections.delete(this.#dropped);
    for (const l of this.#listeners) d.listeners.delete(l);
    this.#listeners.clear();
    this.#connected = undefined;
  }

  close(): Promise<void> {
    this.#disconnect();
    return Promise.resolve();
  }

  plan(tags: readonly TagConfig[]): ReadPlan {
    return { tags, describe: () => [`read ${tags.map((t) => `${t.address} (${t.name})`)}`] };
  }

  #notConnected(what: string): BifrostError {
    return new BifrostError("NOT_CONNECTED", `Cannot ${what} ${this.#where}: not connected`);
  }

  async #live(signal: AbortSignal): Promise<MemoryDevice> {
    const d = this.#connected;
    if (!d?.on) throw this.#notConnected("read");
    if (d.silent) {
      const ms = Number(this.#device.config.timeoutMs);
      await new Promise((r) => setTimeout(r, ms));
      signal.throwIfAborted();
      throw new BifrostError("TIMEOUT", `Cannot read ${this.#where}: no answer in ${ms} ms`);
    }
    return d;
  }

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    const d = await this.#live(signal);
    return plan.tags.map((t): TagResult =>
      d.failing.has(t.address)
        ? {
          ok: false,
          error: new BifrostError("PROTOCOL_ERROR", `Cannot read ${t.address} on ${this.#where}`),
        }
        : {
          ok: true,
          value: d.values.get(t.address) ?? null,
          sourceTs: Date.now(),
          ...(d.uncertain.has(t.address) ? { uncertain: d.uncertain.get(t.address)! } : {}),
        }
    );
  }

  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    const d = await this.#live(signal);
    if (tag.address.startsWith("ro:")) {
      throw new BifrostError("WRITE_REJECTED", `Cannot write ${tag.address}: read-only`);
    }
    d.set(tag.address, value);
  }

  subscribe(plan: ReadPlan, sink: ReadSink, signal: AbortSignal): Promise<Subscription> {
    const d = this.#connected;
    if (!d) return Promise.reject(this.#notConnected("subscribe on"));
    const listener: Listener = (address, value) => {
      plan.tags.forEach((t, i) => t.address === address && sink.value(i, value, Date.now()));
    };
    d.listeners.add(listener);
    this.#listeners.add(listener);
    const close = () => {
      d.listeners.delete(listener);
      this.#listeners.delete(listener);
      return Promise.resolve();
    };
    signal.addEventListener("abort", () => void close(), { once: true });
    return Promise.resolve({ close });
  }

  browse(node: string | undefined): Promise<BrowseNode[]> {
    const d = this.#connected;
    if (!d) return Promise.reject(this.#notConnected("browse"));
    if (node === undefined) return Promise.resolve([{ id: "all", name: "All", hasChildren: true }]);
    return Promise.resolve(
      [...d.values.keys()].map((a) => ({ id: a, name: a, hasChildren: false, address: a })),
    );
  }
}

/** The in-memory driver module: every optional member of the contract included. */
export const memoryModule: DriverModule = {
  name: "memory",
  description: "In-memory driver of the conformance suite's self-test.",
  status: "experimental",
  deviceSpec: Type.Object({ id: Type.String(), timeoutMs: Type.Number() }),
  tagSpec: Type.Object({ address: Type.String(), type: Type.String() }),
  create: (device, ctx) => new MemoryDriver(device, ctx),
  valueKind: (tag) => tag.type === "bool" ? "boolean" : tag.type === "string" ? "string" : "float",
  subscribeSpec: Type.Object({
    samplingMs: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),
  }, { additionalProperties: false }),
};
