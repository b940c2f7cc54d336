/**
 * @module
 * Modbus PDUs and the Modbus TCP ADU (MBAP header): request encoding and response decoding,
 * pure functions over `Uint8Array`. Shared by the driver and the simulator.
 */

/** Function codes Bifrost speaks. */
export const FunctionCodes = {
  readCoils: 1,
  readDiscreteInputs: 2,
  readHoldingRegisters: 3,
  readInputRegisters: 4,
  writeSingleCoil: 5,
  writeSingleRegister: 6,
  writeMultipleCoils: 15,
  writeMultipleRegisters: 16,
  maskWriteRegister: 22,
  readWriteMultipleRegisters: 23,
} as const;
/** A function code. */
export type FunctionCode = (typeof FunctionCodes)[keyof typeof FunctionCodes];

/** Modbus exception codes and their names (Modbus Application Protocol v1.1b3, 7). */
export const ModbusExceptions = {
  1: "Illegal function",
  2: "Illegal data address",
  3: "Illegal data value",
  4: "Server device failure",
  5: "Acknowledge",
  6: "Server device busy",
  8: "Memory parity error",
  10: "Gateway path unavailable",
  11: "Gateway target device failed to respond",
} as const;
/** A known exception code. */
export type ExceptionCode = keyof typeof ModbusExceptions;

/** The name of an exception code, e.g. `Illegal data address`. */
export function exceptionName(code: number): string {
  return (ModbusExceptions as Record<number, string>)[code] ?? "Unknown exception";
}

/**
 * The constant name of an exception code, for `DEVICE_EXCEPTION` details, e.g.
 * `SERVER_DEVICE_BUSY` (the specification's names).
 */
export function exceptionConstant(code: number): string {
  return exceptionName(code).toUpperCase().replaceAll(" ", "_");
}

/** Length of the MBAP header. */
export const MBAP_LENGTH = 7;
/** Largest PDU (253 bytes) plus the unit id: the biggest legal MBAP `length` field. */
export const MAX_MBAP_LENGTH = 254;

/** A read request PDU (FC1-4): function, start, quantity. */
export function readRequest(fc: 1 | 2 | 3 | 4, start: number, quantity: number): Uint8Array {
  return new Uint8Array([fc, start >> 8, start & 0xff, quantity >> 8, quantity & 0xff]);
}

/** FC5: writes one coil. */
export function writeSingleCoilRequest(address: number, on: boolean): Uint8Array {
  return new Uint8Array([5, address >> 8, address & 0xff, on ? 0xff : 0, 0]);
}

/** FC6: writes one register (`value` is the raw 16-bit word). */
export function writeSingleRegisterRequest(address: number, value: number): Uint8Array {
  return new Uint8Array([6, address >> 8, address & 0xff, (value >> 8) & 0xff, value & 0xff]);
}

/** FC15: writes coils from packed bytes. */
export function writeMultipleCoilsRequest(
  address: number,
  count: number,
  packed: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(6 + packed.length);
  out.set([15, address >> 8, address & 0xff, count >> 8, count & 0xff, packed.length]);
  out.set(packed, 6);
  return out;
}

/** FC16: writes registers from register bytes. */
export function writeMultipleRegistersRequest(address: number, bytes: Uint8Array): Uint8Array {
  const count = bytes.length >> 1;
  const out = new Uint8Array(6 + bytes.length);
  out.set([16, address >> 8, address & 0xff, count >> 8, count & 0xff, bytes.length]);
  out.set(bytes, 6);
  return out;
}

/** FC22: `reg = (reg & andMask) | (orMask & ~andMask)`. */
export function maskWriteRegisterRequest(
  address: number,
  andMask: number,
  orMask: number,
): Uint8Array {
  return new Uint8Array([
    22,
    address >> 8,
    address & 0xff,
    (andMask >> 8) & 0xff,
    andMask & 0xff,
    (orMask >> 8) & 0xff,
    orMask & 0xff,
  ]);
}

/**
 * FC23: writes `bytes` (register bytes) at `writeAddress`, then reads `readCount` registers
 * from `readAddress`, in one transaction (the write happens first).
 */
export function readWriteMultipleRegistersRequest(
  readAddress: number,
  readCount: number,
  writeAddress: number,
  bytes: Uint8Array,
): Uint8Array {
  const n = bytes.length >> 1;
  const out = new Uint8Array(10 + bytes.length);
  out.set([
    23,
    readAddress >> 8,
    readAddress & 0xff,
    readCount >> 8,
    readCount & 0xff,
    writeAddress >> 8,
    writeAddress & 0xff,
    n >> 8,
    n & 0xff,
    bytes.length,
  ]);
  out.set(bytes, 10);
  return out;
}

/** Wraps a PDU into a Modbus TCP ADU. */
export function encodeAdu(transactionId: number, unitId: number, pdu: Uint8Array): Uint8Array {
  const out = new Uint8Array(MBAP_LENGTH + pdu.length);
  const len = pdu.length + 1;
  out[0] = (transactionId >> 8) & 0xff;
  out[1] = transactionId & 0xff;
  out[4] = len >> 8;
  out[5] = len & 0xff;
  out[6] = unitId;
  out.set(pdu, MBAP_LENGTH);
  return out;
}

