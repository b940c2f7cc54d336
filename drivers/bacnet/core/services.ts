/**
 * @module
 * BACnet service bodies (clauses 13, 15, 16): ReadProperty, ReadPropertyMultiple,
 * WriteProperty, SubscribeCOV, COV notifications, Who-Is and I-Am, encoded and decoded as
 * pure functions. The client and the simulator both use them.
 */

import { type AppValue, type ObjectId, Reader, Writer } from "./asn.ts";

/** A property reference: object, property, optional array index. */
export interface PropertyRef {
  object: ObjectId;
  property: number;
  index?: number;
}

/** A property's outcome in a ReadPropertyMultiple ACK: values, or an error class and code. */
export type PropertyResult =
  | { property: number; index?: number; values: AppValue[] }
  | { property: number; index?: number; error: { cls: number; code: number } };

/** One object's results in a ReadPropertyMultiple ACK. */
export interface ObjectResults {
  object: ObjectId;
  results: PropertyResult[];
}

/** ReadProperty request body. */
export function encodeReadProperty(r: PropertyRef): Uint8Array {
  const w = new Writer(16).objectId(0, true, r.object).uint(1, true, r.property);
  if (r.index !== undefined) w.uint(2, true, r.index);
  return w.done().slice();
}

/** Decodes a ReadProperty request body. */
export function decodeReadProperty(b: Uint8Array, at = 0): PropertyRef {
  const r = new Reader(b, at);
  const object = r.ctxObjectId(0);
  const property = r.ctxUint(1);
  return r.isContext(2) ? { object, property, index: r.ctxUint(2) } : { object, property };
}

/** ReadProperty ACK body. */
export function encodeReadPropertyAck(r: PropertyRef, values: AppValue[]): Uint8Array {
  const w = new Writer(32).objectId(0, true, r.object).uint(1, true, r.property);
  if (r.index !== undefined) w.uint(2, true, r.index);
  w.opening(3);
  for (const v of values) w.app(v);
  return w.closing(3).done().slice();
}

/** Decodes a ReadProperty ACK body. */
export function decodeReadPropertyAck(b: Uint8Array, at = 0): PropertyRef & { values: AppValue[] } {
  const r = new Reader(b, at);
  const object = r.ctxObjectId(0);
  const property = r.ctxUint(1);
  const index = r.isContext(2) ? r.ctxUint(2) : undefined;
  r.expectOpening(3);
  const values = r.valuesUntilClosing(3);
  return { object, property, ...(index === undefined ? {} : { index }), values };
}

/** ReadPropertyMultiple request body: objects with their property references. */
export function encodeReadPropertyMultiple(
  specs: { object: ObjectId; properties: { property: number; index?: number }[] }[],
): Uint8Array {
  const w = new Writer(64);
  for (const s of specs) {
    w.objectId(0, true, s.object).opening(1);
    for (const p of s.properties) {
      w.uint(0, true, p.property);
      if (p.index !== undefined) w.uint(1, true, p.index);
    }
    w.closing(1);
  }
  return w.done().slice();
}

/** Decodes a ReadPropertyMultiple request body. */
export function decodeReadPropertyMultiple(
  b: Uint8Array,
  at = 0,
): { object: ObjectId; properties: { property: number; index?: number }[] }[] {
  const r = new Reader(b, at);
  const out: { object: ObjectId; properties: { property: number; index?: number }[] }[] = [];
  while (r.more) {
    const object = r.ctxObjectId(0);
    r.expectOpening(1);
    const properties: { property: number; index?: number }[] = [];
    while (!r.isContext(1, "closing")) {
      const property = r.ctxUint(0);
      properties.push(r.isContext(1) ? { property, index: r.ctxUint(1) } : { property });
    }
    r.expectClosing(1);
    out.push({ object, properties });
  }
  return out;
}

