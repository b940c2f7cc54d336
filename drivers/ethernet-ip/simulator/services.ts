/**
 * @module
 * The CIP services of the simulated Logix controller: one CIP request in, one reply out,
 * over a {@linkcode TagStore}. Read/Write Tag and their fragmented forms, Read-Modify-Write,
 * Multiple Service Packet, Symbol object listing, template attributes and Read Template,
 * Identity, and the faults a test switches on (a CIP error on a tag, browse refused).
 */

import {
  CLASSES,
  encodeReply,
  encodeSymbols,
  SERVICES,
  splitMultiple,
  type SymbolEntry,
  symbolEntrySize,
} from "../core/cip.ts";
import { decodePath } from "../core/address.ts";
import { STRING_HANDLE, TYPE_CODES, typeOfCode } from "../core/types.ts";
import {
  CipError,
  type SimTag,
  symbolType,
  type TagStore,
  templateDefinition,
  typeCode,
  type View,
} from "./store.ts";

/** Faults of the CIP layer. */
export interface CipFaults {
  /** A CIP status returned for reads and writes of these tags (lower-case names). */
  tagErrors: Map<string, { status: number; extended: number[] }>;
  /** Symbol and template services answer "Service not supported". */
  noBrowse: boolean;
}

/** What the controller reports about itself. */
export interface IdentityInfo {
  vendorId: number;
  deviceType: number;
  productCode: number;
  revision: string;
  serial: number;
  productName: string;
}

function u16(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff];
}

function typeHeader(v: View): number[] {
  const code = typeCode(v.type);
  if (code !== undefined) return u16(v.bit !== undefined ? TYPE_CODES.BOOL : code);
  return [0xa0, 0x02, ...u16(typeof v.type === "string" ? 0 : v.type.handle)];
}

/** Serves CIP requests over a store. */
export class CipServices {
  /** The tag paths of the last 1,000 Read Tag requests (tests check what was read). */
  readonly reads: string[] = [];
  constructor(
    readonly store: TagStore,
    readonly faults: CipFaults,
    readonly identity: IdentityInfo,
  ) {}

  /** Answers one Message Router request with at most `max` bytes of reply. */
  handle(req: Uint8Array, max: number): Uint8Array {
    const service = req[0]!;
    const pathLen = req[1]! * 2;
    const path = req.subarray(2, 2 + pathLen);
    const data = req.subarray(2 + pathLen);
    try {
      return this.#dispatch(service, path, data, max);
    } catch (e) {
      if (e instanceof CipError) return encodeReply(service, e.status, undefined, e.extended);
      if (e instanceof RangeError) return encodeReply(service, 0x04);
      throw e;
    }
  }

