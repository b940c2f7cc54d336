/**
 * @module
 * Modbus URLs for one-off reads and writes from the command line:
 *
 * `modbus://HOST[:PORT]/[UNIT/]ADDRESS[:TYPE[:ORDER|LENGTH]...][?timeout=2s&order=CDAB]`
 *
 * e.g. `modbus://plc:502/1/HR100:float32:CDAB`, `modbus://10.0.0.5/C3`,
 * `modbus://plc/2/HR20:string:8`. The type defaults to `bool` for bits and `uint16`
 * for registers, the port to 502 and the unit to 1.
 */

import type { DeviceConfig, TagConfig } from "../../engine/driver.ts";
import { BifrostError } from "../../engine/errors.ts";
import { DURATION_PATTERN } from "../../engine/flow/duration.ts";
import { isRegisterTable, parseAddress } from "./address.ts";
import { BYTE_ORDERS, type ByteOrder, DATA_TYPES, type DataType } from "./spec.ts";
import { resolveTag } from "./tags.ts";

const USAGE = "expected modbus://host[:port]/[unit/]address[:type[:order]], e.g. " +
  "modbus://plc:502/1/HR100:float32:CDAB";

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot parse Modbus URL "${url}": ${why}`);
}

/**
 * Parses a Modbus URL into a device with one tag; throws `CONFIG_INVALID` saying what is
 * wrong.
 *
 * @example
 * ```ts
 * const { device, tag } = parseModbusUrl("modbus://plc:502/1/HR100:float32:CDAB");
 * // device.config: { host: "plc", port: 502, unitId: 1 }; tag.type: "float32"
 * ```
 */
export function parseModbusUrl(url: string): { device: DeviceConfig; tag: TagConfig } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    fail(url, USAGE);
  }
  if (u.protocol !== "modbus:" && u.protocol !== "modbus-tcp:") {
    fail(url, `the scheme must be modbus://, got ${u.protocol}//`);
  }
  if (!u.hostname) fail(url, `no host; ${USAGE}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = u.port === "" ? 502 : Number(u.port);
  const parts = decodeURIComponent(u.pathname).split("/").filter((p) => p !== "");
  if (parts.length === 0 || parts.length > 2) fail(url, `no address; ${USAGE}`);
  let unitId = 1;
  if (parts.length === 2) {
    unitId = Number(parts[0]);
    if (!/^[0-9]+$/.test(parts[0]!) || unitId > 255) {
      fail(url, `unit id must be 0..255, got "${parts[0]}"`);
    }
  }
  const [address, ...rest] = parts[parts.length - 1]!.split(":");
  let a;
  try {
    a = parseAddress(address!);
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const bitLike = !isRegisterTable(a.table) || a.bit !== undefined;
  let type: DataType = bitLike ? "bool" : "uint16";
  const tagFields: Record<string, unknown> = { address };
  for (const [i, p] of rest.entries()) {
    if (i === 0 && (DATA_TYPES as readonly string[]).includes(p)) type = p as DataType;
    else if ((BYTE_ORDERS as readonly string[]).includes(p.toUpperCase())) {
      tagFields.order = p.toUpperCase() as ByteOrder;
    } else if (/^[0-9]+$/.test(p) && type === "string") tagFields.length = Number(p);
    else {
      fail(
        url,
        `"${p}" is neither a type (${DATA_TYPES.join(", ")}) nor a byte order (${
          BYTE_ORDERS.join(", ")
        })`,
      );
    }
  }
  if (type === "string" && tagFields.length === undefined) {
    fail(url, "a string needs a length, e.g. HR20:string:8");
  }
  tagFields.type = type;
  const config: Record<string, unknown> = { host, port, unitId };
  for (const [k, v] of u.searchParams) {
    if (k === "timeout") {
      if (!new RegExp(DURATION_PATTERN).test(v)) {
        fail(url, `timeout must be a duration like 2s, got "${v}"`);
      }
      config.timeout = v;
    } else if (k === "order") {
      if (!(BYTE_ORDERS as readonly string[]).includes(v.toUpperCase())) {
        fail(url, `order must be one of ${BYTE_ORDERS.join(", ")}, got "${v}"`);
      }
      config.order = v.toUpperCase();
    } else fail(url, `unknown parameter "${k}" (known: timeout, order)`);
  }
  const tag: TagConfig = {
    name: address!,
    address: address!,
    type,
    writable: true,
    config: tagFields,
  };
  try {
    resolveTag(tag, (config.order as ByteOrder | undefined) ?? "ABCD");
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const device: DeviceConfig = {
    name: host,
    driver: "modbus-tcp",
    config,
    tags: new Map([[tag.name, tag]]),
  };
  return { device, tag };
}
