/**
 * @module
 * Modbus URLs for one-off reads and writes from the command line:
 *
 * - `modbus://HOST[:PORT]/[UNIT/]ADDRESS[:TYPE[:ORDER|LENGTH]...][?timeout=2s&order=CDAB]`
 * - `modbus-rtu-tcp://HOST:PORT/[UNIT/]ADDRESS[:TYPE...][?baud=19200&timeout=2s]` (RTU over
 *   TCP to a serial device server; the port is required)
 * - `modbus-rtu:///DEVICE/PATH/UNIT/ADDRESS[:TYPE...][?baud=19200&parity=even&stopBits=1]`
 *   (a serial port; the unit is required, since a device path may end in digits). The
 *   query may also come right after the device path:
 *   `modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even/1/HR0:float32`.
 *
 * e.g. `modbus://plc:502/1/HR100:float32:CDAB`, `modbus://10.0.0.5/C3`,
 * `modbus://plc/2/HR20:string:8`. The type defaults to `bool` for bits and `uint16`
 * for registers, the port to 502 and the unit to 1.
 */

import {
  BifrostError,
  type DeviceConfig,
  DURATION_PATTERN,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { isRegisterTable, parseAddress } from "../core/address.ts";
import { BYTE_ORDERS, type ByteOrder, DATA_TYPES, type DataType } from "../core/spec.ts";
import { resolveTag } from "../core/tags.ts";

const USAGE = "expected modbus://host[:port]/[unit/]address[:type[:order]], e.g. " +
  "modbus://plc:502/1/HR100:float32:CDAB";
const RTU_USAGE = "expected modbus-rtu:///dev/ttyUSB0/unit/address[:type][?baud=19200&parity=even]";

/** The URL schemes {@linkcode parseModbusUrl} accepts. */
export const MODBUS_URL_SCHEMES = ["modbus", "modbus-tcp", "modbus-rtu", "modbus-rtu-tcp"] as const;

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot parse Modbus URL "${url}": ${why}`);
}

/** `modbus-rtu:` URLs: the device path, unit and address, and the query, split by hand. */
function splitRtu(url: string): { segments: string[]; query: URLSearchParams } {
  let rest = url.slice("modbus-rtu://".length);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
    // The brief form puts the query between the device path and the unit.
    const slash = query.indexOf("/");
    if (slash >= 0) {
      rest += query.slice(slash);
      query = query.slice(0, slash);
    }
  }
  if (!rest.startsWith("/")) fail(url, `the device path must be absolute; ${RTU_USAGE}`);
  const segments = decodeURIComponent(rest).split("/").filter((p) => p !== "");
  return { segments, query: new URLSearchParams(query) };
}

/**
 * Parses a Modbus URL into a device with one tag; throws `CONFIG_INVALID` saying what is
 * wrong.
 *
 * @example
 * ```ts
 * const { device, tag } = parseModbusUrl("modbus://plc:502/1/HR100:float32:CDAB");
 * // device.config: { host: "plc", port: 502, unitId: 1 }; tag.type: "float32"
 * parseModbusUrl("modbus-rtu:///dev/ttyUSB0?baud=19200&parity=even/1/HR0:float32").device;
 * // { driver: "modbus-rtu", config: { port: "/dev/ttyUSB0", unitId: 1, baudRate: 19200, parity: "even" } }
 * ```
 */
export function parseModbusUrl(url: string): { device: DeviceConfig; tag: TagConfig } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (!scheme || !(MODBUS_URL_SCHEMES as readonly string[]).includes(scheme)) {
    if (!scheme) fail(url, USAGE);
    fail(
      url,
      `the scheme must be modbus://, modbus-rtu:// or modbus-rtu-tcp://, got ${scheme}://`,
    );
  }
  const config: Record<string, unknown> = {};
  let parts: string[];
  let query: URLSearchParams;
  let name: string;
  let driver: string;
  if (scheme === "modbus-rtu") {
    const s = splitRtu(url);
    if (s.segments.length < 3 || !/^[0-9]+$/.test(s.segments[s.segments.length - 2]!)) {
      fail(url, `a device path, a unit and an address are needed; ${RTU_USAGE}`);
    }
    parts = s.segments.slice(-2);
    query = s.query;
    config.port = "/" + s.segments.slice(0, -2).join("/");
    name = String(config.port);
    driver = "modbus-rtu";
  } else {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      fail(url, USAGE);
    }
    if (!u.hostname) fail(url, `no host; ${USAGE}`);
    const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
    if (scheme === "modbus-rtu-tcp" && u.port === "") {
      fail(url, "an RTU-over-TCP URL needs the port of the device server, e.g. host:4001");
    }
    config.host = host;
    config.port = u.port === "" ? 502 : Number(u.port);
    parts = decodeURIComponent(u.pathname).split("/").filter((p) => p !== "");
    query = u.searchParams;
    name = host;
    driver = scheme === "modbus-rtu-tcp" ? "modbus-rtu-tcp" : "modbus-tcp";
  }
  if (parts.length === 0 || parts.length > 2) fail(url, `no address; ${USAGE}`);
  let unitId = 1;
  if (parts.length === 2) {
    unitId = Number(parts[0]);
    const max = driver === "modbus-tcp" ? 255 : 247;
    if (!/^[0-9]+$/.test(parts[0]!) || unitId > max) {
      fail(url, `unit id must be 0..${max}, got "${parts[0]}"`);
    }
  }
  config.unitId = unitId;
  const tag = parseTag(url, parts[parts.length - 1]!);
  for (const [k, v] of query) readParam(url, driver, config, k, v);
  if (driver !== "modbus-tcp" && unitId === 0) {
    fail(url, "unit 0 is the broadcast address: nobody answers a read");
  }
  try {
    resolveTag(tag, (config.order as ByteOrder | undefined) ?? "ABCD");
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const device: DeviceConfig = { name, driver, config, tags: new Map([[tag.name, tag]]) };
  return { device, tag };
}

function parseTag(url: string, spec: string): TagConfig {
  const [address, ...rest] = spec.split(":");
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
  return { name: address!, address: address!, type, writable: true, config: tagFields };
}

function readParam(
  url: string,
  driver: string,
  config: Record<string, unknown>,
  k: string,
  v: string,
): void {
  const rtu = driver !== "modbus-tcp";
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
  } else if (rtu && (k === "baud" || k === "baudRate")) {
    if (!/^[0-9]+$/.test(v) || Number(v) <= 0) fail(url, `baud must be a baud rate, got "${v}"`);
    config.baudRate = Number(v);
  } else if (driver === "modbus-rtu" && k === "parity") {
    if (v !== "none" && v !== "even" && v !== "odd") {
      fail(url, `parity must be even, odd or none, got "${v}"`);
    }
    config.parity = v;
  } else if (driver === "modbus-rtu" && k === "stopBits") {
    if (v !== "1" && v !== "2") fail(url, `stopBits must be 1 or 2, got "${v}"`);
    config.stopBits = Number(v);
  } else {
    const known = driver === "modbus-rtu"
      ? "timeout, order, baud, parity, stopBits"
      : rtu
      ? "timeout, order, baud"
      : "timeout, order";
    fail(url, `unknown parameter "${k}" (known: ${known})`);
  }
}
