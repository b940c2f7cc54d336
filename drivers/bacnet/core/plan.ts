/**
 * @module
 * The read planner: tags grouped by object into ReadPropertyMultiple requests that fit the
 * device. A request must fit the device's max APDU; its reply must fit one APDU, or, when the
 * device can send segmented replies, a bounded number of segments (a reassembled reply of
 * 64 segments is legal but one lost datagram costs the whole poll, so replies stay within
 * `maxSegments`). Sizes are estimated from the encodings (clause 20.2), conservatively for
 * strings.
 */

import type { ObjectId } from "./asn.ts";
import { type BacnetAddress, family, formatObject } from "./address.ts";
import { PropertyId as P, propertyName } from "./enums.ts";

/** One property read by a plan, and the tags that take its value. */
export interface PlannedProperty {
  property: number;
  index?: number;
  /** Indexes of plan tags whose value this is. */
  tags: number[];
}

/** One object read by a plan. */
export interface PlannedObject {
  object: ObjectId;
  properties: PlannedProperty[];
}

/** One ReadPropertyMultiple request. */
export interface PlannedRequest {
  objects: PlannedObject[];
  /** Estimated bytes of the request's and the reply's service data. */
  requestBytes: number;
  replyBytes: number;
}

/** The bytes a property value takes in a reply (context and opening/closing tags included). */
export function replyEstimate(object: ObjectId, property: number, index?: number): number {
  // Context tag 2 (property id), context tag 3 (index), opening and closing tag 4.
  const head = (property < 256 ? 2 : 3) + (index === undefined ? 0 : index < 256 ? 2 : 3) + 2;
  switch (property) {
    case P["present-value"]:
    case P["relinquish-default"]:
      return head + (family(object.type) === "analog" ? 5 : 2);
    case P["status-flags"]:
      return head + 3;
    case P["reliability"]:
    case P["event-state"]:
    case P["out-of-service"]:
      return head + 2;
    case P["units"]:
      return head + 3;
    case P["object-name"]:
    case P["description"]:
      return head + 66;
    case P["priority-array"]:
      return head + (index === undefined ? 16 * 5 : 5);
    case P["object-list"]:
    case P["state-text"]:
      return head + (index === undefined ? 400 : 64);
    default:
      return head + 16;
  }
}

/** The limits a device imposes on one request. */
export interface PlanLimits {
  /** Max APDU the device accepts (and we accept: the smaller). */
  maxApdu: number;
  /** Segments a reply may take (1: none). */
  maxSegments: number;
  /** At most this many properties in one request (0: no limit). */
  maxProperties: number;
}

/**
 * Groups properties into requests under `limits`. An object whose reply alone is larger than a
 * request may carry gets a request of its own (the device then segments or aborts, and the
 * driver falls back to ReadProperty).
 */
export function planRequests(objects: PlannedObject[], limits: PlanLimits): PlannedRequest[] {
  const reqLimit = limits.maxApdu - 4; // confirmed request header
  const replyLimit = limits.maxSegments > 1
    ? (limits.maxApdu - 5) * limits.maxSegments
    : limits.maxApdu - 3;
  const out: PlannedRequest[] = [];
  let cur: PlannedRequest = { objects: [], requestBytes: 0, replyBytes: 0 };
  let props = 0;
  const flush = () => {
    if (cur.objects.length > 0) out.push(cur);
    cur = { objects: [], requestBytes: 0, replyBytes: 0 };
    props = 0;
  };
  for (const o of objects) {
    // Split an object across requests property by property when needed.
    let part: PlannedObject | undefined;
    for (const p of o.properties) {
      const req = (p.property < 256 ? 2 : 3) + (p.index === undefined ? 0 : 3);
      const rep = replyEstimate(o.object, p.property, p.index);
      const objReq = part ? 0 : 7; // object id + opening/closing 1
      const objRep = part ? 0 : 7;
      const full = cur.objects.length > 0 && (
        cur.requestBytes + objReq + req > reqLimit ||
        cur.replyBytes + objRep + rep > replyLimit ||
        (limits.maxProperties > 0 && props + 1 > limits.maxProperties)
      );
      if (full) {
        flush();
        part = undefined;
      }
      if (!part) {
        part = { object: o.object, properties: [] };
        cur.objects.push(part);
        cur.requestBytes += 7;
        cur.replyBytes += 7;
      }
      part.properties.push(p);
      cur.requestBytes += req;
      cur.replyBytes += rep;
      props++;
    }
  }
  flush();
  return out;
}

/**
 * Objects and properties for a list of tag addresses: one entry per object, one per
 * property; the present value of an analog, binary or multi-state object brings its status
 * flags and reliability along (for quality) when `withStatus`.
 */
export function groupTags(
  addresses: readonly BacnetAddress[],
  withStatus: boolean,
): PlannedObject[] {
  const objects = new Map<string, PlannedObject>();
  addresses.forEach((a, i) => {
    const key = `${a.object.type}:${a.object.instance}`;
    let o = objects.get(key);
    if (!o) objects.set(key, o = { object: a.object, properties: [] });
    const add = (property: number, index: number | undefined, tag?: number) => {
      let p = o!.properties.find((x) => x.property === property && x.index === index);
      if (!p) {
        p = { property, tags: [], ...(index === undefined ? {} : { index }) };
        o!.properties.push(p);
      }
      if (tag !== undefined) p.tags.push(tag);
    };
    add(a.property, a.index, i);
    if (withStatus && a.property === P["present-value"] && family(a.object.type) !== "other") {
      add(P["status-flags"], undefined);
      add(P["reliability"], undefined);
    }
  });
  return [...objects.values()];
}

/** A request as a line of `bifrost plan`. */
export function describeRequest(r: PlannedRequest, names: readonly string[]): string {
  const parts = r.objects.map((o) =>
    `${formatObject(o.object)} {${
      o.properties.map((p) => {
        const who = p.tags.map((t) => names[t]).join(",");
        return `${propertyName(p.property)}${p.index === undefined ? "" : `[${p.index}]`}${
          who ? `→${who}` : ""
        }`;
      }).join(" ")
    }}`
  );
  return `ReadPropertyMultiple (~${r.requestBytes}/${r.replyBytes} bytes): ${parts.join(" ")}`;
}
