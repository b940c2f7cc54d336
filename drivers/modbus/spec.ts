/**
 * @module
 * The Modbus TCP driver's config spec (TypeBox): device fields and tag fields. The flow JSON
 * Schema, the reference docs and runtime parsing all come from these two objects.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/flow/duration.ts";

/** Byte/word orders of 32- and 64-bit values; `A` is the most significant byte. */
export const BYTE_ORDERS = ["ABCD", "CDAB", "BADC", "DCBA"] as const;
/** A byte/word order. */
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** The data types a Modbus tag may have. */
export const DATA_TYPES = [
  "bool",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
] as const;
/** A Modbus tag data type. */
export type DataType = (typeof DATA_TYPES)[number];

const Order = Type.Union(BYTE_ORDERS.map((o) => Type.Literal(o)), {
  description:
    "Byte/word order of 32- and 64-bit values: ABCD big-endian (Modbus default), CDAB word-swapped, BADC byte-swapped, DCBA little-endian.",
  default: "ABCD",
  examples: ["ABCD", "CDAB"],
});

/** Device fields of `driver: modbus-tcp`. */
export const ModbusDeviceSpec = Type.Object({
  host: Type.String({
    minLength: 1,
    description: "Host name or IP address of the Modbus TCP server (PLC, gateway).",
    examples: ["192.168.1.10", "plc-3.local"],
  }),
  port: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 65535,
    default: 502,
    description: "TCP port.",
    examples: [502, 5020],
  })),
  unitId: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 255,
    default: 1,
    description: "Unit identifier (slave id) sent in every request.",
    examples: [1, 255],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "1s",
    description: "How long to wait for each response before the request fails with TIMEOUT.",
    examples: ["1s", "500ms"],
  })),
  order: Type.Optional(Order),
  maxRegistersPerRequest: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 125,
    default: 125,
    description: "Most registers one read request (FC3/FC4) may ask for.",
    examples: [125, 64],
  })),
  maxBitsPerRequest: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 2000,
    default: 2000,
    description: "Most coils or discrete inputs one read request (FC1/FC2) may ask for.",
    examples: [2000, 256],
  })),
  maxGap: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 2000,
    default: 16,
    description:
      "Unused registers (or bits) a coalesced request may read through to join two tags into one request.",
    examples: [16, 0],
  })),
  maxInFlight: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 16,
    default: 1,
    description:
      "Requests sent before the first answer arrives (pipelining). Most PLCs want 1; gateways often take more.",
    examples: [1, 4],
  })),
}, { additionalProperties: false });

/** Device fields, defaults applied. */
export type ModbusDeviceFields = Required<Static<typeof ModbusDeviceSpec>>;

/** Tag fields of a `modbus-tcp` device. */
export const ModbusTagSpec = Type.Object({
  address: Type.String({
    minLength: 1,
    description:
      "Table and 0-based offset (HR100, IR0, C5, DI7), Modicon number (40101, 400101, 30001, 10001, 00001), or a bit of a register (HR100.3).",
    examples: ["HR100", "IR0", "C5", "DI7", "40101", "HR100.3"],
  }),
  type: Type.Union(DATA_TYPES.map((t) => Type.Literal(t)), {
    description:
      "Data type: bool (coil, discrete input or bit of a register), 16/32/64-bit integers, float32/float64, or string.",
    examples: ["float32", "int16", "bool"],
  }),
  length: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 125,
    description: "Length in registers (2 characters each) of a `string` tag.",
    examples: [10],
  })),
  order: Type.Optional(Type.Union(BYTE_ORDERS.map((o) => Type.Literal(o)), {
    description: "Byte/word order of this tag; overrides the device's `order`.",
    examples: ["CDAB"],
  })),
}, { additionalProperties: false, required: ["address", "type"] });

/** Tag fields as a flow gives them. */
export type ModbusTagFields = Static<typeof ModbusTagSpec>;

/** Defaults of the device fields (besides `host`). */
export const DEVICE_DEFAULTS = {
  port: 502,
  unitId: 1,
  timeout: "1s",
  order: "ABCD",
  maxRegistersPerRequest: 125,
  maxBitsPerRequest: 2000,
  maxGap: 16,
  maxInFlight: 1,
} as const;
