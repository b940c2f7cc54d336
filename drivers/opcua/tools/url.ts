/**
 * @module
 * `opc.tcp://HOST[:PORT][/PATH][?OPTIONS]#NODEID` URLs of `bifrost read|write`: the NodeId
 * (or a browse path) after `#`, so that an endpoint's own path stays intact, e.g.
 * `opc.tcp://127.0.0.1:4840#ns=1;s=the.answer`,
 * `opc.tcp://plc:4840/UA/Server?security=SignAndEncrypt&user=op&password=x#ns=2;s=Speed`.
 * Options may also follow the NodeId (`#ns=1;s=x?type=Double`).
 */

import {
  BifrostError,
  type DeviceConfig,
  DURATION_PATTERN,
  type TagConfig,
} from "../../../engine/plugin.ts";
import { parseAddress } from "../core/address.ts";
import { SECURITY_MODES, SECURITY_POLICIES } from "../core/spec.ts";
import { TAG_TYPES } from "../core/types.ts";

/** The scheme of OPC UA URLs. */
export const OPCUA_URL_SCHEMES = ["opc.tcp"] as const;

const OPTIONS = ["security", "policy", "user", "password", "type", "timeout", "pki", "cert", "key"];
const USAGE = "expected opc.tcp://host[:port][/path][?security=...&user=...]#ns=1;s=Name";

function fail(url: string, why: string): never {
  throw new BifrostError("CONFIG_INVALID", `Cannot parse OPC UA URL "${url}": ${why}`);
}

/** Splits a URL into its endpoint (no query, no fragment), its options and its node. */
export function splitUrl(url: string): { endpoint: string; query: URLSearchParams; node: string } {
  const hash = url.indexOf("#");
  let left = hash < 0 ? url : url.slice(0, hash);
  let node = hash < 0 ? "" : url.slice(hash + 1);
  const query = new URLSearchParams();
  const q = left.indexOf("?");
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(left.slice(q + 1))) query.append(k, v);
    left = left.slice(0, q);
  }
  const tail = new RegExp(`^(.*?)\\?((?:${OPTIONS.join("|")})=.*)$`).exec(node);
  if (tail) {
    node = tail[1]!;
    for (const [k, v] of new URLSearchParams(tail[2]!)) query.append(k, v);
  }
  if (!/^opc\.tcp:\/\/(\[[^\]]+\]|[^/:?#]+)(:[0-9]+)?(\/.*)?$/i.test(left)) fail(url, USAGE);
  return { endpoint: left, query, node: decodeURIComponent(node) };
}

/** The device fields given by a URL's options. */
export function deviceFromUrl(
  url: string,
): { config: Record<string, unknown>; query: URLSearchParams; node: string } {
  const { endpoint, query, node } = splitUrl(url);
  const config: Record<string, unknown> = {
    endpoint: /:[0-9]+(\/|$)/.test(endpoint.replace(/^opc\.tcp:\/\//, ""))
      ? endpoint
      : endpoint.replace(/^(opc\.tcp:\/\/[^/]+)/, "$1:4840"),
  };
  for (const [k, v] of query) {
    switch (k) {
      case "security":
        if (!(SECURITY_MODES as readonly string[]).includes(v)) {
          fail(url, `security must be ${SECURITY_MODES.join(", ")}, got "${v}"`);
        }
        config.securityMode = v;
        if (v !== "None" && !query.has("policy")) config.securityPolicy = "Basic256Sha256";
        break;
      case "policy":
        if (!(SECURITY_POLICIES as readonly string[]).includes(v)) {
          fail(url, `policy must be ${SECURITY_POLICIES.join(", ")}, got "${v}"`);
        }
        config.securityPolicy = v;
        break;
      case "user":
        config.user = v;
        break;
      case "password":
        config.password = v;
        break;
      case "timeout":
        if (!new RegExp(DURATION_PATTERN).test(v)) {
          fail(url, `timeout must be a duration like 5s, got "${v}"`);
        }
        config.timeout = v;
        break;
      case "pki":
        config.pki = v;
        break;
      case "cert":
        config.userCertificate = v;
        break;
      case "key":
        config.userPrivateKey = v;
        break;
      case "type":
        break;
      default:
        fail(url, `unknown option "${k}" (known: ${OPTIONS.join(", ")})`);
    }
  }
  return { config, query, node };
}

/**
 * Parses an OPC UA URL into a one-tag device.
 *
 * @example
 * ```ts
 * parseOpcuaUrl("opc.tcp://127.0.0.1:4840#ns=1;s=the.answer").tag.address; // "ns=1;s=the.answer"
 * ```
 */
export function parseOpcuaUrl(url: string): { device: DeviceConfig; tag: TagConfig } {
  const { config, query, node } = deviceFromUrl(url);
  if (node === "") fail(url, `no node after #; ${USAGE}`);
  try {
    parseAddress(node);
  } catch (e) {
    fail(url, (e as Error).message);
  }
  const type = query.get("type") ?? "auto";
  if (type !== "auto" && !TAG_TYPES.includes(type)) {
    fail(url, `type must be an OPC UA built-in type (Double, Int32, String[]...), got "${type}"`);
  }
  const tag: TagConfig = {
    name: node,
    address: node,
    type,
    writable: true,
    config: { address: node, ...(type === "auto" ? {} : { type }) },
  };
  const host = /^opc\.tcp:\/\/([^/:]+)/.exec(String(config.endpoint))?.[1] ?? "opcua";
  const device: DeviceConfig = {
    name: host,
    driver: "opcua",
    config,
    tags: new Map([[tag.name, tag]]),
  };
  return { device, tag };
}
