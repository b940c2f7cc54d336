/**
 * @module
 * The `ethernet-ip` driver's config spec (TypeBox): device fields and tag fields. The flow
 * JSON Schema, the reference docs and runtime parsing all come from these two objects.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "../../../engine/plugin.ts";
import { DATA_TYPES } from "./types.ts";

/** Device fields of `driver: ethernet-ip`. */
export const EipDeviceSpec = Type.Object({
  host: Type.String({
    minLength: 1,
    description: "Host name or IP address of the controller (or of its Ethernet module).",
    examples: ["192.168.1.20", "plc-line2.local"],
  }),
  port: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    default: 44818,
    description: "TCP port of the EtherNet/IP encapsulation.",
    examples: [44818],
  })),
  path: Type.Optional(Type.String({
    pattern: "^$|^[0-9]+,[0-9.]+(,[0-9]+,[0-9.]+)*$",
    default: "",
    description:
      'Route path from the Ethernet module to the controller, as port,link pairs: "1,0" is backplane (port 1), slot 0, what a ControlLogix in slot 0 needs. Empty for CompactLogix and Micro800, which answer at their own IP address. A link may be an IP address (port 2 of an Ethernet bridge: "1,1,2,10.0.0.9,1,0").',
    examples: ["1,0", "", "1,3"],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "2s",
    description: "How long to wait for each reply before the request fails with TIMEOUT.",
    examples: ["2s", "500ms"],
  })),
  connected: Type.Optional(Type.Boolean({
    default: true,
    description:
      "Use connected messaging (Forward Open, class 3): faster and what Logix controllers prefer. false sends every request unconnected (UCMM, through Unconnected Send when `path` is set), for targets that refuse Forward Open.",
    examples: [true, false],
  })),
  connectionSize: Type.Optional(Type.Integer({
    minimum: 100,
    maximum: 65535,
    default: 4002,
    description:
      "Bytes per connected message asked in the Forward Open. Above 511 Bifrost asks a Large Forward Open (ControlLogix 5570/5580, CompactLogix 5380 take 4002) and falls back to a standard Forward Open of 504 bytes when the controller refuses it.",
    examples: [4002, 504],
  })),
  keepAlive: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "10s",
    description:
      "After this long without a request, a small request keeps the connection (and the controller's connection timeout) alive. 0s disables it.",
    examples: ["10s", "0s"],
  })),
}, { additionalProperties: false });

/** Device fields as a flow gives them. */
export type EipDeviceFields = Static<typeof EipDeviceSpec>;

/** Tag fields of an `ethernet-ip` device. */
export const EipTagSpec = Type.Object({
  address: Type.String({
    minLength: 1,
    description:
      "The Logix tag name: Counter, Tag[3], Tag[2,1] (arrays, up to 3 dimensions), Program:MainProgram.Counter (program scope), Line.Motor[2].Speed (a member of a structure, by dotted path), Status.5 (bit 5 of an integer).",
    examples: ["Counter", "Recipe[3]", "Program:MainProgram.Speed", "Line.Motor[2].Speed"],
  }),
  type: Type.Union(DATA_TYPES.map((t) => Type.Literal(t)), {
    description:
      "Logix data type. A BOOL with an index (Flags[37]) is an element of a BOOL array, read through the DWORD that holds it. STRING is the Logix STRING (82 characters). Structures are read member by member (one tag per member, `Tag.Member`); `bifrost browse` lists them from the template.",
    examples: ["DINT", "REAL", "BOOL", "STRING"],
  }),
  count: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    default: 1,
    description:
      "Elements to read from the address on: above 1 the value is an array. Arrays larger than one packet are read with Read Tag Fragmented.",
    examples: [1, 100],
  })),
}, { additionalProperties: false, required: ["address", "type"] });

/** Tag fields as a flow gives them. */
export type EipTagFields = Static<typeof EipTagSpec>;

/** Device fields, defaults applied and durations in ms. */
export interface EipDevice {
  host: string;
  port: number;
  path: string;
  timeoutMs: number;
  connected: boolean;
  connectionSize: number;
  keepAliveMs: number;
}

/** The device fields of a device config, defaults applied. */
export function deviceFields(c: Record<string, unknown>): EipDevice {
  return {
    host: String(c.host ?? "127.0.0.1"),
    port: typeof c.port === "number" ? c.port : 44818,
    path: typeof c.path === "string" ? c.path : "",
    timeoutMs: parseDuration(typeof c.timeout === "string" ? c.timeout : "2s"),
    connected: c.connected !== false,
    connectionSize: typeof c.connectionSize === "number" ? c.connectionSize : 4002,
    keepAliveMs: parseDuration(typeof c.keepAlive === "string" ? c.keepAlive : "10s"),
  };
}
