/**
 * @module
 * BACnet/IP frames: the BVLC header (Annex J), the NPDU with its routing fields (DNET/DADR,
 * SNET/SADR, clause 6) and the APDU headers (clause 20.1), encoded and decoded as pure
 * functions. Services (what follows the header) are in `services.ts`.
 */

import { Writer } from "./asn.ts";

/** BVLC functions. */
export const Bvlc = {
  result: 0x00,
  forwardedNpdu: 0x04,
  registerForeignDevice: 0x05,
  distributeBroadcastToNetwork: 0x09,
  originalUnicast: 0x0a,
  originalBroadcast: 0x0b,
} as const;

/** APDU types (the high nibble of the first byte). */
export const PduType = {
  confirmedRequest: 0,
  unconfirmedRequest: 1,
  simpleAck: 2,
  complexAck: 3,
  segmentAck: 4,
  error: 5,
  reject: 6,
  abort: 7,
} as const;

/** A network address behind a router: network number and MAC (empty: broadcast on it). */
export interface RemoteAddress {
  net: number;
  mac: Uint8Array;
}

/** A decoded frame: BVLC, NPDU and the APDU bytes. */
export interface Frame {
  bvlc: number;
  /** For a Forwarded-NPDU: the original source (ip:port). */
  forwardedFrom?: string;
  /** The source network and MAC when a router forwarded the message (SNET/SADR). */
  source?: RemoteAddress;
  /** The destination network (DNET/DADR) when the message is to be routed. */
  destination?: RemoteAddress;
  /** True when the NPDU is a network-layer message (no APDU). */
  networkMessage: boolean;
  expectingReply: boolean;
  /** The APDU (empty for a BVLC-only message); `data` of a BVLC-Result is its code. */
  apdu: Uint8Array;
  /** The BVLC-Result code, when `bvlc` is `result`. */
  resultCode?: number;
}

/** Max APDU lengths by their 4-bit code. */
export const MAX_APDU = [50, 128, 206, 480, 1024, 1476] as const;

/** The 4-bit code of a max APDU length (the largest that fits). */
export function maxApduCode(len: number): number {
  let code = 0;
  for (let i = 0; i < MAX_APDU.length; i++) if (MAX_APDU[i]! <= len) code = i;
  return code;
}

/** Max segments by their 3-bit code (0: unspecified, 7: more than 64). */
export const MAX_SEGMENTS = [0, 2, 4, 8, 16, 32, 64, 65] as const;

/**
 * Wraps an APDU in an NPDU and a BVLC header. `destination` routes it through a router
 * (DNET/DADR, hop count 255); `source` marks it as coming from a remote network (a router
 * or a simulated device behind one answering).
 */
export function encodeFrame(
  apdu: Uint8Array,
  o: {
    broadcast?: boolean;
    expectingReply?: boolean;
    destination?: RemoteAddress;
    source?: RemoteAddress;
  } = {},
): Uint8Array {
  const w = new Writer(apdu.length + 32);
  w.u8(0x81).u8(o.broadcast ? Bvlc.originalBroadcast : Bvlc.originalUnicast).u16(0);
  let control = 0;
  if (o.destination) control |= 0x20;
  if (o.source) control |= 0x08;
  if (o.expectingReply) control |= 0x04;
  w.u8(0x01).u8(control);
  if (o.destination) {
    w.u16(o.destination.net).u8(o.destination.mac.length).bytes(o.destination.mac);
  }
  if (o.source) w.u16(o.source.net).u8(o.source.mac.length).bytes(o.source.mac);
  if (o.destination) w.u8(255);
  w.bytes(apdu);
  const out = w.done().slice();
  new DataView(out.buffer).setUint16(2, out.length);
  return out;
}

/** A BVLC Register-Foreign-Device with a time-to-live in seconds. */
export function encodeRegisterForeignDevice(ttlSeconds: number): Uint8Array {
  return new Writer(6).u8(0x81).u8(Bvlc.registerForeignDevice).u16(6).u16(ttlSeconds).done()
    .slice();
}

/** A BVLC-Result with `code` (0: success; 0x30: registration NAK). */
export function encodeBvlcResult(code: number): Uint8Array {
  return new Writer(6).u8(0x81).u8(Bvlc.result).u16(6).u16(code).done().slice();
}

/** Decodes a BACnet/IP datagram; throws `RangeError` when it is not one. */
export function decodeFrame(b: Uint8Array): Frame {
  if (b.length < 4 || b[0] !== 0x81) throw new RangeError("Not a BACnet/IP datagram (BVLC type)");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const bvlc = b[1]!;
  const len = dv.getUint16(2);
  if (len !== b.length) throw new RangeError(`BVLC length ${len} but ${b.length} bytes received`);
  if (bvlc === Bvlc.result) {
    return {
      bvlc,
      networkMessage: false,
      expectingReply: false,
      apdu: new Uint8Array(0),
      resultCode: len >= 6 ? dv.getUint16(4) : 0,
    };
  }
  let p = 4;
  let forwardedFrom: string | undefined;
  if (bvlc === Bvlc.forwardedNpdu) {
    if (b.length < 10) throw new RangeError("Truncated Forwarded-NPDU");
    forwardedFrom = `${b[4]}.${b[5]}.${b[6]}.${b[7]}:${dv.getUint16(8)}`;
    p = 10;
  } else if (
    bvlc !== Bvlc.originalUnicast && bvlc !== Bvlc.originalBroadcast &&
    bvlc !== Bvlc.distributeBroadcastToNetwork
  ) {
    return { bvlc, networkMessage: true, expectingReply: false, apdu: new Uint8Array(0) };
  }
  if (b[p] !== 0x01) throw new RangeError(`Unknown NPDU version ${b[p]}`);
  const control = b[p + 1];
  if (control === undefined) throw new RangeError("Truncated NPDU");
  p += 2;
  let destination: RemoteAddress | undefined;
  let source: RemoteAddress | undefined;
  if (control & 0x20) {
    const net = dv.getUint16(p);
    const l = b[p + 2]!;
    destination = { net, mac: b.slice(p + 3, p + 3 + l) };
    p += 3 + l;
  }
  if (control & 0x08) {
    const net = dv.getUint16(p);
    const l = b[p + 2]!;
    source = { net, mac: b.slice(p + 3, p + 3 + l) };
    p += 3 + l;
  }
  if (control & 0x20) p += 1; // hop count
  if (p > b.length) throw new RangeError("Truncated NPDU addresses");
  const networkMessage = (control & 0x80) !== 0;
  return {
    bvlc,
    ...(forwardedFrom ? { forwardedFrom } : {}),
    ...(source ? { source } : {}),
    ...(destination ? { destination } : {}),
    networkMessage,
    expectingReply: (control & 0x04) !== 0,
    apdu: b.subarray(p),
  };
}

