/**
 * @module
 * The EtherNet/IP encapsulation layer (CIP Vol. 2): the 24-byte header, RegisterSession,
 * SendRRData (unconnected, UCMM) and SendUnitData (connected) with their Common Packet
 * Format items, and ListIdentity. Pure functions over `Uint8Array`, little-endian.
 */

/** Encapsulation commands. */
export const COMMANDS = {
  NOP: 0x0000,
  LIST_SERVICES: 0x0004,
  LIST_IDENTITY: 0x0063,
  REGISTER_SESSION: 0x0065,
  UNREGISTER_SESSION: 0x0066,
  SEND_RR_DATA: 0x006f,
  SEND_UNIT_DATA: 0x0070,
} as const;

/** Encapsulation status codes. */
export const ENCAP_STATUS = {
  0x0000: "Success",
  0x0001: "Invalid or unsupported command",
  0x0002: "Insufficient memory in the target",
  0x0003: "Poorly formed or incorrect data",
  0x0064: "Invalid session handle",
  0x0065: "Invalid length",
  0x0069: "Unsupported encapsulation protocol revision",
} as const;

/** CPF item types. */
export const ITEMS = {
  NULL_ADDRESS: 0x0000,
  LIST_IDENTITY: 0x000c,
  CONNECTED_ADDRESS: 0x00a1,
  CONNECTED_DATA: 0x00b1,
  UNCONNECTED_DATA: 0x00b2,
} as const;

/** Bytes of the encapsulation header. */
export const HEADER_SIZE = 24;

/** A parsed encapsulation header. */
export interface EncapHeader {
  command: number;
  length: number;
  session: number;
  status: number;
  /** The 8-byte sender context, as two 32-bit halves (echoed by the target). */
  context: [number, number];
}

/** Writes the header of a frame of `dataLength` bytes of command data into `out`. */
export function writeHeader(
  out: Uint8Array,
  command: number,
  dataLength: number,
  session: number,
  context = 0,
  status = 0,
): void {
  const v = new DataView(out.buffer, out.byteOffset, HEADER_SIZE);
  v.setUint16(0, command, true);
  v.setUint16(2, dataLength, true);
  v.setUint32(4, session, true);
  v.setUint32(8, status, true);
  v.setUint32(12, context, true);
  v.setUint32(16, 0, true);
  v.setUint32(20, 0, true);
}

/** Parses a header at `at` of `bytes`. */
export function readHeader(bytes: Uint8Array, at = 0): EncapHeader {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER_SIZE);
  return {
    command: v.getUint16(0, true),
    length: v.getUint16(2, true),
    session: v.getUint32(4, true),
    status: v.getUint32(8, true),
    context: [v.getUint32(12, true), v.getUint32(16, true)],
  };
}

/** A whole frame: header plus `data`. */
export function frame(command: number, session: number, data: Uint8Array, context = 0): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + data.length);
  writeHeader(out, command, data.length, session, context);
  out.set(data, HEADER_SIZE);
  return out;
}

/** RegisterSession: protocol version 1, no options. */
export function registerSession(): Uint8Array {
  return frame(COMMANDS.REGISTER_SESSION, 0, new Uint8Array([1, 0, 0, 0]));
}

/** SendRRData carrying an unconnected CIP message (null address + unconnected data items). */
export function sendRRData(session: number, cip: Uint8Array, context = 0): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + 16 + cip.length);
  writeHeader(out, COMMANDS.SEND_RR_DATA, 16 + cip.length, session, context);
  const v = new DataView(out.buffer, HEADER_SIZE);
  v.setUint32(0, 0, true); // interface handle: CIP
  v.setUint16(4, 0, true); // timeout: the CIP layer's
  v.setUint16(6, 2, true); // two items
  v.setUint16(8, ITEMS.NULL_ADDRESS, true);
  v.setUint16(10, 0, true);
  v.setUint16(12, ITEMS.UNCONNECTED_DATA, true);
  v.setUint16(14, cip.length, true);
  out.set(cip, HEADER_SIZE + 16);
  return out;
}

/** Bytes before the CIP message in a SendUnitData frame (header, CPF, sequence count). */
export const UNIT_DATA_OVERHEAD = HEADER_SIZE + 22;

/**
 * SendUnitData carrying a connected CIP message on connection `connectionId` with sequence
 * count `sequence` (connected address + connected data items).
 */
export function sendUnitData(
  session: number,
  connectionId: number,
  sequence: number,
  cip: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(UNIT_DATA_OVERHEAD + cip.length);
  writeUnitDataHead(out, session, connectionId, sequence, cip.length);
  out.set(cip, UNIT_DATA_OVERHEAD);
  return out;
}