/** Encodes a ReadPropertyMultiple ACK body. */
export function encodeReadPropertyMultipleAck(objects: ObjectResults[]): Uint8Array {
  const w = new Writer(256);
  for (const o of objects) {
    w.objectId(0, true, o.object).opening(1);
    for (const p of o.results) {
      w.uint(2, true, p.property);
      if (p.index !== undefined) w.uint(3, true, p.index);
      if ("error" in p) {
        w.opening(5).uint(9, false, p.error.cls).uint(9, false, p.error.code).closing(5);
      } else {
        w.opening(4);
        for (const v of p.values) w.app(v);
        w.closing(4);
      }
    }
    w.closing(1);
  }
  return w.done().slice();
}

/** Decodes a ReadPropertyMultiple ACK body. */
export function decodeReadPropertyMultipleAck(b: Uint8Array, at = 0): ObjectResults[] {
  const r = new Reader(b, at);
  const out: ObjectResults[] = [];
  while (r.more) {
    const object = r.ctxObjectId(0);
    r.expectOpening(1);
    const results: PropertyResult[] = [];
    while (!r.isContext(1, "closing")) {
      const property = r.ctxUint(2);
      const index = r.isContext(3) ? r.ctxUint(3) : undefined;
      const idx = index === undefined ? {} : { index };
      if (r.isContext(4, "opening")) {
        r.expectOpening(4);
        results.push({ property, ...idx, values: r.valuesUntilClosing(4) });
      } else {
        r.expectOpening(5);
        const cls = r.app();
        const code = r.app();
        r.expectClosing(5);
        results.push({
          property,
          ...idx,
          error: {
            cls: "value" in cls ? Number(cls.value) : 0,
            code: "value" in code ? Number(code.value) : 0,
          },
        });
      }
    }
    r.expectClosing(1);
    out.push({ object, results });
  }
  return out;
}

/** A WriteProperty request. */
export interface WriteRequest extends PropertyRef {
  value: AppValue[];
  priority?: number;
}

/** WriteProperty request body. */
export function encodeWriteProperty(q: WriteRequest): Uint8Array {
  const w = new Writer(32).objectId(0, true, q.object).uint(1, true, q.property);
  if (q.index !== undefined) w.uint(2, true, q.index);
  w.opening(3);
  for (const v of q.value) w.app(v);
  w.closing(3);
  if (q.priority !== undefined) w.uint(4, true, q.priority);
  return w.done().slice();
}

/** Decodes a WriteProperty request body. */
export function decodeWriteProperty(b: Uint8Array, at = 0): WriteRequest {
  const r = new Reader(b, at);
  const object = r.ctxObjectId(0);
  const property = r.ctxUint(1);
  const index = r.isContext(2) ? r.ctxUint(2) : undefined;
  r.expectOpening(3);
  const value = r.valuesUntilClosing(3);
  const priority = r.isContext(4) ? r.ctxUint(4) : undefined;
  return {
    object,
    property,
    value,
    ...(index === undefined ? {} : { index }),
    ...(priority === undefined ? {} : { priority }),
  };
}

/** A SubscribeCOV request (a cancellation when `lifetime` and `confirmed` are absent). */
export interface SubscribeCov {
  processId: number;
  object: ObjectId;
  confirmed?: boolean;
  /** Seconds; 0 is indefinite. */
  lifetime?: number;
}

/** SubscribeCOV request body. */
export function encodeSubscribeCov(s: SubscribeCov): Uint8Array {
  const w = new Writer(20).uint(0, true, s.processId).objectId(1, true, s.object);
  if (s.confirmed !== undefined) w.boolean(2, true, s.confirmed);
  if (s.lifetime !== undefined) w.uint(3, true, s.lifetime);
  return w.done().slice();
}

/** Decodes a SubscribeCOV request body. */
export function decodeSubscribeCov(b: Uint8Array, at = 0): SubscribeCov {
  const r = new Reader(b, at);
  const processId = r.ctxUint(0);
  const object = r.ctxObjectId(1);
  const s: SubscribeCov = { processId, object };
  if (r.isContext(2)) s.confirmed = r.ctxUint(2) !== 0;
  if (r.isContext(3)) s.lifetime = r.ctxUint(3);
  return s;
}

