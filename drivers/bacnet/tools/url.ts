/**
 * @module
 * `bacnet://HOST[:PORT]/DEVICE[/OBJECT[/PROPERTY]][?priority=8&network=5&mac=0a&timeout=3s&retries=3]`
 * URLs of `bifrost read|write|browse`: `bacnet://10.0.0.5/1001/analog-input:1`,
 * `bacnet://10.0.0.5:47809/1001/binary-output:1/present-value?priority=8`. The gateway side
 * takes any free local port (`localPort=47808` to bind BAC0).
 */

import {
  BifrostError,
  type DeviceConfig,
  DURATION_PATTERN,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { parseAddress, TAG_TYPES } from "../core/address.ts";

/** The scheme of BACnet URLs. */
export const BACNET_URL_SCHEMES = ["bacnet"] as const;

const USAGE =
  "expected bacnet://host[:port]/device-instance/object-type:instance[/property], e.g. bacnet://10.0.0.5/1001/analog-input:1";

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot parse BACnet URL "${url}": ${why}`);
}

/** A URL's device fields and the rest of its path. */
export function parseDeviceUrl(
  url: string,
): { config: Record<string, unknown>; rest: string; params: URLSearchParams; host: string } {
  const m = /^bacnet:\/\/([^/:?]+)(?::([0-9]+))?\/([0-9]+)(\/[^?]*)?(?:\?(.*))?$/i.exec(url);
  if (!m) fail(url, USAGE);
  const port = m[2] === undefined ? 47808 : Number(m[2]);
  if (port < 1 || port > 65535) fail(url, `port ${m[2]} is not 1..65535`);
  const device = Number(m[3]);
  if (device > 4194302) fail(url, `device instance ${device} is out of range (0-4194302)`);
  const config: Record<string, unknown> = { device, host: m[1]!, port, localPort: 0 };
  const params = new URLSearchParams(m[5] ?? "");
  for (const [k, v] of [...params]) {
    if (k === "network") {
      if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 65534) {
        fail(url, `network must be 1..65534, got "${v}"`);
      }
      config.network = Number(v);
    } else if (k === "mac") {
      if (!/^([0-9a-f]{2})+$/i.test(v)) {
        fail(url, `mac must be hex bytes (0a, c0a80a1fbac0), got "${v}"`);
      }
      config.mac = v.toLowerCase();
    } else if (k === "timeout" || k === "apduTimeout") {
      if (!new RegExp(DURATION_PATTERN).test(v)) {
        fail(url, `${k} must be a duration like 3s, got "${v}"`);
      }
      config[k] = v;
    } else if (k === "retries") {
      if (!/^[0-9]+$/.test(v) || Number(v) > 10) fail(url, `retries must be 0..10, got "${v}"`);
      config.retries = Number(v);
    } else if (k === "localPort") {
      if (!/^[0-9]+$/.test(v) || Number(v) > 65535) {
        fail(url, `localPort must be 0..65535, got "${v}"`);
      }
      config.localPort = Number(v);
    } else if (k === "bbmd") config.bbmd = v;
    else if (k !== "priority" && k !== "type") {
      fail(
        url,
        `unknown parameter "${k}" (known: priority, type, network, mac, timeout, apduTimeout, retries, localPort, bbmd)`,
      );
    }
  }
  return { config, rest: (m[4] ?? "").replace(/^\//, ""), params, host: m[1]! };
}

/**
 * Parses a BACnet URL naming one property into a one-tag device.
 *
 * @example
 * ```ts
 * parseBacnetUrl("bacnet://10.0.0.5/1001/analog-input:1").tag.address; // "analog-input:1"
 * ```
 */
export function parseBacnetUrl(url: string): { device: DeviceConfig; tag: TagConfig } {
  const { config, rest, params, host } = parseDeviceUrl(url);
  if (rest === "") fail(url, `no object; ${USAGE}`);
  const address = decodeURIComponent(rest).replace("/", "/");
  const slash = address.indexOf("/");
  const text = slash < 0 ? address : `${address.slice(0, slash)}/${address.slice(slash + 1)}`;
  try {
    parseAddress(text);
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const fields: Record<string, unknown> = { address: text };
  const priority = params.get("priority");
  if (priority !== null) {
    if (!/^[0-9]+$/.test(priority) || Number(priority) < 1 || Number(priority) > 16) {
      fail(url, `priority must be 1..16, got "${priority}"`);
    }
    fields.priority = Number(priority);
  }
  const type = params.get("type");
  if (type !== null) {
    if (!(TAG_TYPES as readonly string[]).includes(type)) {
      fail(url, `type must be one of ${TAG_TYPES.join(", ")}, got "${type}"`);
    }
    fields.type = type;
  }
  const tag: TagConfig = {
    name: text,
    address: text,
    type: String(fields.type ?? ""),
    writable: true,
    config: fields,
  };
  const device: DeviceConfig = {
    name: `${host}/${config.device}`,
    driver: "bacnet",
    config,
    tags: new Map([[tag.name, tag]]),
  };
  return { device, tag };
}
