/**
 * @module
 * Tag addresses of the BACnet driver: `analog-input:3` (its present value),
 * `binary-output:1/present-value`, `device:1234/object-name`, `ai:3/priority-array[8]`,
 * and the value kinds and encodings that follow from object type and property.
 */

import type { ObjectId } from "./asn.ts";
import {
  OBJECT_ALIASES,
  ObjectType,
  objectTypeName,
  objectTypeNumber,
  PropertyId,
  propertyName,
  propertyNumber,
} from "./enums.ts";

/** A parsed tag address. */
export interface BacnetAddress {
  object: ObjectId;
  property: number;
  index?: number;
}

const ADDRESS = /^([a-z0-9-]+):(\d+)(?:\/([a-z0-9-]+))?(?:\[(\d+)\])?$/i;

/** Parses an address; throws `Error` with what is wrong (callers add where). */
export function parseAddress(text: string): BacnetAddress {
  const m = ADDRESS.exec(text.trim());
  if (!m) {
    throw new Error(
      `"${text}" is not a BACnet address: write object-type:instance[/property][[index]], e.g. analog-input:3 or binary-output:1/present-value`,
    );
  }
  const typeName = m[1]!.toLowerCase();
  const type = objectTypeNumber(OBJECT_ALIASES[typeName] ?? typeName);
  if (type === undefined) {
    throw new Error(
      `Unknown BACnet object type "${
        m[1]
      }" in "${text}": use a name such as analog-input, binary-value, multi-state-output, device, or type-N`,
    );
  }
  const instance = Number(m[2]);
  if (instance > 4194303) {
    throw new Error(`Instance ${instance} in "${text}" is out of range (0-4194303)`);
  }
  const prop = m[3] ? propertyNumber(m[3].toLowerCase()) : PropertyId["present-value"];
  if (prop === undefined) {
    throw new Error(
      `Unknown BACnet property "${
        m[3]
      }" in "${text}": use a name such as present-value, object-name, units, status-flags, or property-N`,
    );
  }
  const a: BacnetAddress = { object: { type, instance }, property: prop };
  if (m[4] !== undefined) a.index = Number(m[4]);
  return a;
}

/** The canonical text of an address (`analog-input:3/present-value`). */
export function formatAddress(a: BacnetAddress): string {
  const idx = a.index === undefined ? "" : `[${a.index}]`;
  return `${objectTypeName(a.object.type)}:${a.object.instance}/${propertyName(a.property)}${idx}`;
}

/** `analog-input:3`. */
export function formatObject(o: ObjectId): string {
  return `${objectTypeName(o.type)}:${o.instance}`;
}

const T = ObjectType;
const ANALOG: number[] = [
  T["analog-input"],
  T["analog-output"],
  T["analog-value"],
  T["large-analog-value"],
];
const BINARY: number[] = [T["binary-input"], T["binary-output"], T["binary-value"]];
const MULTI: number[] = [T["multi-state-input"], T["multi-state-output"], T["multi-state-value"]];

/** Object types whose present value is commandable (has a priority array). */
export const COMMANDABLE: number[] = [
  T["analog-output"],
  T["binary-output"],
  T["multi-state-output"],
];

/** Whether the object type is analog, binary or multi-state (or none). */
export function family(type: number): "analog" | "binary" | "multi" | "other" {
  return ANALOG.includes(type)
    ? "analog"
    : BINARY.includes(type)
    ? "binary"
    : MULTI.includes(type)
    ? "multi"
    : "other";
}

/** Tag types a flow may declare (the BACnet application types a value is written as). */
export const TAG_TYPES = [
  "real",
  "double",
  "boolean",
  "unsigned",
  "signed",
  "enumerated",
  "string",
  "bits",
  "any",
] as const;

/** A tag type. */
export type TagType = (typeof TAG_TYPES)[number];

const P = PropertyId;

/** The type a property of an object carries when the flow names none. */
export function defaultType(a: BacnetAddress): TagType {
  const f = family(a.object.type);
  switch (a.property) {
    case P["present-value"]:
    case P["relinquish-default"]:
    case P["priority-array"]:
      if (a.property === P["priority-array"] && a.index === undefined) return "any";
      return f === "analog"
        ? "real"
        : f === "binary"
        ? "boolean"
        : f === "multi"
        ? "unsigned"
        : "any";
    case P["cov-increment"]:
    case P["min-pres-value"]:
    case P["max-pres-value"]:
    case P["resolution"]:
      return "real";
    case P["object-name"]:
    case P["description"]:
    case P["vendor-name"]:
    case P["model-name"]:
    case P["firmware-revision"]:
    case P["application-software-version"]:
    case P["location"]:
    case P["active-text"]:
    case P["inactive-text"]:
      return "string";
    case P["out-of-service"]:
      return "boolean";
    case P["status-flags"]:
      return "bits";
    case P["units"]:
    case P["reliability"]:
    case P["event-state"]:
    case P["system-status"]:
    case P["segmentation-supported"]:
    case P["polarity"]:
    case P["object-type"]:
      return "enumerated";
    case P["number-of-states"]:
    case P["vendor-identifier"]:
    case P["max-apdu-length-accepted"]:
    case P["apdu-timeout"]:
    case P["protocol-version"]:
    case P["protocol-revision"]:
    case P["database-revision"]:
      return "unsigned";
    default:
      return "any";
  }
}

/** The engine value kind of a tag type. */
export function kindOfType(t: TagType): "float" | "boolean" | "integer" | "string" | "array" {
  switch (t) {
    case "real":
    case "double":
      return "float";
    case "boolean":
      return "boolean";
    case "unsigned":
    case "signed":
    case "enumerated":
      return "integer";
    case "string":
      return "string";
    default:
      return "array";
  }
}
