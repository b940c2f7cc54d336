/**
 * @module
 * Modbus RTU framing, pure functions over `Uint8Array`: CRC-16/MODBUS, ADU encoding, and
 * two streaming reassemblers, one for responses (client side) and one for requests
 * (server side).
 *
 * RTU delimits frames by 3.5 character times of silence. A user-space process on a
 * non-real-time OS (and any RTU-over-TCP link, where the device server re-chunks the bytes)
 * cannot see those gaps reliably, so both reassemblers cut frames by length instead: the
 * length follows from the function code (and the byte count field), and a frame is only
 * accepted when its CRC matches. Bytes that do not start a plausible frame, and candidate
 * frames whose CRC fails, are dropped one byte at a time until a valid frame lines up
 * again. This is how libmodbus and pymodbus frame RTU as well.
 */

/** Smallest RTU ADU: unit id, function code, one byte, two CRC bytes (an exception). */
export const MIN_RTU_FRAME = 5;
/** Largest RTU ADU: unit id + 253-byte PDU + CRC. */
export const MAX_RTU_FRAME = 256;
/** Highest unit id a request may address (248-255 are reserved; 0 is broadcast). */
export const MAX_RTU_UNIT_ID = 247;

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/**
 * CRC-16/MODBUS (reflected polynomial 0xA001, initial value 0xFFFF) of `bytes[start, end)`.
 * On the wire the low byte goes first.
 *
 * @example
 * ```ts
 * crc16(new Uint8Array([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a])); // 0xcdc5: sent as C5 CD
 * ```
 */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/** True when the last two bytes of `bytes[start, end)` are the CRC of the bytes before. */
export function hasValidCrc(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  if (end - start < 3) return false;
  const crc = crc16(bytes, start, end - 2);
  return bytes[end - 2] === (crc & 0xff) && bytes[end - 1] === crc >> 8;
}

/**
 * Wraps a PDU into an RTU ADU: unit id, PDU, CRC (low byte first).
 *
 * @example
 * ```ts
 * encodeRtuFrame(1, new Uint8Array([3, 0, 0, 0, 10])); // 01 03 00 00 00 0A C5 CD
 * ```
 */
export function encodeRtuFrame(unitId: number, pdu: Uint8Array): Uint8Array {
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) {
    throw new RangeError(`Cannot frame a request for unit id ${unitId}: expected 0..255`);
  }
  if (pdu.length < 1 || pdu.length > MAX_RTU_FRAME - 3) {
    throw new RangeError(`Cannot frame a PDU of ${pdu.length} bytes: expected 1..253`);
  }
  const out = new Uint8Array(pdu.length + 3);
  out[0] = unitId;
  out.set(pdu, 1);
  const crc = crc16(out, 0, pdu.length + 1);
  out[pdu.length + 1] = crc & 0xff;
  out[pdu.length + 2] = crc >> 8;
  return out;
}

/** One RTU ADU cut out of a byte stream. `pdu` is a copy, safe to keep. */
export interface RtuFrame {
  unitId: number;
  pdu: Uint8Array;
}

/** Counters of a reassembler. */
export interface RtuFramingStats {
  /** Frames delivered. */
  frames: number;
  /** Candidate frames whose CRC did not match. */
  crcErrors: number;
  /** Bytes dropped while looking for the start of a frame (CRC failures included). */
  discarded: number;
}

const u16 = (p: Uint8Array, i: number) => (p[i]! << 8) | p[i + 1]!;

/**
 * The byte count a normal response to `request` carries (FC1-4 and 23), or undefined for
 * function codes whose response has a fixed length.
 */
function responseByteCount(request: Uint8Array): number | undefined {
  switch (request[0]) {
    case 1:
    case 2:
      return (u16(request, 3) + 7) >> 3;
    case 3:
    case 4:
    case 23:
      return 2 * u16(request, 3);
    default:
      return undefined;
  }
}

/**
 * Length of the RTU ADU of a normal (non-exception) response to a request PDU: byte-count
 * based for FC1-4 and 23, 8 for FC5/6/15/16, 10 for FC22. Exception responses are
 * {@linkcode MIN_RTU_FRAME} bytes. Throws a `RangeError` for other function codes, whose
 * response length RTU cannot know without timing.
 */
export function expectedResponseLength(request: Uint8Array): number {
  const fc = request[0] ?? 0;
  const byteCount = request.length >= 5 ? responseByteCount(request) : undefined;
  if (byteCount !== undefined) return 5 + byteCount;
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
  if (fc === 22) return 10;
  throw new RangeError(
    `Cannot frame RTU responses to function code ${fc}: supported are 1-6, 15, 16, 22, 23`,
  );
}