/** A COV notification. */
export interface CovNotification {
  processId: number;
  device: ObjectId;
  object: ObjectId;
  timeRemaining: number;
  values: { property: number; index?: number; values: AppValue[] }[];
}

/** COV notification body (confirmed or unconfirmed: the same). */
export function encodeCovNotification(n: CovNotification): Uint8Array {
  const w = new Writer(64).uint(0, true, n.processId).objectId(1, true, n.device)
    .objectId(2, true, n.object).uint(3, true, n.timeRemaining).opening(4);
  for (const v of n.values) {
    w.uint(0, true, v.property);
    if (v.index !== undefined) w.uint(1, true, v.index);
    w.opening(2);
    for (const x of v.values) w.app(x);
    w.closing(2);
  }
  return w.closing(4).done().slice();
}

/** Decodes a COV notification body. */
export function decodeCovNotification(b: Uint8Array, at = 0): CovNotification {
  const r = new Reader(b, at);
  const processId = r.ctxUint(0);
  const device = r.ctxObjectId(1);
  const object = r.ctxObjectId(2);
  const timeRemaining = r.ctxUint(3);
  r.expectOpening(4);
  const values: CovNotification["values"] = [];
  while (!r.isContext(4, "closing")) {
    const property = r.ctxUint(0);
    let index = r.isContext(1) ? r.ctxUint(1) : undefined;
    // 0xFFFFFFFF is BACNET_ARRAY_ALL, "no index" inside stacks; @bacnet-js/client 3.3.2 puts
    // it on the wire for every value of a notification. It names no array element.
    if (index === 0xffffffff) index = undefined;
    r.expectOpening(2);
    const vs = r.valuesUntilClosing(2);
    if (r.isContext(3)) r.ctxUint(3);
    values.push({ property, ...(index === undefined ? {} : { index }), values: vs });
  }
  r.expectClosing(4);
  return { processId, device, object, timeRemaining, values };
}

/** Who-Is body (a range of device instances, or every device). */
export function encodeWhoIs(low?: number, high?: number): Uint8Array {
  if (low === undefined || high === undefined) return new Uint8Array(0);
  return new Writer(10).uint(0, true, low).uint(1, true, high).done().slice();
}

/** Decodes a Who-Is body. */
export function decodeWhoIs(b: Uint8Array, at = 0): { low?: number; high?: number } {
  const r = new Reader(b, at);
  if (!r.more) return {};
  return { low: r.ctxUint(0), high: r.ctxUint(1) };
}

/** An I-Am. */
export interface IAm {
  device: number;
  maxApdu: number;
  /** 0 both, 1 transmit, 2 receive, 3 none. */
  segmentation: number;
  vendorId: number;
}

/** I-Am body. */
export function encodeIAm(i: IAm): Uint8Array {
  return new Writer(20).objectId(12, false, { type: 8, instance: i.device })
    .uint(2, false, i.maxApdu).uint(9, false, i.segmentation).uint(2, false, i.vendorId).done()
    .slice();
}

/** Decodes an I-Am body. */
export function decodeIAm(b: Uint8Array, at = 0): IAm {
  const r = new Reader(b, at);
  const id = r.app();
  const max = r.app();
  const seg = r.app();
  const vendor = r.app();
  if (id.type !== "objectId" || max.type !== "unsigned" || seg.type !== "enumerated") {
    throw new RangeError("Malformed I-Am");
  }
  return {
    device: id.value.instance,
    maxApdu: max.value,
    segmentation: seg.value,
    vendorId: vendor.type === "unsigned" ? vendor.value : 0,
  };
}

/** Decodes the class and code of an Error PDU's body. */
export function decodeError(b: Uint8Array, at = 0): { cls: number; code: number } {
  const r = new Reader(b, at);
  // Some services wrap the error in context tag 0 (e.g. CreateObject); skip an opening tag.
  if (r.isContext(0, "opening")) r.tag();
  const cls = r.app();
  const code = r.app();
  return {
    cls: "value" in cls ? Number(cls.value) : 0,
    code: "value" in code ? Number(code.value) : 0,
  };
}
