/**
 * @module
 * Config specs of the Modbus RTU drivers: `modbus-rtu` (a serial port) and `modbus-rtu-tcp`
 * (RTU frames over TCP to a serial device server). Tags are the same as `modbus-tcp`'s
 * ({@linkcode ModbusTagSpec}); so are the byte order, request limits and workarounds.
 * Several devices naming the same `port` (or `host` and `port`) are slaves on one line.
 */

import { RetryFields } from "../core/retry.ts";
import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "../../../engine/plugin.ts";
import { ModbusDeviceSpec } from "../core/spec.ts";

const p = ModbusDeviceSpec.properties;

const UnitId = Type.Optional(Type.Integer({
  minimum: 0,
  maximum: 247,
  default: 1,
  description:
    "Slave address on the line, 1..247. 0 is the broadcast address: every slave applies the write and none answers, so a unitId 0 device can only be written (its tags must be writable and must not be polled).",
  examples: [1, 17],
}));

const Timeout = Type.Optional(Type.String({
  pattern: DURATION_PATTERN,
  default: "1s",
  description:
    "How long to wait for each response, counted from the end of the request, before the request fails with TIMEOUT. Keep it short on shared lines: a silent slave holds the line this long.",
  examples: ["1s", "300ms"],
}));

const Turnaround = Type.Optional(Type.String({
  pattern: DURATION_PATTERN,
  default: "100ms",
  description:
    "Silence after a broadcast (unitId 0), which gets no response, before the next request: time for the slaves to apply it (the spec suggests 100-200 ms).",
  examples: ["100ms", "200ms"],
}));

const InterFrame = Type.Optional(Type.String({
  pattern: DURATION_PATTERN,
  description:
    "Silence before each request, overriding t3.5 (3.5 character times, 1.75 ms above 19200 baud). Raise it for slow slaves that need a gap after their own answer.",
  examples: ["5ms"],
}));

const BreakerTimeouts = Type.Optional(Type.Integer({
  minimum: 0,
  maximum: 100,
  default: 3,
  description:
    "Consecutive timeouts after which this slave's breaker opens: its requests then fail at once (DEVICE_UNREACHABLE) instead of holding the shared line for a timeout each, until a probe gets an answer. 0 disables the breaker.",
  examples: [3, 0],
}));

const ProbeInterval = Type.Optional(Type.String({
  pattern: DURATION_PATTERN,
  default: "10s",
  description:
    "How often one request of a slave with an open breaker is let through as a probe (±20 % jitter); an answer closes the breaker.",
  examples: ["10s", "1m"],
}));

const common = {
  unitId: UnitId,
  timeout: Timeout,
  ...RetryFields,
  turnaround: Turnaround,
  interFrame: InterFrame,
  breakerTimeouts: BreakerTimeouts,
  probeInterval: ProbeInterval,
  order: p.order,
  maxRegistersPerRequest: p.maxRegistersPerRequest,
  maxBitsPerRequest: p.maxBitsPerRequest,
  maxGap: p.maxGap,
  workarounds: p.workarounds,
};

/** Baud rates Linux `stty` accepts that Modbus devices use. */
export const BAUD_RATES = [
  1200,
  2400,
  4800,
  9600,
  19200,
  38400,
  57600,
  115200,
  230400,
] as const;

/** Device fields of `driver: modbus-rtu`. */
export const ModbusRtuDeviceSpec = Type.Object({
  port: Type.String({
    minLength: 1,
    description:
      "Serial device of the RTU line. Devices naming the same port are slaves on one line: they share it, one request at a time, served fairly.",
    examples: ["/dev/ttyUSB0", "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0"],
  }),
  baudRate: Type.Optional(Type.Union(BAUD_RATES.map((b) => Type.Literal(b)), {
    default: 9600,
    description: "Baud rate of the line.",
    examples: [9600, 19200],
  })),
  parity: Type.Optional(
    Type.Union([Type.Literal("none"), Type.Literal("even"), Type.Literal("odd")], {
      default: "even",
      description:
        "Parity: even (the Modbus RTU default, 8E1), odd, or none (then 2 stop bits by default, 8N2).",
      examples: ["even", "none"],
    }),
  ),
  stopBits: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], {
    description:
      "Stop bits; default 1, or 2 with parity none (the spec keeps 11 bits per character).",
    examples: [1, 2],
  })),
  dataBits: Type.Optional(Type.Literal(8, {
    default: 8,
    description: "Data bits: always 8 in RTU mode.",
    examples: [8],
  })),
  ...common,
}, { additionalProperties: false, required: ["port"] });

/** Device fields of `driver: modbus-rtu-tcp`. */
export const ModbusRtuTcpDeviceSpec = Type.Object({
  host: Type.String({
    minLength: 1,
    description:
      "Host name or IP address of the serial device server (Moxa NPort, USR, Lantronix… in TCP server mode, raw RTU frames, no MBAP header).",
    examples: ["192.168.1.50"],
  }),
  port: Type.Integer({
    minimum: 1,
    maximum: 65535,
    description:
      "TCP port of the serial port on the device server (4001 on Moxa NPort). Devices naming the same host and port are slaves on one line.",
    examples: [4001, 502],
  }),
  baudRate: Type.Optional(Type.Integer({
    minimum: 300,
    maximum: 1_000_000,
    description:
      "Baud rate of the serial line behind the server; when given, sets the t3.5 silence between requests.",
    examples: [9600, 19200],
  })),
  ...common,
}, { additionalProperties: false, required: ["host", "port"] });

/** `modbus-rtu` device fields as a flow gives them. */
export type ModbusRtuDeviceFields = Static<typeof ModbusRtuDeviceSpec>;
/** `modbus-rtu-tcp` device fields as a flow gives them. */
export type ModbusRtuTcpDeviceFields = Static<typeof ModbusRtuTcpDeviceSpec>;

/** Defaults of the RTU-only device fields. */
export const RTU_DEFAULTS = {
  baudRate: 9600,
  parity: "even",
  turnaround: "100ms",
  breakerTimeouts: 3,
  probeInterval: "10s",
} as const;

/** RTU device fields, defaults applied. */
export interface RtuFields {
  baudRate: number | undefined;
  parity: "none" | "even" | "odd";
  stopBits: 1 | 2 | undefined;
  turnaroundMs: number;
  interFrameMs: number | undefined;
  breakerTimeouts: number;
  probeIntervalMs: number;
}

/** The RTU-only fields of a device config (serial or over TCP), defaults applied. */
export function rtuFields(config: Record<string, unknown>, serial: boolean): RtuFields {
  const c = config as Record<string, string | number | undefined>;
  return {
    baudRate: (c.baudRate as number | undefined) ?? (serial ? RTU_DEFAULTS.baudRate : undefined),
    parity: (c.parity as RtuFields["parity"] | undefined) ?? RTU_DEFAULTS.parity,
    stopBits: c.stopBits as 1 | 2 | undefined,
    turnaroundMs: parseDuration(c.turnaround ?? RTU_DEFAULTS.turnaround),
    interFrameMs: c.interFrame === undefined ? undefined : parseDuration(c.interFrame),
    breakerTimeouts: (c.breakerTimeouts as number | undefined) ?? RTU_DEFAULTS.breakerTimeouts,
    probeIntervalMs: parseDuration(c.probeInterval ?? RTU_DEFAULTS.probeInterval),
  };
}
