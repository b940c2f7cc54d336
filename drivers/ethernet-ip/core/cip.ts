/**
 * @module
 * CIP messages of the Message Router and the Connection Manager: requests and replies of
 * Read/Write Tag (and their fragmented forms), Read-Modify-Write, Multiple Service Packet,
 * Unconnected Send, Forward Open (standard and large), Forward Close, and the Get Instance
 * Attribute List / Get Attribute List / Read Template services of symbol browse. Pure
 * functions over `Uint8Array`.
 */

import { logicalPath } from "./address.ts";

/** CIP service codes. */
export const SERVICES = {
  GET_ATTRIBUTE_ALL: 0x01,
  GET_ATTRIBUTE_LIST: 0x03,
  MULTIPLE_SERVICE: 0x0a,
  GET_ATTRIBUTE_SINGLE: 0x0e,
  READ_TAG: 0x4c,
  WRITE_TAG: 0x4d,
  READ_MODIFY_WRITE: 0x4e,
  FORWARD_CLOSE: 0x4e,
  READ_TAG_FRAGMENTED: 0x52,
  UNCONNECTED_SEND: 0x52,
  WRITE_TAG_FRAGMENTED: 0x53,
  FORWARD_OPEN: 0x54,
  GET_INSTANCE_ATTRIBUTE_LIST: 0x55,
  LARGE_FORWARD_OPEN: 0x5b,
} as const;

/** Classes used here. */
export const CLASSES = {
  IDENTITY: 0x01,
  MESSAGE_ROUTER: 0x02,
  CONNECTION_MANAGER: 0x06,
  SYMBOL: 0x6b,
  TEMPLATE: 0x6c,
} as const;

/** The Message Router (`20 02 24 01`). */
export const MESSAGE_ROUTER_PATH = logicalPath(CLASSES.MESSAGE_ROUTER, 1);
/** The Connection Manager (`20 06 24 01`). */
export const CONNECTION_MANAGER_PATH = logicalPath(CLASSES.CONNECTION_MANAGER, 1);

/** Bytes a Message Router request adds to its path and data. */
export const REQUEST_OVERHEAD = 2;
/** Bytes a Message Router reply adds before its data (without extended status). */
export const REPLY_OVERHEAD = 4;

/** A Message Router request: service, request path (even length), data. */
export function request(service: number, path: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + path.length + data.length);
  out[0] = service;
  out[1] = path.length >> 1;
  out.set(path, 2);
  out.set(data, 2 + path.length);
  return out;
}

/** A parsed Message Router reply. */
export interface Reply {
  service: number;
  status: number;
  extended: number[];
  data: Uint8Array;
}

/** Parses a Message Router reply; throws a RangeError when it is cut short. */
export function readReply(b: Uint8Array): Reply {
  if (b.length < 4) throw new RangeError(`a CIP reply of ${b.length} bytes is too short`);
  const extWords = b[3]!;
  const dataAt = 4 + extWords * 2;
  if (dataAt > b.length) throw new RangeError("the CIP reply's extended status is cut short");
  const extended: number[] = [];
  for (let i = 0; i < extWords; i++) extended.push(b[4 + i * 2]! | (b[5 + i * 2]! << 8));
  return { service: b[0]! & 0x7f, status: b[2]!, extended, data: b.subarray(dataAt) };
}

/** Encodes a reply (the simulator's side). */
export function encodeReply(
  service: number,
  status: number,
  data: Uint8Array = new Uint8Array(0),
  extended: readonly number[] = [],
): Uint8Array {
  const out = new Uint8Array(4 + extended.length * 2 + data.length);
  out[0] = service | 0x80;
  out[2] = status;
  out[3] = extended.length;
  extended.forEach((e, i) => {
    out[4 + i * 2] = e & 0xff;
    out[5 + i * 2] = e >> 8;
  });
  out.set(data, 4 + extended.length * 2);
  return out;
}

