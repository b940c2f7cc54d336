/**
 * @module
 * The `bacnet` driver's config spec (TypeBox): device fields, tag fields and the `subscribe:`
 * options of a poll (COV). The flow JSON Schema, the docs and runtime parsing come from these.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "../../../engine/plugin.ts";
import { TAG_TYPES } from "./address.ts";

/** Device fields of `driver: bacnet`. */
export const BacnetDeviceSpec = Type.Object({
  device: Type.Integer({
    minimum: 0,
    maximum: 4194302,
    description:
      "The device instance number (the Device object's instance), as `bifrost discover bacnet` lists it.",
    examples: [1001, 260001],
  }),
  host: Type.Optional(Type.String({
    minLength: 1,
    description:
      "IP address of the device, or of the BACnet router in front of it (with `network` and `mac`). Omit it to find the device by a broadcast Who-Is (through the BBMD when `bbmd` is set).",
    examples: ["192.168.10.21"],
  })),
  port: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    default: 47808,
    description: "UDP port of the device or router (BAC0 = 47808).",
    examples: [47808, 47809],
  })),
  network: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65534,
    description:
      "The BACnet network number of a device behind a router (DNET). Found by Who-Is when omitted (the I-Am carries it).",
    examples: [5],
  })),
  mac: Type.Optional(Type.String({
    pattern: "^([0-9a-fA-F]{2})+$",
    description:
      "The device's MAC address on that network (DADR) in hex: one byte for MS/TP (`0a` is station 10), six for BACnet/IP.",
    examples: ["0a", "c0a80a1fbac0"],
  })),
  localPort: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 47808,
    description:
      "Local UDP port of the gateway: 47808 receives broadcast I-Am on a real site; devices of one flow share it. 0 takes any free port (replies to directed requests still arrive).",
    examples: [47808, 0],
  })),
  localAddress: Type.Optional(Type.String({
    default: "0.0.0.0",
    description: "Local address to bind (one interface on a multi-homed gateway).",
    examples: ["0.0.0.0", "192.168.10.5"],
  })),
  broadcast: Type.Optional(Type.String({
    default: "255.255.255.255",
    description:
      "Where a broadcast Who-Is goes (the subnet's directed broadcast, e.g. 192.168.10.255).",
    examples: ["255.255.255.255", "192.168.10.255"],
  })),
  bbmd: Type.Optional(Type.String({
    pattern: "^[^\\s:]+(:[0-9]+)?$",
    description:
      "A BBMD to register with as a foreign device (HOST[:PORT]) when the devices are on another subnet; broadcasts then go through it.",
    examples: ["10.0.0.1:47808"],
  })),
  bbmdTtl: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "300s",
    description: "Time-to-live of the foreign-device registration; renewed at half of it.",
    examples: ["300s", "60s"],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description:
      "How long a request may take, retries included, before it fails with TIMEOUT. Omitted: apduTimeout × (retries + 1).",
    examples: ["12s", "2s"],
  })),
  apduTimeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    description:
      "How long one attempt waits for its reply (APDU_Timeout) before the request is sent again with the same invoke id. Omitted: 3s, or timeout / (retries + 1) when timeout is given.",
    examples: ["3s", "500ms"],
  })),
  retries: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 10,
    default: 3,
    description:
      "How many times a confirmed request without a reply is sent again (Number_Of_APDU_Retries).",
    examples: [3, 0],
  })),
  maxApdu: Type.Optional(Type.Integer({
    minimum: 50,
    maximum: 1476,
    description: "Override the device's max APDU length (from its I-Am) for planning requests.",
    examples: [480, 1476],
  })),
  maxSegments: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 16,
    description:
      "Segments a planned ReadPropertyMultiple reply may take when the device segments (1: never ask for segmented replies).",
    examples: [16, 1],
  })),
  maxProperties: Type.Optional(Type.Integer({
    minimum: 0,
    default: 0,
    description:
      "At most this many properties per ReadPropertyMultiple (0: as many as fit the APDU).",
    examples: [0, 20],
  })),
  statusFlags: Type.Optional(Type.Boolean({
    default: true,
    description:
      "Read status flags and reliability with every present value: a faulted point is bad with its reliability, an out-of-service one per `outOfService`.",
    examples: [true, false],
  })),
  outOfService: Type.Optional(
    Type.Union([Type.Literal("uncertain"), Type.Literal("bad"), Type.Literal("good")], {
      default: "uncertain",
      description:
        "Quality of an out-of-service point's present value (it is not the process's: an operator or a test set it): uncertain with the reason and the value kept, bad with the reason, or good.",
      examples: ["uncertain", "bad", "good"],
    }),
  ),
}, { additionalProperties: false, required: ["device"] });

/** Device fields as a flow gives them. */
export type BacnetDeviceFields = Static<typeof BacnetDeviceSpec>;

