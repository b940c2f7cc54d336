/**
 * @module
 * Walks a device's object list: its length (object-list[0]) then its entries, falling back
 * to reading the whole list (segmented) when the device cannot index it, and then every
 * object's name, description, units and out-of-service/commandability in
 * ReadPropertyMultiple batches. Used by `Driver.browse` and `bifrost browse`.
 */

import type { ObjectId } from "../core/asn.ts";
import { COMMANDABLE, defaultType, family, formatObject, kindOfType } from "../core/address.ts";
import { ObjectType, PropertyId as P, unitName, unitSymbol } from "../core/enums.ts";
import { planRequests } from "../core/plan.ts";
import type { BacnetSession } from "./session.ts";

/** An object found by browsing. */
export interface BrowsedObject {
  object: ObjectId;
  address: string;
  name: string;
  description?: string;
  /** BACnet units name and short symbol, for analog objects. */
  units?: { name: string; symbol: string };
  type: string;
  kind: "float" | "boolean" | "integer" | "string" | "array";
  writable: boolean;
  states?: string[];
}

/** Reads the object list of device `instance`. */
export async function objectList(
  s: BacnetSession,
  instance: number,
  signal: AbortSignal,
): Promise<ObjectId[]> {
  const dev = { type: ObjectType.device, instance };
  try {
    const whole = await s.readProperty(dev, P["object-list"], undefined, signal);
    return whole.flatMap((v) => v.type === "objectId" ? [v.value] : []);
  } catch {
    // Too long for one APDU and no segmentation: entry by entry.
    const n = await s.readProperty(dev, P["object-list"], 0, signal);
    const count = n[0]?.type === "unsigned" ? n[0].value : 0;
    const out: ObjectId[] = [];
    for (let i = 1; i <= count; i++) {
      const v = await s.readProperty(dev, P["object-list"], i, signal);
      if (v[0]?.type === "objectId") out.push(v[0].value);
    }
    return out;
  }
}

/** Every object of the device with its name, units and type. */
export async function browseObjects(
  s: BacnetSession,
  instance: number,
  signal: AbortSignal,
): Promise<BrowsedObject[]> {
  const ids = (await objectList(s, instance, signal)).filter((o) => o.type !== ObjectType.device);
  const planned = ids.map((object) => ({
    object,
    properties: [
      { property: P["object-name"], tags: [] },
      { property: P["description"], tags: [] },
      ...(family(object.type) === "analog" ? [{ property: P["units"], tags: [] }] : []),
      ...(family(object.type) === "multi" ? [{ property: P["state-text"], tags: [] }] : []),
    ],
  }));
  const requests = planRequests(planned, {
    maxApdu: s.limits.maxApdu,
    maxSegments: s.segmentsReplies ? 16 : 1,
    maxProperties: 0,
  });
  const info = new Map<
    string,
    { name?: string; description?: string; units?: number; states?: string[] }
  >();
  for (const r of requests) {
    const results = await s.readMultiple(r, signal);
    for (const o of results) {
      const k = `${o.object.type}:${o.object.instance}`;
      const e = info.get(k) ?? {};
      for (const p of o.results) {
        if ("error" in p) continue;
        const v = p.values[0];
        if (p.property === P["object-name"] && v?.type === "characterString") e.name = v.value;
        if (p.property === P["description"] && v?.type === "characterString" && v.value) {
          e.description = v.value;
        }
        if (p.property === P["units"] && v?.type === "enumerated") e.units = v.value;
        if (p.property === P["state-text"]) {
          e.states = p.values.flatMap((x) => x.type === "characterString" ? [x.value] : []);
        }
      }
      info.set(k, e);
    }
  }
  return ids.map((object) => {
    const e = info.get(`${object.type}:${object.instance}`) ?? {};
    const address = formatObject(object);
    const t = defaultType({ object, property: P["present-value"] });
    const f = family(object.type);
    return {
      object,
      address,
      name: e.name ?? address,
      ...(e.description ? { description: e.description } : {}),
      ...(e.units !== undefined
        ? { units: { name: unitName(e.units), symbol: unitSymbol(e.units) } }
        : {}),
      ...(e.states ? { states: e.states } : {}),
      type: t,
      kind: kindOfType(t),
      writable: COMMANDABLE.includes(object.type) ||
        [ObjectType["analog-value"], ObjectType["binary-value"], ObjectType["multi-state-value"]]
          .includes(object.type as 2) ||
        (f === "other" && false),
    };
  });
}