function u16(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Read Tag: `count` elements from the path. */
export function readTag(path: Uint8Array, count: number): Uint8Array {
  return request(SERVICES.READ_TAG, path, new Uint8Array(u16(count)));
}

/** Read Tag Fragmented: `count` elements from byte `offset`. */
export function readTagFragmented(path: Uint8Array, count: number, offset: number): Uint8Array {
  return request(
    SERVICES.READ_TAG_FRAGMENTED,
    path,
    new Uint8Array([...u16(count), ...u32(offset)]),
  );
}

/** The type bytes of a write: an atomic code, or 0x02A0 and a structure handle. */
export function typeBytes(code: number, structHandle?: number): number[] {
  return structHandle === undefined ? u16(code) : [0xa0, 0x02, ...u16(structHandle)];
}

/** Write Tag: `count` elements of `type` (see {@linkcode typeBytes}). */
export function writeTag(
  path: Uint8Array,
  type: number[],
  count: number,
  data: Uint8Array,
): Uint8Array {
  const head = [...type, ...u16(count)];
  const body = new Uint8Array(head.length + data.length);
  body.set(head);
  body.set(data, head.length);
  return request(SERVICES.WRITE_TAG, path, body);
}

/** Write Tag Fragmented: a piece of `data` at byte `offset`. */
export function writeTagFragmented(
  path: Uint8Array,
  type: number[],
  count: number,
  offset: number,
  data: Uint8Array,
): Uint8Array {
  const head = [...type, ...u16(count), ...u32(offset)];
  const body = new Uint8Array(head.length + data.length);
  body.set(head);
  body.set(data, head.length);
  return request(SERVICES.WRITE_TAG_FRAGMENTED, path, body);
}

/** Read-Modify-Write of one bit of an integer of `size` bytes (OR mask, then AND mask). */
export function readModifyWrite(
  path: Uint8Array,
  size: number,
  bit: number,
  on: boolean,
): Uint8Array {
  const or = new Uint8Array(size);
  const and = new Uint8Array(size).fill(0xff);
  const byte = bit >> 3;
  if (on) or[byte] = 1 << (bit & 7);
  else and[byte] = ~(1 << (bit & 7)) & 0xff;
  return request(SERVICES.READ_MODIFY_WRITE, path, new Uint8Array([...u16(size), ...or, ...and]));
}

/** Bytes a Multiple Service Packet adds per embedded request (its offset). */
export const MSP_PER_REQUEST = 2;
/** Bytes of a Multiple Service Packet before its offsets (request head and count). */
export const MSP_HEAD = 2 + MESSAGE_ROUTER_PATH.length + 2;

/** Multiple Service Packet carrying `requests`. */
export function multipleService(requests: readonly Uint8Array[]): Uint8Array {
  const n = requests.length;
  let size = 2 + 2 * n;
  for (const r of requests) size += r.length;
  const body = new Uint8Array(size);
  const v = new DataView(body.buffer);
  v.setUint16(0, n, true);
  let at = 2 + 2 * n;
  for (const [i, r] of requests.entries()) {
    v.setUint16(2 + 2 * i, at, true);
    body.set(r, at);
    at += r.length;
  }
  return request(SERVICES.MULTIPLE_SERVICE, MESSAGE_ROUTER_PATH, body);
}

/** Splits the data of a Multiple Service Packet (request or reply) into its messages. */
export function splitMultiple(data: Uint8Array): Uint8Array[] {
  if (data.length < 2) throw new RangeError("a Multiple Service Packet without a count");
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = v.getUint16(0, true);
  if (2 + 2 * n > data.length) throw new RangeError("a Multiple Service Packet cut short");
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const start = v.getUint16(2 + 2 * i, true);
    const end = i + 1 < n ? v.getUint16(4 + 2 * i, true) : data.length;
    if (start > end || end > data.length) throw new RangeError(`message ${i} has a bad offset`);
    out.push(data.subarray(start, end));
  }
  return out;
}

/** Unconnected Send through the Connection Manager to `route` (port segments). */
export function unconnectedSend(message: Uint8Array, route: Uint8Array): Uint8Array {
  const pad = message.length % 2;
  const body = new Uint8Array(4 + message.length + pad + 2 + route.length);
  body[0] = 0x0a; // priority/time tick
  body[1] = 0x0e; // timeout ticks (about 2 s with the tick above)
  body[2] = message.length & 0xff;
  body[3] = message.length >> 8;
  body.set(message, 4);
  const at = 4 + message.length + pad;
  body[at] = route.length >> 1;
  body[at + 1] = 0;
  body.set(route, at + 2);
  return request(SERVICES.UNCONNECTED_SEND, CONNECTION_MANAGER_PATH, body);
}

