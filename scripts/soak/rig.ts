/**
 * @module
 * What the gateway under soak talks to, all in the soak process except mosquitto: one
 * Modbus simulator per device behind its netem proxy (so that it can be restarted on the
 * same port or blackholed), the control device whose `mode` register the soak writes
 * through a Modbus client (modbus-serial, an independent one), a real mosquitto with
 * persistence, and an MQTT subscriber with a persistent session that records every
 * sequence number it receives, per device.
 */

import ModbusSerial from "modbus-serial";
import mqtt, { type MqttClient } from "mqtt";
import { type ModbusSimulator, startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { type NetemProxy, startNetemProxy } from "../../simulators/netem/mod.ts";
import { Mosquitto } from "../../sinks/mqtt/_mosquitto.ts";
import { receive, type Received } from "./accounting.ts";
import { deviceName, devicePoints, MODE_REGISTER } from "./flow.ts";

/** One soak device: its simulator (replaced on restart) and its proxy. */
export interface SoakDevice {
  name: string;
  sim: ModbusSimulator;
  /** The simulator's own port, kept across restarts. */
  simPort: number;
  proxy: NetemProxy;
  /** Down between the close and the restart of a `restart` fault. */
  down: boolean;
}

/** Starts a simulator of a soak device, on `port` (retried while the port is still taken). */
export async function startDeviceSim(port = 0): Promise<ModbusSimulator> {
  for (let attempt = 0;; attempt++) {
    try {
      return await startModbusSimulator({ port, units: { 1: devicePoints() } });
    } catch (e) {
      if (attempt >= 50 || !(e instanceof Deno.errors.AddrInUse)) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts `n` devices, each behind its proxy. */
export async function startDevices(n: number): Promise<SoakDevice[]> {
  const out: SoakDevice[] = [];
  for (let i = 0; i < n; i++) {
    const sim = await startDeviceSim();
    const proxy = await startNetemProxy({ target: { host: "127.0.0.1", port: sim.port } });
    out.push({ name: deviceName(i), sim, simPort: sim.port, proxy, down: false });
  }
  return out;
}

/** Closes a device's simulator and starts it again on the same port after `downMs`. */
export async function restartDevice(
  d: SoakDevice,
  downMs: number,
  signal: AbortSignal,
): Promise<void> {
  d.down = true;
  await d.sim.close();
  try {
    await sleep(downMs, signal);
  } finally {
    d.sim = await startDeviceSim(d.simPort);
    d.down = false;
  }
}

/** The control device (no proxy: the soak must always reach it). */
export function startControlSim(): Promise<ModbusSimulator> {
  return startModbusSimulator({ units: { 1: { [`HR${MODE_REGISTER}`]: { type: "uint16" } } } });
}

/** Writes the function's mode on the control device through a Modbus TCP client. */
export async function writeMode(port: number, mode: number): Promise<void> {
  const client = new ModbusSerial.default();
  try {
    await client.connectTCP("127.0.0.1", { port });
    client.setID(1);
    client.setTimeout(2_000);
    await client.writeRegister(MODE_REGISTER, mode);
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
}

/** The soak's mosquitto: persistence on, so a persistent subscriber loses nothing on restart. */
export function startBroker(): Promise<Mosquitto> {
  return Mosquitto.start({ persistence: true });
}

/** The MQTT side of the accounting. */
export interface SoakSubscriber {
  received: Received;
  /** Messages received (with duplicates). */
  messages: number;
  /** Of which marked historical. */
  historical: number;
  /** Payloads that did not parse or had no seq. */
  malformed: number;
  close(): Promise<void>;
}

/**
 * Subscribes to `soak/#` at QoS 1 with a persistent session (`clean: false`, fixed client
 * id): what is published while the subscriber reconnects after a broker restart is queued
 * for it by the broker, so a miss is a loss, not a subscriber artefact.
 */
export async function subscribe(url: string): Promise<SoakSubscriber> {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId: "soak-subscriber",
    clean: false,
    reconnectPeriod: 200,
  });
  const s: SoakSubscriber = {
    received: new Map(),
    messages: 0,
    historical: 0,
    malformed: 0,
    close: () => client.endAsync(true),
  };
  client.on("message", (topic, buf) => {
    s.messages++;
    const device = topic.split("/")[1] ?? "";
    try {
      const body = JSON.parse(buf.toString()) as { seq?: unknown; historical?: unknown };
      if (typeof body.seq !== "number") throw new Error("no seq");
      if (body.historical === true) s.historical++;
      receive(s.received, device, body.seq);
    } catch {
      s.malformed++;
    }
  });
  client.on("error", () => {/* reconnects by itself */});
  await client.subscribeAsync("soak/#", { qos: 1 });
  return s;
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