/** A decoded response: the data bytes, or an exception code. */
export type ResponseResult =
  | { ok: true; data: Uint8Array }
  | { ok: false; exception: number }
  | { ok: false; malformed: string };

/** `0x03`: a function code as Modbus documents write it. */
export function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}

/**
 * Why `response[from..to)` (a response PDU) cannot answer `request`, or `undefined` when it
 * can: an exception response of 2 bytes, or a normal one whose function code, byte count and
 * length fit the request (writes: whose echo matches). Allocates nothing unless it finds a fault,
 * so the client checks every frame in place before it copies the PDU out.
 */
export function responseProblem(
  request: Uint8Array,
  response: Uint8Array,
  from = 0,
  to: number = response.length,
): string | undefined {
  const fc = request[0]!;
  const n = to - from;
  if (n < 2) return `a ${n}-byte PDU, shorter than 2 bytes`;
  const rfc = response[from]!;
  if (rfc === (fc | 0x80)) {
    return n === 2
      ? undefined
      : `function code ${hexByte(rfc)} (exception) in a ${n}-byte PDU, expected 2 bytes`;
  }
  if (rfc !== fc) return `function code ${hexByte(rfc)} answers a request with ${hexByte(fc)}`;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 23: {
      // FC23 carries its read quantity where FC1-4 do (bytes 3-4).
      const count = (request[3]! << 8) | request[4]!;
      const expected = fc === 1 || fc === 2 ? (count + 7) >> 3 : 2 * count;
      const byteCount = response[from + 1]!;
      if (byteCount !== expected || n !== 2 + byteCount) {
        return `function code ${
          hexByte(rfc)
        } with byte count ${byteCount} in a ${n}-byte PDU, expected byte count ${expected}`;
      }
      return undefined;
    }
    case 5:
    case 6:
    case 15:
    case 16:
    case 22: {
      const len = fc === 22 ? 7 : 5;
      if (n !== len) {
        return `function code ${hexByte(rfc)} in a ${n}-byte PDU, expected ${len} bytes`;
      }
      for (let i = 1; i < len; i++) {
        if (response[from + i] !== request[i]) return "the echo does not match the request";
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Where the data of a good response to function `fc` starts in its PDU (reads: after the byte count). */
export function dataOffset(fc: number): 1 | 2 {
  return (fc >= 1 && fc <= 4) || fc === 23 ? 2 : 1;
}

/**
 * Decodes a response PDU against the request PDU that caused it. Reads return their data
 * bytes (register bytes or packed bits); writes return the echoed fields.
 */
export function decodeResponse(request: Uint8Array, response: Uint8Array): ResponseResult {
  const fc = request[0]!;
  if (response.length >= 2 && response[0] === (fc | 0x80)) {
    return { ok: false, exception: response[1]! };
  }
  const problem = responseProblem(request, response);
  if (problem !== undefined) return { ok: false, malformed: problem };
  return { ok: true, data: response.subarray(dataOffset(fc)) };
}

/** One ADU cut out of a byte stream. `pdu` is a copy, safe to keep. */
export interface Frame {
  transactionId: number;
  protocolId: number;
  unitId: number;
  pdu: Uint8Array;
}

/**
 * Cuts a TCP byte stream into Modbus TCP frames: handles partial frames and several frames
 * in one read. A header with a protocol id other than 0 or an impossible length cannot be
 * resynchronised: the buffered bytes are dropped and counted in `malformed`.
 */
export class MbapReassembler {
  #buf = new Uint8Array(0);
  /** Chunks discarded because their header was impossible. */
  malformed = 0;

  /** Feeds a chunk; calls `onFrame` for every complete frame, in order. */
  push(chunk: Uint8Array, onFrame: (f: Frame) => void): void {
    let data: Uint8Array;
    if (this.#buf.length === 0) data = chunk;
    else {
      data = new Uint8Array(this.#buf.length + chunk.length);
      data.set(this.#buf);
      data.set(chunk, this.#buf.length);
    }
    let at = 0;
    while (data.length - at >= MBAP_LENGTH) {
      const protocolId = (data[at + 2]! << 8) | data[at + 3]!;
      const len = (data[at + 4]! << 8) | data[at + 5]!;
      if (protocolId !== 0 || len < 2 || len > MAX_MBAP_LENGTH) {
        this.malformed++;
        at = data.length;
        break;
      }
      const end = at + 6 + len;
      if (end > data.length) break;
      onFrame({
        transactionId: (data[at]! << 8) | data[at + 1]!,
        protocolId,
        unitId: data[at + 6]!,
        pdu: data.slice(at + MBAP_LENGTH, end),
      });
      at = end;
    }
    this.#buf = at === data.length ? new Uint8Array(0) : data.slice(at);
  }

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Forgets buffered bytes (after a reconnect). */
  reset(): void {
    this.#buf = new Uint8Array(0);
  }
}