/** What identifies a connection to the Connection Manager. */
export interface ConnectionTriad {
  serial: number;
  vendorId: number;
  originatorSerial: number;
}

/** Forward Open (`large`: Large Forward Open with 32-bit parameters) for class 3 messaging. */
export function forwardOpen(o: {
  large: boolean;
  size: number;
  toConnectionId: number;
  triad: ConnectionTriad;
  route: Uint8Array;
  rpiUs?: number;
}): Uint8Array {
  const path = new Uint8Array([...o.route, ...MESSAGE_ROUTER_PATH]);
  const rpi = o.rpiUs ?? 2_000_000;
  const params = o.large
    ? u32((0x42000000 | (o.size & 0xffff)) >>> 0)
    : u16(0x4200 | (o.size & 0x1ff));
  const body = [
    0x0a,
    0x0e,
    ...u32(0), // O->T connection id: the target chooses
    ...u32(o.toConnectionId),
    ...u16(o.triad.serial),
    ...u16(o.triad.vendorId),
    ...u32(o.triad.originatorSerial),
    3, // timeout multiplier: x32 RPI
    0,
    0,
    0,
    ...u32(rpi),
    ...params,
    ...u32(rpi),
    ...params,
    0xa3, // class 3, application trigger, server
    path.length >> 1,
    ...path,
  ];
  return request(
    o.large ? SERVICES.LARGE_FORWARD_OPEN : SERVICES.FORWARD_OPEN,
    CONNECTION_MANAGER_PATH,
    new Uint8Array(body),
  );
}

/** Parses what Forward Open's request asks (the simulator's side). */
export function readForwardOpen(data: Uint8Array, large: boolean): {
  toConnectionId: number;
  triad: ConnectionTriad;
  size: number;
} {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const params = large ? v.getUint32(26, true) : v.getUint16(26, true);
  return {
    toConnectionId: v.getUint32(6, true),
    triad: {
      serial: v.getUint16(10, true),
      vendorId: v.getUint16(12, true),
      originatorSerial: v.getUint32(14, true),
    },
    size: large ? params & 0xffff : params & 0x1ff,
  };
}

/** Forward Open's reply data (the simulator's side). */
export function forwardOpenReply(
  otConnectionId: number,
  toConnectionId: number,
  triad: ConnectionTriad,
  rpiUs: number,
): Uint8Array {
  return new Uint8Array([
    ...u32(otConnectionId),
    ...u32(toConnectionId),
    ...u16(triad.serial),
    ...u16(triad.vendorId),
    ...u32(triad.originatorSerial),
    ...u32(rpiUs),
    ...u32(rpiUs),
    0,
    0,
  ]);
}

/** Forward Close of the connection of `triad`. */
export function forwardClose(triad: ConnectionTriad, route: Uint8Array): Uint8Array {
  const path = new Uint8Array([...route, ...MESSAGE_ROUTER_PATH]);
  return request(
    SERVICES.FORWARD_CLOSE,
    CONNECTION_MANAGER_PATH,
    new Uint8Array([
      0x0a,
      0x0e,
      ...u16(triad.serial),
      ...u16(triad.vendorId),
      ...u32(triad.originatorSerial),
      path.length >> 1,
      0,
      ...path,
    ]),
  );
}

/**
 * Get Instance Attribute List of the Symbol object from `instance` on (name, type), in the
 * controller scope or in `program`'s.
 */
export function listSymbols(instance: number, programPath?: Uint8Array): Uint8Array {
  // The 16-bit instance form, as Logix controllers expect for this service.
  const path = [...(programPath ?? []), 0x20, CLASSES.SYMBOL, 0x25, 0, ...u16(instance)];
  return request(
    SERVICES.GET_INSTANCE_ATTRIBUTE_LIST,
    new Uint8Array(path),
    new Uint8Array([3, 0, 1, 0, 2, 0, 8, 0]),
  );
}

/** A symbol of the controller: its instance, name and type word. */
export interface SymbolEntry {
  instance: number;
  name: string;
  /** The symbol type: bit 15 structure, bits 13-14 dimensions, bit 12 system, 0-11 code. */
  type: number;
  /** Array dimensions (attribute 8), zeros beyond the tag's. */
  dims: [number, number, number];
}

