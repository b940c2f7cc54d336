/**
 * @module
 * The Modbus TCP driver: one {@linkcode ModbusTcpClient} per device, read plans from the
 * planner, values from the codec. A Modbus exception or a timeout fails only the tags of the
 * request concerned; a lost connection fails the whole read with `NOT_CONNECTED`.
 *
 * Without `pipelining` the client keeps one request on the wire (and the engine one call in
 * flight) whatever `maxInFlight` says. Register bits are written with FC22; when the device
 * answers "Illegal function" (or `workarounds.noFc22` is set) the driver remembers it and
 * writes them by read-modify-write (FC3, then FC6, or FC23 with `workarounds.fc23`). That
 * read-modify-write is not atomic: a PLC changing another bit of the register in between
 * loses that change.
 */

import type { Driver, DriverContext, ReadPlan, TagConfig, TagResult } from "../../engine/driver.ts";
import type { DeviceConfig } from "../../engine/driver.ts";
import { BifrostError, isBifrostError } from "../../engine/errors.ts";
import type { Value } from "../../engine/record.ts";
import { formatAddress } from "./address.ts";
import { ModbusTcpClient } from "./client.ts";
import {
  decodeResponse,
  exceptionName,
  maskWriteRegisterRequest,
  readRequest,
  readWriteMultipleRegistersRequest,
  writeSingleRegisterRequest,
} from "./pdu.ts";
import { ModbusReadPlan, type PlannedRequest, planRead } from "./planner.ts";
import { deviceFields, type ResolvedDeviceFields, type ResolvedTag, resolveTag } from "./tags.ts";
import { toBool } from "./values.ts";
import { decodeItem, writeRequest } from "./write.ts";

export { decodeItem } from "./write.ts";