  #dispatch(service: number, path: Uint8Array, data: Uint8Array, max: number): Uint8Array {
    const p = decodePath(path);
    const cls = p.names.length === 0 ? p.logical[0] : undefined;
    if (service === SERVICES.MULTIPLE_SERVICE) return this.#multiple(data, max);
    if (p.logical[0] === CLASSES.SYMBOL && p.names.length <= 1) {
      return this.#symbols(service, p.names[0], p.logical[1] ?? 0, max, data);
    }
    if (cls === CLASSES.TEMPLATE) return this.#template(service, p.logical[1] ?? 0, data, max);
    if (cls === CLASSES.IDENTITY) return this.#identity(service);
    if (cls !== undefined) return encodeReply(service, 0x08);
    const key = (p.names[0]!.startsWith("Program:") ? p.names.slice(0, 2) : p.names.slice(0, 1))
      .join(".").toLowerCase();
    const fault = this.faults.tagErrors.get(key);
    if (fault) throw new CipError(fault.status, fault.extended);
    const view = this.store.resolve(p.names, p.indexes);
    if (service === SERVICES.READ_TAG || service === SERVICES.READ_TAG_FRAGMENTED) {
      if (this.reads.push(p.names.join(".")) > 1000) this.reads.shift();
    }
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (service) {
      case SERVICES.READ_TAG:
        return this.#read(service, view, dv.getUint16(0, true), 0, max);
      case SERVICES.READ_TAG_FRAGMENTED:
        return this.#read(service, view, dv.getUint16(0, true), dv.getUint32(2, true), max);
      case SERVICES.WRITE_TAG:
      case SERVICES.WRITE_TAG_FRAGMENTED:
        return this.#write(service, view, data);
      case SERVICES.READ_MODIFY_WRITE:
        return this.#rmw(service, view, data);
      default:
        return encodeReply(service, 0x08);
    }
  }

  #read(service: number, v: View, count: number, offset: number, max: number): Uint8Array {
    if (count > v.available) throw new CipError(0xff, [0x2105]);
    const head = typeHeader(v);
    const total = count * v.size;
    if (offset > total) throw new CipError(0xff, [0x2104]);
    if (v.bit !== undefined) {
      return encodeReply(
        service,
        0,
        new Uint8Array([...head, v.tag.data[v.offset]! >> v.bit & 1 ? 0xff : 0]),
      );
    }
    const room = max - 4 - head.length;
    // Fragments end on an element boundary, as a Logix sends them.
    const take = Math.min(
      total - offset,
      Math.max(0, Math.floor(room / Math.min(v.size, 8)) * Math.min(v.size, 8)),
    );
    const body = new Uint8Array(head.length + take);
    body.set(head);
    body.set(v.tag.data.subarray(v.offset + offset, v.offset + offset + take), head.length);
    const more = offset + take < total;
    if (more && service === SERVICES.READ_TAG) throw new CipError(0x11);
    return encodeReply(service, more ? 0x06 : 0, body);
  }

  #write(service: number, v: View, data: Uint8Array): Uint8Array {
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let at = 2;
    const code = dv.getUint16(0, true);
    let handle: number | undefined;
    if (code === 0x02a0) {
      handle = dv.getUint16(2, true);
      at = 4;
    }
    const count = dv.getUint16(at, true);
    at += 2;
    let offset = 0;
    if (service === SERVICES.WRITE_TAG_FRAGMENTED) {
      offset = dv.getUint32(at, true);
      at += 4;
    }
    const expected = typeCode(v.type);
    const matches = v.bit !== undefined
      ? code === TYPE_CODES.BOOL
      : expected !== undefined
      ? code === expected
      : typeof v.type !== "string" && handle === v.type.handle;
    if (!matches) throw new CipError(0xff, [0x2107]);
    if (count > v.available) throw new CipError(0xff, [0x2105]);
    const bytes = data.subarray(at);
    if (v.bit !== undefined) {
      if (bytes[0]) v.tag.data[v.offset]! |= 1 << v.bit;
      else v.tag.data[v.offset]! &= ~(1 << v.bit);
      return encodeReply(service, 0);
    }
    if (offset + bytes.length > count * v.size) throw new CipError(0x15);
    v.tag.data.set(bytes, v.offset + offset);
    return encodeReply(service, 0);
  }

  #rmw(service: number, v: View, data: Uint8Array): Uint8Array {
    const size = data[0]! | (data[1]! << 8);
    if (size > v.size || typeof v.type !== "string") throw new CipError(0x13);
    for (let i = 0; i < size; i++) {
      const cur = v.tag.data[v.offset + i]!;
      v.tag.data[v.offset + i] = (cur | data[2 + i]!) & data[2 + size + i]!;
    }
    return encodeReply(service, 0);
  }

  #multiple(data: Uint8Array, max: number): Uint8Array {
    const reqs = splitMultiple(data);
    const replies: Uint8Array[] = [];
    let used = 4 + 2 + 2 * reqs.length;
    let failed = false;
    for (const r of reqs) {
      const reply = this.handle(r, Math.max(8, max - used));
      used += reply.length;
      if (reply[2] !== 0 && reply[2] !== 0x06) failed = true;
      replies.push(reply);
    }
    if (used > max) return encodeReply(SERVICES.MULTIPLE_SERVICE, 0x11);
    const n = replies.length;
    const body = new Uint8Array(used - 4);
    const v = new DataView(body.buffer);
    v.setUint16(0, n, true);
    let at = 2 + 2 * n;
    for (const [i, r] of replies.entries()) {
      v.setUint16(2 + 2 * i, at, true);
      body.set(r, at);
      at += r.length;
    }
    return encodeReply(SERVICES.MULTIPLE_SERVICE, failed ? 0x1e : 0, body);
  }

  #symbols(
    service: number,
    program: string | undefined,
    start: number,
    max: number,
    data: Uint8Array,
  ): Uint8Array {
    // The attributes asked, in order (st-ethernet-ip asks 1 and 2; Bifrost 1, 2 and 8).
    const n = data.length >= 2 ? data[0]! | (data[1]! << 8) : 0;
    const attributes: number[] = [];
    for (let i = 0; i < n && 3 + i * 2 < data.length; i++) {
      attributes.push(data[2 + i * 2]! | (data[3 + i * 2]! << 8));
    }
    if (attributes.some((a) => a !== 1 && a !== 2 && a !== 8)) throw new CipError(0x14);
    if (this.faults.noBrowse) return encodeReply(service, 0x08);
    if (service !== SERVICES.GET_INSTANCE_ATTRIBUTE_LIST) return encodeReply(service, 0x08);
    let prog: string | undefined;
    if (program !== undefined) {
      prog = [...this.store.programs.keys()].find((k) =>
        `program:${k}`.toLowerCase() === program.toLowerCase()
      );
      if (prog === undefined) throw new CipError(0x05);
    }
    const all = this.store.symbols(prog).filter((t) => t.instance >= start);
    const entries = [];
    let used = 4;
    // Programs are symbols of the controller scope, as a Logix lists them.
    const list = prog === undefined
      ? [
        ...all.map(entry),
        ...[...this.store.programs.keys()].map((k, i) => ({
          instance: 0x8000 + i,
          name: `Program:${k}`,
          type: 0x1068,
          dims: [0, 0, 0] as [number, number, number],
        })).filter((e) => e.instance >= start),
      ]
      : all.map(entry);
    let more = false;
    for (const e of list) {
      const size = symbolEntrySize(e, attributes);
      if (used + size > max) {
        more = true;
        break;
      }
      used += size;
      entries.push(e);
    }
    return encodeReply(service, more ? 0x06 : 0, encodeSymbols(entries, attributes));
  }

  #template(service: number, id: number, data: Uint8Array, max: number): Uint8Array {
    if (this.faults.noBrowse) return encodeReply(service, 0x08);
    const t = this.store.templates.get(id);
    if (!t) throw new CipError(0x05);
    const def = templateDefinition(t);
    const words = Math.ceil((def.length + 23) / 4);
    if (service === SERVICES.GET_ATTRIBUTE_LIST) {
      const out = [...u16(4)];
      out.push(...u16(4), 0, 0, ...u32(words));
      out.push(...u16(5), 0, 0, ...u32(t.size));
      out.push(...u16(2), 0, 0, ...u16(t.members.length));
      out.push(...u16(1), 0, 0, ...u16(t.handle === STRING_HANDLE ? STRING_HANDLE : t.handle));
      return encodeReply(service, 0, new Uint8Array(out));
    }
    if (service !== SERVICES.READ_TAG) return encodeReply(service, 0x08);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const offset = dv.getUint32(0, true);
    const count = dv.getUint16(4, true);
    const end = Math.min(def.length, offset + count);
    const room = max - 4;
    const stop = Math.min(end, offset + room);
    return encodeReply(
      service,
      stop < def.length && stop < offset + count ? 0x06 : 0,
      def.subarray(offset, stop),
    );
  }

  #identity(service: number): Uint8Array {
    const id = this.identity;
    const name = new TextEncoder().encode(id.productName);
    const [major, minor] = id.revision.split(".").map(Number);
    const body = [
      ...u16(id.vendorId),
      ...u16(id.deviceType),
      ...u16(id.productCode),
      major ?? 0,
      minor ?? 0,
      ...u16(0),
      ...u32(id.serial),
      name.length,
      ...name,
    ];
    if (service === SERVICES.GET_ATTRIBUTE_ALL) {
      return encodeReply(service, 0, new Uint8Array(body));
    }
    if (service === SERVICES.GET_ATTRIBUTE_SINGLE) {
      return encodeReply(service, 0, new Uint8Array(u16(id.vendorId)));
    }
    return encodeReply(service, 0x08);
  }
}

function entry(t: SimTag): SymbolEntry {
  const d = t.dims;
  if (t.type === "BOOL" && d.length > 0) {
    // A Logix lists a BOOL array as the DWORD array that holds it.
    return { instance: t.instance, name: t.name, type: 0x20d3, dims: [t.data.length / 4, 0, 0] };
  }
  return {
    instance: t.instance,
    name: t.name,
    type: symbolType(t),
    dims: [d[0] ?? 0, d[1] ?? 0, d[2] ?? 0],
  };
}

function u32(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

/** The atomic type name of a code, for messages. */
export const typeName = (code: number) => typeOfCode(code) ?? `0x${code.toString(16)}`;