/** Concatenates the leftover of the last push with a new chunk. */
function join(buf: Uint8Array, chunk: Uint8Array): Uint8Array {
  if (buf.length === 0) return chunk;
  const data = new Uint8Array(buf.length + chunk.length);
  data.set(buf);
  data.set(chunk, buf.length);
  return data;
}

/** The shared scan loop: `lengthAt` says how long a frame at `at` is, 0 for "not a frame
 * start", or -1 for "need more bytes". */
abstract class Reassembler {
  #buf = new Uint8Array(0);
  /** Counters since creation. */
  readonly stats: RtuFramingStats = { frames: 0, crcErrors: 0, discarded: 0 };

  protected abstract lengthAt(data: Uint8Array, at: number): number;

  /** Feeds a chunk; calls `onFrame` for every complete frame with a valid CRC, in order. */
  push(chunk: Uint8Array, onFrame: (f: RtuFrame) => void): void {
    const data = join(this.#buf, chunk);
    let at = 0;
    while (data.length - at >= MIN_RTU_FRAME) {
      const len = this.lengthAt(data, at);
      if (len < 0) break;
      if (len === 0 || len > MAX_RTU_FRAME) {
        at++;
        this.stats.discarded++;
        continue;
      }
      if (at + len > data.length) break;
      if (!hasValidCrc(data, at, at + len)) {
        this.stats.crcErrors++;
        this.stats.discarded++;
        at++;
        continue;
      }
      this.stats.frames++;
      onFrame({ unitId: data[at]!, pdu: data.slice(at + 1, at + len - 2) });
      at += len;
    }
    this.#buf = at === data.length ? new Uint8Array(0) : data.slice(at);
  }

  /** Bytes waiting for the rest of their frame. */
  get pending(): number {
    return this.#buf.length;
  }

  /** Forgets buffered bytes (before a new request, after a reconnect). */
  reset(): void {
    this.#buf = new Uint8Array(0);
  }
}

/**
 * Cuts the responses to one request out of a byte stream. Call {@linkcode expect} before
 * sending each request: it sets the unit id, function code and byte count a response must
 * have and drops whatever was buffered. A frame is accepted when it starts with that unit
 * id and function code (or the exception code `fc | 0x80`), carries the expected byte
 * count, and its CRC matches.
 *
 * @example
 * ```ts
 * const r = new RtuResponseReassembler();
 * r.expect(1, readRequest(3, 0, 10));
 * r.push(chunk, (f) => console.log(f.pdu));
 * ```
 */
export class RtuResponseReassembler extends Reassembler {
  #unitId = -1;
  #fc = -1;
  #byteCount: number | undefined;
  #fixed = 0;

  /** Sets the request the next response answers; forgets buffered bytes. */
  expect(unitId: number, request: Uint8Array): void {
    this.#fixed = expectedResponseLength(request);
    this.#unitId = unitId;
    this.#fc = request[0]!;
    this.#byteCount = responseByteCount(request);
    this.reset();
  }

  protected lengthAt(data: Uint8Array, at: number): number {
    if (data[at] !== this.#unitId) return 0;
    const fc = data[at + 1]!;
    if (fc === (this.#fc | 0x80)) return MIN_RTU_FRAME;
    if (fc !== this.#fc) return 0;
    if (this.#byteCount === undefined) return this.#fixed;
    return data[at + 2] === (this.#byteCount & 0xff) ? 5 + this.#byteCount : 0;
  }
}

/**
 * Request ADU length from its first bytes: FC1-6 8 bytes, FC15/16 9 + byte count,
 * FC22 10, FC23 13 + byte count. 0 for an unknown function code; -1 when the byte count
 * has not arrived yet.
 */
export function requestFrameLength(data: Uint8Array, at = 0): number {
  switch (data[at + 1]) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
      return 8;
    case 15:
    case 16:
      return at + 6 < data.length ? 9 + data[at + 6]! : -1;
    case 22:
      return 10;
    case 23:
      return at + 10 < data.length ? 13 + data[at + 10]! : -1;
    default:
      return 0;
  }
}

/**
 * Cuts requests out of a byte stream (the server side of RTU). Accepts unit ids 0-247 and
 * the function codes of {@linkcode requestFrameLength}; anything else is garbage. Requests
 * with other function codes cannot be delimited without timing and are dropped, so a
 * server built on this never answers "illegal function" for them.
 */
export class RtuRequestReassembler extends Reassembler {
  protected lengthAt(data: Uint8Array, at: number): number {
    if (data[at]! > MAX_RTU_UNIT_ID) return 0;
    return requestFrameLength(data, at);
  }
}