/** Writes the head of a SendUnitData frame whose CIP message has `cipLength` bytes. */
export function writeUnitDataHead(
  out: Uint8Array,
  session: number,
  connectionId: number,
  sequence: number,
  cipLength: number,
): void {
  writeHeader(out, COMMANDS.SEND_UNIT_DATA, 22 + cipLength, session);
  const v = new DataView(out.buffer, out.byteOffset + HEADER_SIZE, 22);
  v.setUint32(0, 0, true);
  v.setUint16(4, 0, true);
  v.setUint16(6, 2, true);
  v.setUint16(8, ITEMS.CONNECTED_ADDRESS, true);
  v.setUint16(10, 4, true);
  v.setUint32(12, connectionId, true);
  v.setUint16(16, ITEMS.CONNECTED_DATA, true);
  v.setUint16(18, cipLength + 2, true);
  v.setUint16(20, sequence & 0xffff, true);
}

/** The CPF items of a SendRRData/SendUnitData body (after interface handle and timeout). */
export interface CpfItem {
  type: number;
  data: Uint8Array;
}

/** Parses the CPF items of command data (`data` starts at the interface handle). */
export function readCpf(data: Uint8Array, skip = 6): CpfItem[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < skip + 2) throw new RangeError("the CPF has no item count");
  const count = v.getUint16(skip, true);
  const items: CpfItem[] = [];
  let at = skip + 2;
  for (let i = 0; i < count; i++) {
    if (at + 4 > data.length) throw new RangeError(`CPF item ${i} is cut short`);
    const type = v.getUint16(at, true);
    const len = v.getUint16(at + 2, true);
    if (at + 4 + len > data.length) throw new RangeError(`CPF item ${i} is longer than the frame`);
    items.push({ type, data: data.subarray(at + 4, at + 4 + len) });
    at += 4 + len;
  }
  return items;
}

/** A device as ListIdentity describes it. */
export interface Identity {
  vendorId: number;
  deviceType: number;
  productCode: number;
  revision: string;
  status: number;
  serial: number;
  productName: string;
  state: number;
  /** The socket address the device reports (its own IP). */
  address: string;
}

/** Known vendor ids (ODVA), for `discover`. */
export const VENDORS: Record<number, string> = {
  1: "Rockwell Automation/Allen-Bradley",
  283: "Bifrost (simulator)",
};

/** Encodes a ListIdentity reply's identity item (the simulator's side). */
export function encodeIdentity(id: Identity, port = 44818): Uint8Array {
  const name = new TextEncoder().encode(id.productName);
  const body = new Uint8Array(34 + name.length + 1);
  const v = new DataView(body.buffer);
  v.setUint16(0, 1, true); // protocol version
  v.setUint16(2, 2, false); // sockaddr: AF_INET, big-endian
  v.setUint16(4, port, false);
  const ip = id.address.split(".").map(Number);
  for (let i = 0; i < 4; i++) body[6 + i] = ip[i] ?? 0;
  v.setUint16(18, id.vendorId, true);
  v.setUint16(20, id.deviceType, true);
  v.setUint16(22, id.productCode, true);
  const [major, minor] = id.revision.split(".").map(Number);
  body[24] = major ?? 0;
  body[25] = minor ?? 0;
  v.setUint16(26, id.status, true);
  v.setUint32(28, id.serial, true);
  body[32] = name.length;
  body.set(name, 33);
  body[33 + name.length] = id.state;
  const out = new Uint8Array(2 + 4 + body.length);
  const o = new DataView(out.buffer);
  o.setUint16(0, 1, true);
  o.setUint16(2, ITEMS.LIST_IDENTITY, true);
  o.setUint16(4, body.length, true);
  out.set(body, 6);
  return out;
}

/** Parses the identity items of a ListIdentity reply's command data. */
export function readIdentities(data: Uint8Array): Identity[] {
  const out: Identity[] = [];
  for (const item of readCpf(data, 0)) {
    if (item.type !== ITEMS.LIST_IDENTITY || item.data.length < 34) continue;
    const b = item.data;
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const nameLen = b[32]!;
    out.push({
      address: `${b[6]}.${b[7]}.${b[8]}.${b[9]}`,
      vendorId: v.getUint16(18, true),
      deviceType: v.getUint16(20, true),
      productCode: v.getUint16(22, true),
      revision: `${b[24]}.${String(b[25]).padStart(3, "0")}`,
      status: v.getUint16(26, true),
      serial: v.getUint32(28, true),
      productName: new TextDecoder().decode(b.subarray(33, 33 + nameLen)),
      state: b[33 + nameLen] ?? 0,
    });
  }
  return out;
}