function configError(device: string, e: unknown): BifrostError {
  return new BifrostError(
    "CONFIG_INVALID",
    `Cannot plan device "${device}": ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}

/** The driver of one Modbus TCP device. */
export class ModbusTcpDriver implements Driver {
  readonly maxInFlight: number;
  readonly #device: DeviceConfig;
  readonly #ctx: DriverContext;
  readonly #fields: ResolvedDeviceFields;
  #client: ModbusTcpClient | undefined;
  /** Set once the device answered FC22 with "Illegal function" (or noFc22 says so). */
  #noFc22: boolean;

  constructor(device: DeviceConfig, ctx: DriverContext) {
    this.#device = device;
    this.#ctx = ctx;
    try {
      this.#fields = deviceFields(device.config);
    } catch (e) {
      throw configError(device.name, e);
    }
    this.maxInFlight = this.#fields.wireInFlight;
    this.#noFc22 = this.#fields.workarounds.noFc22 === true;
  }

  /** The connected client, for tests and statistics. */
  get client(): ModbusTcpClient | undefined {
    return this.#client;
  }

  async connect(signal: AbortSignal): Promise<void> {
    await this.close();
    const f = this.#fields;
    this.#client = await ModbusTcpClient.connect({
      host: f.host,
      port: f.port,
      timeoutMs: f.timeoutMs,
      maxInFlight: f.wireInFlight,
      signal,
    });
    this.#ctx.log.debug("Connected", { device: this.#device.name, host: f.host, port: f.port });
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.close();
  }

  plan(tags: readonly TagConfig[]): ModbusReadPlan {
    let resolved: ResolvedTag[];
    try {
      resolved = tags.map((t) => resolveTag(t, this.#fields.tagContext));
    } catch (e) {
      throw configError(this.#device.name, e);
    }
    return planRead(tags, resolved, this.#fields);
  }

  #connected(action: string): ModbusTcpClient {
    const c = this.#client;
    if (!c || !c.connected) {
      throw new BifrostError(
        "NOT_CONNECTED",
        `Cannot ${action} on "${this.#device.name}": not connected`,
      );
    }
    return c;
  }

  /** Sends one PDU; returns the data of the response or throws a contextual BifrostError. */
  async #exchange(
    client: ModbusTcpClient,
    pdu: Uint8Array,
    what: string,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    let response: Uint8Array;
    try {
      response = await client.request(this.#fields.unitId, pdu, signal);
    } catch (e) {
      if (isBifrostError(e)) {
        throw new BifrostError(e.code, `Cannot ${what} on "${this.#device.name}": ${e.message}`, {
          cause: e,
        });
      }
      throw e;
    }
    const r = decodeResponse(pdu, response);
    if (r.ok) return r.data;
    if ("exception" in r) {
      throw new BifrostError(
        "MODBUS_EXCEPTION",
        `Cannot ${what} on "${this.#device.name}": ${
          exceptionName(r.exception)
        } (Modbus exception ${r.exception})`,
        { details: { exception: r.exception } },
      );
    }
    throw new BifrostError(
      "PROTOCOL_ERROR",
      `Cannot ${what} on "${this.#device.name}": malformed response, ${r.malformed}`,
    );
  }

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    if (!(plan instanceof ModbusReadPlan)) {
      throw new TypeError("Cannot read a plan that the Modbus driver did not make");
    }
    const client = this.#connected("read");
    const results = new Array<TagResult>(plan.tags.length);
    const outcomes = await Promise.allSettled(
      plan.requests.map((r) => this.#readRequest(client, r, results, signal)),
    );
    let timeouts = 0;
    for (const o of outcomes) {
      if (o.status === "fulfilled") continue;
      if (isBifrostError(o.reason, "NOT_CONNECTED")) throw o.reason;
      if (isBifrostError(o.reason, "TIMEOUT")) timeouts++;
      else if (!isBifrostError(o.reason)) throw o.reason;
    }
    if (signal.aborted) throw signal.reason;
    if (timeouts > 0 && timeouts === plan.requests.length) {
      throw (outcomes[0] as PromiseRejectedResult).reason;
    }
    return results;
  }

  async #readRequest(
    client: ModbusTcpClient,
    r: PlannedRequest,
    results: TagResult[],
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const data = await this.#exchange(client, r.pdu, `read ${r.range}`, signal);
      const ts = this.#ctx.clock.now();
      for (const it of r.items) {
        results[it.index] = { ok: true, value: decodeItem(data, it.at, it.tag), sourceTs: ts };
      }
    } catch (e) {
      if (isBifrostError(e)) {
        for (const it of r.items) results[it.index] = { ok: false, error: e };
      }
      throw e;
    }
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
    if (t.bit !== undefined) {
      let on: boolean;
      try {
        on = toBool(Array.isArray(value) && value.length === 1 ? value[0]! : value);
      } catch (e) {
        throw rejected(e);
      }
      await this.#writeBit(this.#connected(what), t, on, what, signal);
      return;
    }
    let pdu: Uint8Array;
    try {
      pdu = writeRequest(t, value);
    } catch (e) {
      throw rejected(e);
    }
    await this.#exchange(this.#connected(what), pdu, what, signal);
  }

  async #writeBit(
    client: ModbusTcpClient,
    t: ResolvedTag,
    on: boolean,
    what: string,
    signal: AbortSignal,
  ): Promise<void> {
    const mask = 1 << t.bit!;
    if (!this.#noFc22) {
      try {
        const pdu = maskWriteRegisterRequest(t.start, ~mask & 0xffff, on ? mask : 0);
        await this.#exchange(client, pdu, what, signal);
        return;
      } catch (e) {
        if (!isBifrostError(e, "MODBUS_EXCEPTION") || e.details.exception !== 1) throw e;
        this.#noFc22 = true;
        this.#ctx.log.info("Device lacks FC22; writing register bits by read-modify-write", {
          device: this.#device.name,
        });
      }
    }
    const data = await this.#exchange(client, readRequest(3, t.start, 1), what, signal);
    const word = (data[0]! << 8) | data[1]!;
    const next = on ? word | mask : word & ~mask;
    if (this.#fields.workarounds.fc23 !== true) {
      await this.#exchange(client, writeSingleRegisterRequest(t.start, next), what, signal);
      return;
    }
    const bytes = new Uint8Array([next >> 8, next & 0xff]);
    const back = await this.#exchange(
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