/** Parses a Get Instance Attribute List reply of symbols (attributes 1 and 2). */
export function readSymbols(data: Uint8Array): SymbolEntry[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: SymbolEntry[] = [];
  let at = 0;
  while (at + 6 <= data.length) {
    const instance = v.getUint32(at, true);
    const len = v.getUint16(at + 4, true);
    if (at + 6 + len + 14 > data.length) throw new RangeError("a symbol entry is cut short");
    const name = String.fromCharCode(...data.subarray(at + 6, at + 6 + len));
    const type = v.getUint16(at + 6 + len, true);
    const d = at + 8 + len;
    const dims: [number, number, number] = [
      v.getUint32(d, true),
      v.getUint32(d + 4, true),
      v.getUint32(d + 8, true),
    ];
    out.push({ instance, name, type, dims });
    at += 20 + len;
  }
  return out;
}

/** Bytes of one symbol entry answering `attributes` (1 name, 2 type, 8 dimensions). */
export function symbolEntrySize(e: SymbolEntry, attributes: readonly number[]): number {
  let n = 4;
  for (const a of attributes) n += a === 1 ? 2 + e.name.length : a === 2 ? 2 : a === 8 ? 12 : 0;
  return n;
}

/** Encodes symbol entries with the attributes asked, in their order (the simulator's side). */
export function encodeSymbols(
  entries: readonly SymbolEntry[],
  attributes: readonly number[] = [1, 2, 8],
): Uint8Array {
  const bytes: number[] = [];
  for (const e of entries) {
    bytes.push(...u32(e.instance));
    for (const a of attributes) {
      if (a === 1) {
        bytes.push(...u16(e.name.length));
        for (let i = 0; i < e.name.length; i++) bytes.push(e.name.charCodeAt(i));
      } else if (a === 2) bytes.push(...u16(e.type));
      else if (a === 8) bytes.push(...u32(e.dims[0]), ...u32(e.dims[1]), ...u32(e.dims[2]));
    }
  }
  return new Uint8Array(bytes);
}

/** Get Attribute List of a template: 4 (definition size, words), 5 (bytes), 2 (members), 1 (handle). */
export function templateAttributes(instance: number): Uint8Array {
  return request(
    SERVICES.GET_ATTRIBUTE_LIST,
    logicalPath(CLASSES.TEMPLATE, instance),
    new Uint8Array([4, 0, 4, 0, 5, 0, 2, 0, 1, 0]),
  );
}

/** A template's attributes. */
export interface TemplateAttributes {
  definitionWords: number;
  structureSize: number;
  memberCount: number;
  handle: number;
}

/** Parses the reply of {@linkcode templateAttributes}. */
export function readTemplateAttributes(data: Uint8Array): TemplateAttributes {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Partial<TemplateAttributes> = {};
  const n = v.getUint16(0, true);
  let at = 2;
  for (let i = 0; i < n; i++) {
    const id = v.getUint16(at, true);
    const status = v.getUint16(at + 2, true);
    at += 4;
    if (status !== 0) throw new RangeError(`template attribute ${id} refused (status ${status})`);
    if (id === 4) (out.definitionWords = v.getUint32(at, true)), (at += 4);
    else if (id === 5) (out.structureSize = v.getUint32(at, true)), (at += 4);
    else if (id === 2) (out.memberCount = v.getUint16(at, true)), (at += 2);
    else if (id === 1) (out.handle = v.getUint16(at, true)), (at += 2);
    else throw new RangeError(`unexpected template attribute ${id}`);
  }
  if (
    out.definitionWords === undefined || out.structureSize === undefined ||
    out.memberCount === undefined || out.handle === undefined
  ) throw new RangeError("the template reply lacks attributes");
  return out as TemplateAttributes;
}

/** Read Template (Read Tag service on class 0x6C): `count` bytes from `offset`. */
export function readTemplate(instance: number, offset: number, count: number): Uint8Array {
  return request(
    SERVICES.READ_TAG,
    logicalPath(CLASSES.TEMPLATE, instance),
    new Uint8Array([...u32(offset), ...u16(count)]),
  );
}
