/**
 * @module
 * The Modbus driver, whatever the transport: one {@linkcode ModbusTransport} per device (the Modbus TCP client, or a
 * slave's share of an RTU line), read plans from the planner, values from the codec, requests
 * and reads through an {@linkcode Exchanger}. A Modbus exception or a timeout fails only the
 * tags of the request concerned; a lost connection fails the whole read with `NOT_CONNECTED`.
 *
 * Without `pipelining` the client keeps one request on the wire (and the engine one call in
 * flight) whatever `maxInFlight` says. Register bits are written with FC22; when the device
 * answers "Illegal function" (or `workarounds.noFc22` is set) the driver remembers it and
 * writes them by read-modify-write (FC3, then FC6, or FC23 with `workarounds.fc23`). That
 * read-modify-write is not atomic: a PLC changing another bit of the register in between
 * loses that change.
 */

import {
  BifrostError,
  type DeviceConfig,
  type Driver,
  type DriverContext,
  isBifrostError,
  type ReadPlan,
  type ReadSink,
  ResultArraySink,
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import { formatAddress } from "./address.ts";
import { Exchanger } from "./driver_exchange.ts";
import type { ModbusTransport } from "./transport.ts";
import {
  maskWriteRegisterRequest,
  readRequest,
  readWriteMultipleRegistersRequest,
  writeSingleRegisterRequest,
} from "./pdu.ts";
import { ModbusReadPlan, planRead } from "./planner.ts";
import { deviceFields, type ResolvedDeviceFields, type ResolvedTag, resolveTag } from "./tags.ts";
import { toBool } from "./values.ts";
import { writeRequest } from "./write.ts";
import { checkWrite } from "./write_check.ts";

export { decodeItem } from "./write.ts";

function configError(device: string, e: unknown): BifrostError {
  return new BifrostError(
    "CONFIG_INVALID",
    `Cannot plan device "${device}": ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}

/** Resolves a device's fields; a bad value is a `CONFIG_INVALID` naming the device. */
export function resolveDeviceFields(
  device: DeviceConfig,
  kind: "tcp" | "rtu" = "tcp",
): ResolvedDeviceFields {
  try {
    return deviceFields(device.config, kind);
  } catch (e) {
    throw configError(device.name, e);
  }
}

/** Opens the transport of a device; throws `DEVICE_UNREACHABLE`. */
export type TransportOpener = (signal: AbortSignal) => Promise<ModbusTransport>;

/** The driver of one Modbus device, whatever carries its PDUs. */
export class ModbusDriver implements Driver {
  readonly maxInFlight: number;
  readonly #device: DeviceConfig;
  readonly #ctx: DriverContext;
  readonly #fields: ResolvedDeviceFields;
  readonly #open: TransportOpener;
  readonly #io: Exchanger;
  #client: ModbusTransport | undefined;
  /** The signal watched for the open transport's requests (see `#requestSignal`). */
  #hooked: AbortSignal | undefined;
  /** Set once the device answered FC22 with "Illegal function" (or noFc22 says so). */
  #noFc22: boolean;

  constructor(
    device: DeviceConfig,
    ctx: DriverContext,
    fields: ResolvedDeviceFields,
    open: TransportOpener,
  ) {
    this.#device = device;
    this.#ctx = ctx;
    this.#fields = fields;
    this.#open = open;
    this.maxInFlight = this.#fields.wireInFlight;
    this.#noFc22 = this.#fields.workarounds.noFc22 === true;
    this.#io = new Exchanger(
      device.name,
      fields.unitId,
      fields.retry,
      ctx.clock,
      fields.wireInFlight > 1,
    );
  }

  /** The open transport, for tests and statistics. */
  get transport(): ModbusTransport | undefined {
    return this.#client;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.close();
    this.#client = await this.#open(signal);
    this.#ctx.log.debug("Connected", { device: this.#device.name });
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (this.#hooked) {
      this.#hooked.removeEventListener("abort", this.#onAbort);
      this.#hooked = undefined;
    }
    if (c) await c.close();
  }

  plan(tags: readonly TagConfig[]): ModbusReadPlan {
    let resolved: ResolvedTag[];
    try {
      resolved = tags.map((t) => resolveTag(t, this.#fields.tagContext));
    } catch (e) {
      throw configError(this.#device.name, e);
    }
    if (this.#fields.unitId === 0 && tags.length > 0) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot plan a read of "${this.#device.name}": unitId 0 is the broadcast address, which nobody answers; its tags can only be written`,
      );
    }
    return planRead(tags, resolved, this.#fields);
  }

  #connected(action: string): ModbusTransport {
    const c = this.#client;
    if (!c || !c.connected) {
      throw new BifrostError(
        "NOT_CONNECTED",
        `Cannot ${action} on "${this.#device.name}": not connected`,
      );
    }
    return c;
  }

  /**
   * The signal to pass with each request. Adding and removing an abort listener per request
   * costs more than the rest of a request under Deno, and the engine passes one signal (the
   * device's) to every call: so the first signal a connection sees gets one listener, which
   * on abort rejects the requests sent without a signal (`abortUnsignalled`), and requests
   * under it pass none. Requests under any other signal pass theirs.
   */
  #requestSignal(signal: AbortSignal): AbortSignal | undefined {
    if (signal === this.#hooked) return undefined;
    if (this.#hooked !== undefined || signal.aborted || !this.#client?.abortUnsignalled) {
      return signal;
    }
    this.#hooked = signal;
    signal.addEventListener("abort", this.#onAbort, { once: true });
    return undefined;
  }

  #onAbort = (): void => {
    const signal = this.#hooked;
    this.#hooked = undefined;
    if (signal) this.#client?.abortUnsignalled?.(signal.reason);
  };

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    const sink = new ResultArraySink(plan.tags.length);
    await this.readInto(plan, signal, sink);
    return sink.results;
  }

  /**
   * Reads `plan`, handing each tag's value or failure to `sink` (see `Exchanger.readInto`
   * for what fails a tag and what throws). Decodes straight from the response PDUs: no
   * object per tag.
   */
  readInto(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void> {
    if (!(plan instanceof ModbusReadPlan)) {
      return Promise.reject(
        new TypeError("Cannot read a plan that the Modbus driver did not make"),
      );
    }
    let client: ModbusTransport;
    try {
      client = this.#connected("read");
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#io.readInto(client, plan, this.#requestSignal(signal), signal, sink);
  }

  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    let t: ResolvedTag;
    try {
      t = resolveTag(tag, this.#fields.tagContext);
    } catch (e) {
      throw configError(this.#device.name, e);
    }
    const where = formatAddress({ table: t.table, offset: t.start, ...bitOf(t) });
    const what = `write ${where} ("${tag.name}")`;
    const rejected = (e: unknown) =>
      new BifrostError(
        "WRITE_REJECTED",
        `Cannot ${what} on "${this.#device.name}": ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    if (t.table === "IR" || t.table === "DI") {
      throw rejected(`${t.table} is a read-only table`);
    }
    checkWrite(t, tag, this.#device.name, value);
    if (t.bit !== undefined) {
      let on: boolean;
      try {
        on = toBool(Array.isArray(value) && value.length === 1 ? value[0]! : value);
      } catch (e) {
        throw rejected(e);
      }
      await this.#writeBit(this.#connected(what), t, on, what, this.#requestSignal(signal));
      return;
    }
    let pdu: Uint8Array;
    try {
      pdu = writeRequest(t, value);
    } catch (e) {
      throw rejected(e);
    }
    await this.#io.exchange(this.#connected(what), pdu, what, this.#requestSignal(signal));
  }

  async #writeBit(
    client: ModbusTransport,
    t: ResolvedTag,
    on: boolean,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const mask = 1 << t.bit!;
    if (this.#fields.unitId === 0 && this.#noFc22) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot ${what} on "${this.#device.name}": a register bit can be broadcast only with FC22 (mask write), and workarounds.noFc22 is set`,
      );
    }
    if (!this.#noFc22) {
      try {
        const pdu = maskWriteRegisterRequest(t.start, ~mask & 0xffff, on ? mask : 0);
        await this.#io.exchange(client, pdu, what, signal);
        return;
      } catch (e) {
        if (!isBifrostError(e, "DEVICE_EXCEPTION") || e.details.code !== 1) throw e;
        this.#noFc22 = true;
        this.#ctx.log.info("Device lacks FC22; writing register bits by read-modify-write", {
          device: this.#device.name,
        });
      }
    }
    const data = await this.#io.exchange(client, readRequest(3, t.start, 1), what, signal);
    const word = (data[0]! << 8) | data[1]!;
    const next = on ? word | mask : word & ~mask;
    if (this.#fields.workarounds.fc23 !== true) {
      await this.#io.exchange(client, writeSingleRegisterRequest(t.start, next), what, signal);
      return;
    }
    const bytes = new Uint8Array([next >> 8, next & 0xff]);
    const back = await this.#io.exchange(
      client,
      readWriteMultipleRegistersRequest(t.start, 1, t.start, bytes),
      what,
      signal,
    );
    const got = (((back[0]! << 8) | back[1]!) & mask) !== 0;
    if (got !== on) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot ${what} on "${this.#device.name}": the register read back with the bit ${
          got ? "set" : "clear"
        } after FC23 wrote it ${on ? "set" : "clear"}`,
      );
    }
  }
}

function bitOf(t: ResolvedTag): { bit?: number } {
  return t.bit === undefined ? {} : { bit: t.bit };
}