/** The header of a confirmed request. */
export interface ConfirmedHeader {
  segmented: boolean;
  moreFollows: boolean;
  segmentedAccepted: boolean;
  maxSegments: number;
  maxApdu: number;
  invokeId: number;
  sequence: number;
  window: number;
  service: number;
  /** Offset of the service data in the APDU. */
  body: number;
}

/**
 * Encodes a confirmed request header followed by `body` (one segment of the request's
 * service data when `segment` is given: sequence number, proposed window size, more follows).
 */
export function confirmedRequest(
  invokeId: number,
  service: number,
  body: Uint8Array,
  o: {
    maxApdu?: number;
    segmentedAccepted?: boolean;
    segment?: { sequence: number; window: number; more: boolean };
  } = {},
): Uint8Array {
  const seg = o.segment;
  const head = seg ? 6 : 4;
  const out = new Uint8Array(head + body.length);
  out[0] = (o.segmentedAccepted === false ? 0x00 : 0x02) | (seg ? 0x08 : 0) |
    (seg?.more ? 0x04 : 0);
  // Max segments accepted: 64 (code 6) when segmentation is accepted.
  out[1] = ((o.segmentedAccepted === false ? 0 : 6) << 4) | maxApduCode(o.maxApdu ?? 1476);
  out[2] = invokeId;
  if (seg) {
    out[3] = seg.sequence & 0xff;
    out[4] = seg.window;
    out[5] = service;
  } else out[3] = service;
  out.set(body, head);
  return out;
}

/** Decodes a confirmed request header. */
export function decodeConfirmed(a: Uint8Array): ConfirmedHeader {
  if (a.length < 4) throw new RangeError("Truncated confirmed request");
  const segmented = (a[0]! & 0x08) !== 0;
  const h: ConfirmedHeader = {
    segmented,
    moreFollows: (a[0]! & 0x04) !== 0,
    segmentedAccepted: (a[0]! & 0x02) !== 0,
    maxSegments: MAX_SEGMENTS[(a[1]! >> 4) & 7]!,
    maxApdu: MAX_APDU[a[1]! & 0x0f] ?? 1476,
    invokeId: a[2]!,
    sequence: 0,
    window: 0,
    service: 0,
    body: 4,
  };
  if (segmented) {
    h.sequence = a[3]!;
    h.window = a[4]!;
    h.service = a[5]!;
    h.body = 6;
  } else h.service = a[3]!;
  return h;
}

/** A complex ACK header (segmented when `segment` is given). */
export function complexAck(
  invokeId: number,
  service: number,
  body: Uint8Array,
  segment?: { sequence: number; window: number; more: boolean },
): Uint8Array {
  if (!segment) {
    const out = new Uint8Array(3 + body.length);
    out[0] = 0x30;
    out[1] = invokeId;
    out[2] = service;
    out.set(body, 3);
    return out;
  }
  const out = new Uint8Array(5 + body.length);
  out[0] = 0x38 | (segment.more ? 0x04 : 0);
  out[1] = invokeId;
  out[2] = segment.sequence;
  out[3] = segment.window;
  out[4] = service;
  out.set(body, 5);
  return out;
}

/** A simple ACK. */
export function simpleAck(invokeId: number, service: number): Uint8Array {
  return Uint8Array.of(0x20, invokeId, service);
}

/** A Segment-ACK (from the client when `server` is false). */
export function segmentAck(
  invokeId: number,
  sequence: number,
  window: number,
  o: { nak?: boolean; server?: boolean } = {},
): Uint8Array {
  return Uint8Array.of(0x40 | (o.nak ? 2 : 0) | (o.server ? 1 : 0), invokeId, sequence, window);
}

/** An Error PDU with class and code. */
export function errorPdu(invokeId: number, service: number, cls: number, code: number): Uint8Array {
  const w = new Writer(10).u8(0x50).u8(invokeId).u8(service);
  w.uint(9, false, cls).uint(9, false, code);
  return w.done().slice();
}

/** A Reject PDU. */
export function rejectPdu(invokeId: number, reason: number): Uint8Array {
  return Uint8Array.of(0x60, invokeId, reason);
}

/** An Abort PDU (from the server when `server` is true). */
export function abortPdu(invokeId: number, reason: number, server = true): Uint8Array {
  return Uint8Array.of(0x70 | (server ? 1 : 0), invokeId, reason);
}

/** An unconfirmed request header followed by `body`. */
export function unconfirmedRequest(service: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  out[0] = 0x10;
  out[1] = service;
  out.set(body, 2);
  return out;
}