/** Tag fields of a `bacnet` device. */
export const BacnetTagSpec = Type.Object({
  address: Type.String({
    minLength: 3,
    description:
      "object-type:instance[/property][[index]]: analog-input:3 (its present value), binary-output:1/present-value, device:1234/object-name, analog-output:2/priority-array[8]. Short types ai, ao, av, bi, bo, bv, msi, mso, msv work too.",
    examples: ["analog-input:3", "binary-output:1/present-value", "device:1001/object-name"],
  }),
  type: Type.Optional(Type.Union(TAG_TYPES.map((t) => Type.Literal(t)), {
    description:
      "How the value is carried and written: real for analog values, boolean for binary ones (active/inactive), unsigned for multi-state, string, enumerated, bits (status flags), any (a list). Omit it for the property's own type.",
    examples: ["real", "boolean", "unsigned"],
  })),
  priority: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 16,
    description:
      "Write priority (1-16) for commandable objects; a write of null relinquishes that priority. Omitted: the device's default (16).",
    examples: [8, 16],
  })),
}, { additionalProperties: false, required: ["address"] });

/** Tag fields as a flow gives them. */
export type BacnetTagFields = Static<typeof BacnetTagSpec>;

/** The `subscribe:` options of a poll of a `bacnet` device (COV). */
export const BacnetSubscribeSpec = Type.Object({
  confirmed: Type.Optional(Type.Boolean({
    default: false,
    description: "Ask for confirmed COV notifications (the device retries until acknowledged).",
    examples: [false, true],
  })),
  lifetime: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "300s",
    description:
      "Lifetime of each COV subscription; renewed at 40-50 % of it, jittered (a restarted device gets them back).",
    examples: ["300s", "1h"],
  })),
  fallbackEvery: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "10s",
    description: "Poll objects that refuse COV this often (ReadPropertyMultiple).",
    examples: ["10s", "1s"],
  })),
  checkEvery: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "5s",
    description:
      "How often the device is asked whether it is still there (its system status): a device that stops answering is reported lost, and subscribed again once back.",
    examples: ["5s", "30s"],
  })),
}, { additionalProperties: false });

/** Device fields, defaults applied and durations in ms. */
export interface BacnetDevice {
  device: number;
  host: string | undefined;
  port: number;
  network: number | undefined;
  mac: Uint8Array | undefined;
  localPort: number;
  localAddress: string;
  broadcast: string;
  bbmd: { host: string; port: number } | undefined;
  bbmdTtlS: number;
  /** Whole request, retries included. */
  timeoutMs: number;
  /** One attempt. */
  apduTimeoutMs: number;
  retries: number;
  maxApdu: number | undefined;
  maxSegments: number;
  maxProperties: number;
  statusFlags: boolean;
  outOfService: "uncertain" | "bad" | "good";
}

const dur = (v: unknown, d: string) => parseDuration(typeof v === "string" ? v : d);

/** The device fields of a device config, defaults applied. */
export function deviceFields(c: Record<string, unknown>): BacnetDevice {
  const mac = typeof c.mac === "string"
    ? Uint8Array.from(c.mac.match(/../g)!.map((h) => parseInt(h, 16)))
    : undefined;
  let bbmd: BacnetDevice["bbmd"];
  if (typeof c.bbmd === "string") {
    const [h, p] = c.bbmd.split(":");
    bbmd = { host: h!, port: p ? Number(p) : 47808 };
  }
  const retries = typeof c.retries === "number" ? c.retries : 3;
  const given = typeof c.timeout === "string" ? dur(c.timeout, "3s") : undefined;
  const apduTimeoutMs = typeof c.apduTimeout === "string"
    ? dur(c.apduTimeout, "3s")
    : given !== undefined
    ? Math.max(1, Math.floor(given / (retries + 1)))
    : 3000;
  return {
    device: Number(c.device),
    host: typeof c.host === "string" ? c.host : undefined,
    port: typeof c.port === "number" ? c.port : 47808,
    network: typeof c.network === "number" ? c.network : undefined,
    mac,
    localPort: typeof c.localPort === "number" ? c.localPort : 47808,
    localAddress: typeof c.localAddress === "string" ? c.localAddress : "0.0.0.0",
    broadcast: typeof c.broadcast === "string" ? c.broadcast : "255.255.255.255",
    bbmd,
    bbmdTtlS: Math.max(1, Math.round(dur(c.bbmdTtl, "300s") / 1000)),
    timeoutMs: given ?? apduTimeoutMs * (retries + 1),
    apduTimeoutMs,
    retries,
    maxApdu: typeof c.maxApdu === "number" ? c.maxApdu : undefined,
    maxSegments: typeof c.maxSegments === "number" ? c.maxSegments : 16,
    maxProperties: typeof c.maxProperties === "number" ? c.maxProperties : 0,
    statusFlags: c.statusFlags !== false,
    outOfService: c.outOfService === "good" || c.outOfService === "bad"
      ? c.outOfService
      : "uncertain",
  };
}
