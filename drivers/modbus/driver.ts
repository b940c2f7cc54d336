/**
 * @module
 * The Modbus TCP driver: one {@linkcode ModbusTcpClient} per device, read plans from the
 * planner, values from the codec. A Modbus exception or a timeout fails only the tags of the
 * request concerned; a lost connection fails the whole read with `NOT_CONNECTED`.
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
  writeMultipleRegistersRequest,
  writeSingleCoilRequest,
  writeSingleRegisterRequest,
} from "./pdu.ts";
import { ModbusReadPlan, type PlannedRequest, planRead } from "./planner.ts";
import { deviceFields, type ResolvedTag, resolveTag } from "./tags.ts";
import { decodeRegisters, encodeRegisters, getBit, getRegisterBit, toBool } from "./values.ts";

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
  readonly #fields: ReturnType<typeof deviceFields>;
  #client: ModbusTcpClient | undefined;

  constructor(device: DeviceConfig, ctx: DriverContext) {
    this.#device = device;
    this.#ctx = ctx;
    try {
      this.#fields = deviceFields(device.config);
    } catch (e) {
      throw configError(device.name, e);
    }
    this.maxInFlight = this.#fields.maxInFlight;
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
      maxInFlight: f.maxInFlight,
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
      resolved = tags.map((t) => resolveTag(t, this.#fields.order));
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
      t = resolveTag(tag, this.#fields.order);
    } catch (e) {
      throw configError(this.#device.name, e);
    }
    const where = formatAddress({ table: t.table, offset: t.start, ...bitOf(t) });
    const what = `write ${where} ("${tag.name}")`;
    if (t.table === "IR" || t.table === "DI") {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot ${what} on "${this.#device.name}": ${t.table} is a read-only table`,
      );
    }
    let pdu: Uint8Array;
    try {
      if (t.table === "C") pdu = writeSingleCoilRequest(t.start, toBool(value));
      else if (t.bit !== undefined) {
        pdu = maskWriteRegisterRequest(
          t.start,
          ~(1 << t.bit) & 0xffff,
          toBool(value) ? 1 << t.bit : 0,
        );
      } else {
        const bytes = encodeRegisters(value, t.type, t.order, t.length);
        pdu = bytes.length === 2
          ? writeSingleRegisterRequest(t.start, (bytes[0]! << 8) | bytes[1]!)
          : writeMultipleRegistersRequest(t.start, bytes);
      }
    } catch (e) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot ${what} on "${this.#device.name}": ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    const client = this.#connected(what);
    try {
      await this.#exchange(client, pdu, what, signal);
    } catch (e) {
      // FC22 unsupported: fall back to read-modify-write of the register.
      if (pdu[0] === 22 && isBifrostError(e, "MODBUS_EXCEPTION") && e.details.exception === 1) {
        await this.#readModifyWrite(client, t, toBool(value), what, signal);
        return;
      }
      throw e;
    }
  }

  async #readModifyWrite(
    client: ModbusTcpClient,
    t: ResolvedTag,
    on: boolean,
    what: string,
    signal: AbortSignal,
  ): Promise<void> {
    const data = await this.#exchange(client, readRequest(3, t.start, 1), what, signal);
    const word = (data[0]! << 8) | data[1]!;
    const next = on ? word | (1 << t.bit!) : word & ~(1 << t.bit!);
    await this.#exchange(client, writeSingleRegisterRequest(t.start, next), what, signal);
  }
}

function bitOf(t: ResolvedTag): { bit?: number } {
  return t.bit === undefined ? {} : { bit: t.bit };
}

/** Decodes one tag from the data of its request. */
export function decodeItem(data: Uint8Array, at: number, tag: ResolvedTag): Value {
  if (tag.table === "C" || tag.table === "DI") return getBit(data, at);
  if (tag.bit !== undefined) return getRegisterBit(data, 2 * at, tag.bit);
  return decodeRegisters(data, 2 * at, tag.type, tag.order, tag.length);
}
