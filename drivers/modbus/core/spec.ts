/**
 * @module
 * The Modbus TCP driver's config spec (TypeBox): device fields and tag fields. The flow JSON
 * Schema, the reference docs and runtime parsing all come from these two objects.
 */

import { RetryFields } from "./retry.ts";
import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../../engine/plugin.ts";

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
    "Byte/word order of 32- and 64-bit values: ABCD big-endian (Modbus default), CDAB word-swapped, BADC byte-swapped, DCBA little-endian. 16-bit values and strings follow only the byte part (BADC and DCBA swap the two bytes of each register).",
  default: "ABCD",
  examples: ["ABCD", "CDAB"],
});

const RegisterRange = Type.Object({
  from: Type.String({
    minLength: 1,
    description: "First register of the range, written like a tag address.",
    examples: ["HR100"],
  }),
  to: Type.String({
    minLength: 1,
    description: "Last register of the range (included), same table as `from`.",
    examples: ["HR199"],
  }),
}, { additionalProperties: false, required: ["from", "to"] });

/** Per-device workarounds for devices that bend the Modbus rules. */
export const ModbusWorkaroundsSpec = Type.Object({
  addressOffset: Type.Optional(Type.Integer({
    minimum: -65535,
    maximum: 65535,
    default: 0,
    description:
      "Added to the offset of every tag address (and of `swapWords` ranges) of this device, for devices whose documentation is off by one: -1 when the manual's HR1 is the first register on the wire.",
    examples: [-1, 1],
  })),
  swapWords: Type.Optional(Type.Array(RegisterRange, {
    description:
      "Register ranges where 32- and 64-bit values come low word first whatever the tag's `order` says (ABCD and CDAB read as CDAB, BADC and DCBA as DCBA). A value is in a range when its first register is.",
    examples: [[{ from: "HR100", to: "HR199" }]],
  })),
  noFc22: Type.Optional(Type.Boolean({
    default: false,
    description:
      "The device lacks FC22 (mask write register): write register bits by read-modify-write (FC3 read, then FC6 write) without trying FC22 first. Bifrost also falls back by itself when FC22 answers 'Illegal function'.",
    examples: [true],
  })),
  fc23: Type.Optional(Type.Boolean({
    default: false,
    description:
      "The device supports FC23 (read/write multiple registers): the write half of a read-modify-write of a register bit uses FC23, which reads the register back in the same transaction and fails the write when the bit did not take.",
    examples: [true],
  })),
}, {
  additionalProperties: false,
  title: "Modbus workarounds",
  description:
    "Workarounds for non-standard devices: `addressOffset` (integer added to every address), `swapWords` (list of { from, to } register ranges whose 32/64-bit values are low word first), `noFc22` (bit writes by FC3+FC6 read-modify-write), `fc23` (use FC23 for the write of that read-modify-write). `maxRegistersPerRequest` is a device field.",
  examples: [{ addressOffset: -1, swapWords: [{ from: "HR100", to: "HR199" }], noFc22: true }],
});

/** Workaround fields as a flow gives them. */
export type ModbusWorkarounds = Static<typeof ModbusWorkaroundsSpec>;

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
    description:
      "Unit identifier (slave id) sent in every request, 0..255. Gateways route by it to serial devices 1..247; plain Modbus TCP devices often answer any id, or only 1 or 255.",
    examples: [1, 255],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "1s",
    description: "How long to wait for each response before the request fails with TIMEOUT.",
    examples: ["1s", "500ms"],
  })),
  ...RetryFields,
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
    default: 4,
    description:
      "Requests on the wire at once when `pipelining` is true. Ignored (forced to 1) when `pipelining` is false: then every request waits for the previous answer, whatever maxInFlight says.",
    examples: [4, 16],
  })),
  pipelining: Type.Optional(Type.Boolean({
    default: false,
    description:
      "Send the requests of a poll back to back (up to `maxInFlight`, each with its own transaction id) instead of one at a time. Most PLCs answer one request at a time; gateways and many modern devices take several.",
    examples: [false, true],
  })),
  workarounds: Type.Optional(ModbusWorkaroundsSpec),
}, { additionalProperties: false });

