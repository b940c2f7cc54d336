/**
 * @module
 * An in-memory driver with the driver contract V2's optional members (`browse`, `subscribe`,
 * `valueKind`, `subscribeSpec`), and its device, to run the conformance suite's own cases
 * against: the V2 cases have no real driver to run on until a push driver (OPC UA) lands.
 * Not registered; nothing outside the suite's self-test uses it.
 */

import { Type } from "@sinclair/typebox";
import type {
  DeviceConfig,
  Driver,
  DriverModule,
  ReadPlan,
  ReadSink,
  Subscription,
  TagConfig,
  TagResult,
} from "../../engine/driver.ts";
import { BifrostError } from "../../engine/errors.ts";
import type { Value } from "../../engine/record.ts";
import type { BrowseNodeV2, ConformanceSimulator, ValueKind } from "./driver.ts";

/** A device in memory: values by address, faults, push listeners. */
class MemoryDevice {
  values = new Map<string, Value>();
  failing = new Set<string>();
  silent = false;
  on = true;
  listeners = new Set<(address: string, value: Value) => void>();
  set(address: string, value: Value): void {
    this.values.set(address, value);
    for (const l of this.listeners) l(address, value);
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
    silence: (on) => void (d.silent = on),
    stop: () => Promise.resolve(void (d.on = false)),
    start: () => Promise.resolve(void (d.on = true)),
    close,
    [Symbol.asyncDispose]: close,
  });
}

/** V2 shapes of `subscribe`/`browse`: not `implements Driver` while engine/driver.ts is V1. */
class MemoryDriver {
  readonly maxInFlight = 1;
  #device: DeviceConfig;
  #connected: MemoryDevice | undefined;
  constructor(device: DeviceConfig) {
    this.#device = device;
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
    this.#connected = d;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.#connected = undefined;
    return Promise.resolve();
  }
  plan(tags: readonly TagConfig[]): ReadPlan {
    return { tags, describe: () => [`read ${tags.map((t) => `${t.address} (${t.name})`)}`] };
  }
  async #live(signal: AbortSignal): Promise<MemoryDevice> {
    const d = this.#connected;
    if (!d?.on) throw new BifrostError("NOT_CONNECTED", `Cannot read ${this.#where}: gone`);
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
        : { ok: true, value: d.values.get(t.address) ?? null, sourceTs: Date.now() }
    );
  }
  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    const d = await this.#live(signal);
    if (tag.address.startsWith("ro:")) {
      throw new BifrostError("WRITE_REJECTED", `Cannot write ${tag.address}: read-only`);
    }
    d.set(tag.address, value);
  }
  subscribe(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
  ): Promise<Subscription> {
    const d = this.#connected;
    if (!d) return Promise.reject(new BifrostError("NOT_CONNECTED", "Not connected"));
    const listener = (address: string, value: Value) => {
      plan.tags.forEach((t, i) => t.address === address && sink.value(i, value, Date.now()));
    };
    d.listeners.add(listener);
    const close = () => Promise.resolve(void d.listeners.delete(listener));
    signal.addEventListener("abort", () => void close(), { once: true });
    return Promise.resolve({ close });
  }
  browse(node: string | undefined): Promise<BrowseNodeV2[]> {
    const d = this.#connected!;
    if (node === undefined) return Promise.resolve([{ id: "all", name: "All", hasChildren: true }]);
    return Promise.resolve(
      [...d.values.keys()].map((a) => ({ id: a, name: a, hasChildren: false, address: a })),
    );
  }
}

/** The in-memory driver module (V2 members included). */
export const memoryModule: DriverModule & {
  valueKind(tag: TagConfig): ValueKind;
  subscribeSpec: unknown;
} = {
  name: "memory",
  description: "In-memory driver of the conformance suite's self-test.",
  status: "experimental",
  deviceSpec: Type.Object({ id: Type.String(), timeoutMs: Type.Number() }),
  tagSpec: Type.Object({ address: Type.String(), type: Type.String() }),
  create: (device) => new MemoryDriver(device) as unknown as Driver,
  valueKind: (tag) => tag.type === "bool" ? "boolean" : tag.type === "string" ? "string" : "float",
  subscribeSpec: Type.Object({}),
};
