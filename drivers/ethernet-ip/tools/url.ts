/**
 * @module
 * `eip://HOST[:PORT]/TAG[:TYPE][?path=1,0&timeout=2s&count=10]` URLs of `bifrost read|write`,
 * e.g. `eip://10.0.0.5/Program:Main.Speed`, `eip://127.0.0.1/TestDINT[3]`. Without a type
 * the type is learnt from the controller's reply (`auto`).
 */

import {
  BifrostError,
  type DeviceConfig,
  DURATION_PATTERN,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { parseAddress, parseRoutePath } from "../core/address.ts";
import { DATA_TYPES } from "../core/types.ts";

/** The schemes of EtherNet/IP URLs. */
export const EIP_URL_SCHEMES = ["eip", "ethernet-ip"] as const;

const USAGE =
  "expected eip://host[:port]/Tag[:TYPE][?path=1,0], e.g. eip://10.0.0.5/Program:Main.Speed";

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot parse EtherNet/IP URL "${url}": ${why}`);
}

/**
 * Parses an EtherNet/IP URL into a one-tag device.
 *
 * @example
 * ```ts
 * parseEipUrl("eip://10.0.0.5/Program:Main.Speed?path=1,0").device.config;
 * // { host: "10.0.0.5", port: 44818, path: "1,0" }
 * ```
 */
export function parseEipUrl(url: string): { device: DeviceConfig; tag: TagConfig } {
  const m = /^([a-z-]+):\/\/(\[[^\]]+\]|[^/:?]+)(?::([0-9]+))?\/([^?]*)(?:\?(.*))?$/i.exec(url);
  if (!m) fail(url, USAGE);
  const scheme = m[1]!.toLowerCase();
  if (!(EIP_URL_SCHEMES as readonly string[]).includes(scheme)) {
    fail(url, `the scheme must be eip://, got ${scheme}://`);
  }
  const host = m[2]!.replace(/^\[(.*)\]$/, "$1");
  const port = m[3] === undefined ? 44818 : Number(m[3]);
  if (port < 1 || port > 65535) fail(url, `port ${m[3]} is not 1..65535`);
  const spec = decodeURIComponent(m[4]!);
  if (spec === "") fail(url, `no tag; ${USAGE}`);
  const colon = spec.lastIndexOf(":");
  let address = spec;
  let type = "auto";
  if (
    colon > 0 && (DATA_TYPES as readonly string[]).includes(spec.slice(colon + 1).toUpperCase())
  ) {
    address = spec.slice(0, colon);
    type = spec.slice(colon + 1).toUpperCase();
  }
  try {
    parseAddress(address);
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const config: Record<string, unknown> = { host, port };
  const tagFields: Record<string, unknown> = { address, ...(type === "auto" ? {} : { type }) };
  for (const [k, v] of new URLSearchParams(m[5] ?? "")) {
    if (k === "path") {
      try {
        parseRoutePath(v);
      } catch (e) {
        fail(url, (e as Error).message);
      }
      config.path = v;
    } else if (k === "timeout") {
      if (!new RegExp(DURATION_PATTERN).test(v)) {
        fail(url, `timeout must be a duration like 2s, got "${v}"`);
      }
      config.timeout = v;
    } else if (k === "count") {
      if (!/^[0-9]+$/.test(v) || Number(v) < 1) {
        fail(url, `count must be a positive integer, got "${v}"`);
      }
      tagFields.count = Number(v);
    } else if (k === "connected") {
      if (v !== "true" && v !== "false") fail(url, `connected must be true or false, got "${v}"`);
      config.connected = v === "true";
    } else fail(url, `unknown parameter "${k}" (known: path, timeout, count, connected)`);
  }
  const tag: TagConfig = { name: address, address, type, writable: true, config: tagFields };
  const device: DeviceConfig = {
    name: host,
    driver: "ethernet-ip",
    config,
    tags: new Map([[tag.name, tag]]),
  };
  return { device, tag };
}