/** Device fields, defaults applied. */
export type ModbusDeviceFields = Required<Static<typeof ModbusDeviceSpec>>;

/** Tag fields of a `modbus-tcp` device. */
export const ModbusTagSpec = Type.Object({
  address: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Integer({ minimum: 0, maximum: 465536 }),
  ], {
    description:
      'Where the value is. Three forms: (1) table letters and a 0-based offset: HR (holding register), IR (input register), C (coil), DI (discrete input), e.g. HR0 is the first holding register; (2) a Modicon number, 1-based, whose first digit names the table (0 coil, 1 discrete input, 3 input register, 4 holding register): 5 digits cover registers 1..9999 (40001 = HR0, 49999 = HR9998), 6 digits cover 1..65536 (400001 = HR0, 465536 = HR65535); the digit count decides, so 40001 and 400001 are the same register; (3) a bit of a register: HR100.3 or 40101.3 (bit 0 is the least significant). Modicon numbers may be YAML integers (address: 40001); coil numbers start with 0, which YAML drops from integers, so quote them ("00001") or write C0. The device\'s `workarounds.addressOffset` is added to the offset.',
    examples: ["HR100", "IR0", "C5", "DI7", 40101, "400101", "HR100.3"],
  }),
  type: Type.Union(DATA_TYPES.map((t) => Type.Literal(t)), {
    description:
      "Data type: bool (coil, discrete input or bit of a register), 16/32/64-bit integers, float32/float64, or string.",
    examples: ["float32", "int16", "bool"],
  }),
  count: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 2000,
    default: 1,
    description:
      "Number of consecutive values of `type` to read: above 1 the value is an array (of `count` numbers, booleans or strings) and writes take an array of that length (FC15 for coils, FC16 for registers). Not for register bits. The whole array must fit in one request (maxRegistersPerRequest / maxBitsPerRequest).",
    examples: [1, 10],
  })),
  length: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 125,
    description:
      "Length in registers of a `string` tag (2 bytes each, first character in the high byte; `order` BADC or DCBA puts it in the low byte). A read ends at the first NUL, so trailing NUL padding is trimmed; a write pads with NULs.",
    examples: [10],
  })),
  order: Type.Optional(Type.Union(BYTE_ORDERS.map((o) => Type.Literal(o)), {
    description: "Byte/word order of this tag; overrides the device's `order`.",
    examples: ["CDAB"],
  })),
  overlap: Type.Optional(Type.Boolean({
    default: false,
    description:
      "Allow this tag to read registers or bits that another tag of the device also reads (a deliberate second view, e.g. a float32 and its two raw uint16 words). Without it, overlapping tags are an error; bits of one register (HR100.0, HR100.1) never overlap each other.",
    examples: [true],
  })),
  min: Type.Optional(Type.Number({
    description:
      "Lowest value a write may send, in the tag's engineering units (after `scale`). Reads are not limited. A write below it is refused with WRITE_REJECTED before anything is sent; every write is also checked against its type (int16 -32768..32767, float32 finite and within ±3.4028235e38, string bytes against `length`…).",
    examples: [0],
  })),
  max: Type.Optional(Type.Number({
    description:
      "Highest value a write may send, in the tag's engineering units (after `scale`). A write above it is refused with WRITE_REJECTED before anything is sent.",
    examples: [120],
  })),
}, { additionalProperties: false, required: ["address", "type"] });

/** Tag fields as a flow gives them. */
export type ModbusTagFields = Static<typeof ModbusTagSpec>;

/** Defaults of the device fields (besides `host`). */
export const DEVICE_DEFAULTS = {
  port: 502,
  unitId: 1,
  timeout: "1s",
  retries: 1,
  busyRetries: 0,
  busyRetryWait: "100ms",
  order: "ABCD",
  maxRegistersPerRequest: 125,
  maxBitsPerRequest: 2000,
  maxGap: 16,
  maxInFlight: 4,
  pipelining: false,
  workarounds: {},
} as const;
