/**
 * @module
 * Modbus RTU: the frame codec (CRC-16/MODBUS, request and response reassemblers), the
 * serial line timings, and a one-request-at-a-time client transport over a serial device
 * or RTU over TCP.
 */

export {
  crc16,
  encodeRtuFrame,
  expectedResponseLength,
  hasValidCrc,
  MAX_RTU_FRAME,
  MAX_RTU_UNIT_ID,
  MIN_RTU_FRAME,
  requestFrameLength,
  type RtuFrame,
  type RtuFramingStats,
  RtuRequestReassembler,
  RtuResponseReassembler,
} from "./frame.ts";
export {
  BROADCAST_UNIT_ID,
  charTimeMs,
  DEFAULT_TURNAROUND_MS,
  isBroadcast,
  remainingSilenceMs,
  type RtuTimings,
  rtuTimings,
  silenceAfterRequestMs,
  transmitTimeMs,
} from "./timing.ts";
export {
  connectTcpStream,
  openSerialStream,
  type RtuStream,
  type SerialLineOptions,
  sttyArgs,
} from "./stream.ts";
export {
  type RtuSerialOptions,
  type RtuTcpOptions,
  RtuTransport,
  type RtuTransportOptions,
  type RtuTransportStats,
} from "./transport.ts";
