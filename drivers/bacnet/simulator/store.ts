/**
 * @module
 * The object database of a simulated BACnet device: a Device object and analog, binary and
 * multi-state input/output/value objects with present value, priority array (commandable
 * outputs, and values that declare one), relinquish default, units, status flags,
 * reliability, out-of-service and COV increment. Reads and writes follow clause 12 and the
 * command prioritization of clause 19: a write with a priority sets that slot, a NULL
 * relinquishes it, the present value is the highest-priority non-NULL slot or the
 * relinquish default.
 */

import type { AppValue, ObjectId } from "../core/asn.ts";
import { COMMANDABLE, family } from "../core/address.ts";
import { ErrorCode, ObjectType, PropertyId as P, Reliability } from "../core/enums.ts";

/** A BACnet error a read or write answers with. */
export class SimError extends Error {
  constructor(
    readonly cls: number,
    readonly code: number,
    message = `BACnet error ${cls}/${code}`,
  ) {
    super(message);
  }
}

const OBJECT = 1;
const PROPERTY = 2;

/** One simulated object. */
export interface SimObject {
  type: number;
  instance: number;
  name: string;
  description: string;
  /** The present value when not commanded (inputs; values without a priority array). */
  value: number | boolean;
  units?: number;
  /** 16 slots, null when relinquished; present on commandable objects. */
  priority?: (number | boolean | null)[];
  relinquishDefault: number | boolean;
  outOfService: boolean;
  /** Index into Reliability (0: no fault). */
  reliability: number;
  covIncrement: number;
  /** Multi-state objects: the state names. */
  states?: string[];
  /** Whether SubscribeCOV on this object is refused (a device that polls only). */
  noCov?: boolean;
  /** Whether writes to the present value are refused (inputs not out of service). */
  readOnly?: boolean;
}

/** The Device object's fields. */
export interface SimDeviceInfo {
  instance: number;
  name: string;
  vendorName: string;
  vendorId: number;
  modelName: string;
  maxApdu: number;
  /** 0 both, 3 none. */
  segmentation: number;
  databaseRevision: number;
}

/** The present value of an object. */
export function presentValue(o: SimObject): number | boolean {
  if (o.priority) {
    for (const v of o.priority) if (v !== null) return v;
    return o.relinquishDefault;
  }
  return o.value;
}

function pvApp(o: SimObject, v: number | boolean): AppValue {
  const f = family(o.type);
  if (f === "binary") return { type: "enumerated", value: v ? 1 : 0 };
  if (f === "multi") return { type: "unsigned", value: Number(v) };
  return { type: "real", value: Number(v) };
}

function statusFlags(o: SimObject): AppValue {
  // in-alarm, fault, overridden, out-of-service
  return { type: "bitString", value: [false, o.reliability !== 0, false, o.outOfService] };
}

/** The properties an object has (its Property_List plus the four every object has). */
export function propertyIds(o: SimObject): number[] {
  const base = [P["object-identifier"], P["object-name"], P["object-type"], P["description"]];
  const f = family(o.type);
  const ids: number[] = [
    ...base,
    P["present-value"],
    P["status-flags"],
    P["event-state"],
    P["reliability"],
    P["out-of-service"],
  ];
  if (f === "analog") ids.push(P["units"], P["cov-increment"]);
  if (f === "binary") ids.push(P["polarity"], P["active-text"], P["inactive-text"]);
  if (f === "multi") ids.push(P["number-of-states"], P["state-text"]);
  if (o.priority) ids.push(P["priority-array"], P["relinquish-default"]);
  return ids;
}

/** Reads a property of an object; throws {@linkcode SimError}. */
export function readObjectProperty(o: SimObject, prop: number, index?: number): AppValue[] {
  const arr = (items: AppValue[]): AppValue[] => {
    if (index === undefined) return items;
    if (index === 0) return [{ type: "unsigned", value: items.length }];
    const it = items[index - 1];
    if (!it) throw new SimError(PROPERTY, ErrorCode.invalidArrayIndex);
    return [it];
  };
  const scalar = (v: AppValue): AppValue[] => {
    if (index !== undefined) throw new SimError(PROPERTY, 50);
    return [v];
  };
  if (!propertyIds(o).includes(prop)) throw new SimError(PROPERTY, ErrorCode.unknownProperty);
  switch (prop) {
    case P["object-identifier"]:
      return scalar({ type: "objectId", value: { type: o.type, instance: o.instance } });
    case P["object-name"]:
      return scalar({ type: "characterString", value: o.name });
    case P["object-type"]:
      return scalar({ type: "enumerated", value: o.type });
    case P["description"]:
      return scalar({ type: "characterString", value: o.description });
    case P["present-value"]:
      return scalar(pvApp(o, presentValue(o)));
    case P["status-flags"]:
      return scalar(statusFlags(o));
    case P["event-state"]:
      return scalar({ type: "enumerated", value: 0 });
    case P["reliability"]:
      return scalar({ type: "enumerated", value: o.reliability });
    case P["out-of-service"]:
      return scalar({ type: "boolean", value: o.outOfService });
    case P["units"]:
      return scalar({ type: "enumerated", value: o.units ?? 95 });
    case P["cov-increment"]:
      return scalar({ type: "real", value: o.covIncrement });
    case P["polarity"]:
      return scalar({ type: "enumerated", value: 0 });
    case P["active-text"]:
      return scalar({ type: "characterString", value: "active" });
    case P["inactive-text"]:
      return scalar({ type: "characterString", value: "inactive" });
    case P["number-of-states"]:
      return scalar({ type: "unsigned", value: o.states?.length ?? 1 });
    case P["state-text"]:
      return arr((o.states ?? []).map((s) => ({ type: "characterString", value: s })));
    case P["priority-array"]:
      return arr(o.priority!.map((v) => v === null ? { type: "null" } : pvApp(o, v)));
    case P["relinquish-default"]:
      return scalar(pvApp(o, o.relinquishDefault));
  }
  throw new SimError(PROPERTY, ErrorCode.unknownProperty);
}

function toNative(o: SimObject, v: AppValue): number | boolean {
  const f = family(o.type);
  if (f === "binary") {
    if ((v.type === "enumerated" || v.type === "unsigned") && (v.value === 0 || v.value === 1)) {
      return v.value === 1;
    }
    if (v.type === "boolean") return v.value;
    throw new SimError(PROPERTY, ErrorCode.invalidDataType);
  }
  if (f === "multi") {
    if (v.type !== "unsigned") throw new SimError(PROPERTY, ErrorCode.invalidDataType);
    if (v.value < 1 || v.value > (o.states?.length ?? 1)) {
      throw new SimError(PROPERTY, ErrorCode.valueOutOfRange);
    }
    return v.value;
  }
  if (v.type === "real" || v.type === "double" || v.type === "unsigned" || v.type === "signed") {
    return v.value;
  }
  throw new SimError(PROPERTY, ErrorCode.invalidDataType);
}

/** Writes a property (present value with priority, out-of-service, names, COV increment). */
export function writeObjectProperty(
  o: SimObject,
  prop: number,
  values: AppValue[],
  priority?: number,
): void {
  const v = values[0];
  if (!v) throw new SimError(PROPERTY, ErrorCode.invalidDataType);
  switch (prop) {
    case P["present-value"]: {
      if (o.priority) {
        const slot = (priority ?? 16) - 1;
        if (slot < 0 || slot > 15) throw new SimError(PROPERTY, ErrorCode.valueOutOfRange);
        o.priority[slot] = v.type === "null" ? null : toNative(o, v);
        return;
      }
      if (o.readOnly && !o.outOfService) throw new SimError(PROPERTY, ErrorCode.writeAccessDenied);
      if (v.type === "null") throw new SimError(PROPERTY, ErrorCode.invalidDataType);
      o.value = toNative(o, v);
      return;
    }
    case P["out-of-service"]:
      if (v.type !== "boolean") throw new SimError(PROPERTY, ErrorCode.invalidDataType);
      o.outOfService = v.value;
      return;
    case P["object-name"]:
    case P["description"]:
      if (v.type !== "characterString") throw new SimError(PROPERTY, ErrorCode.invalidDataType);
      if (prop === P["object-name"]) o.name = v.value;
      else o.description = v.value;
      return;
    case P["cov-increment"]:
      if (v.type !== "real") throw new SimError(PROPERTY, ErrorCode.invalidDataType);
      o.covIncrement = v.value;
      return;
    case P["relinquish-default"]:
      if (!o.priority) break;
      o.relinquishDefault = toNative(o, v);
      return;
    case P["reliability"]:
      if (v.type !== "enumerated" || v.value >= Reliability.length) {
        throw new SimError(PROPERTY, ErrorCode.valueOutOfRange);
      }
      o.reliability = v.value;
      return;
  }
  if (!propertyIds(o).includes(prop)) throw new SimError(PROPERTY, ErrorCode.unknownProperty);
  throw new SimError(PROPERTY, ErrorCode.writeAccessDenied);
}

/** A simulated device: its Device object and its objects, by `type:instance`. */
export class SimDevice {
  readonly objects = new Map<string, SimObject>();

  constructor(readonly info: SimDeviceInfo) {}

  add(o: SimObject): void {
    this.objects.set(`${o.type}:${o.instance}`, o);
  }

  get(id: ObjectId): SimObject {
    const o = this.objects.get(`${id.type}:${id.instance}`);
    if (!o) throw new SimError(OBJECT, ErrorCode.unknownObject);
    return o;
  }

  /** Reads a property of any object, the Device object included. */
  read(id: ObjectId, prop: number, index?: number): AppValue[] {
    if (
      id.type === ObjectType.device &&
      (id.instance === this.info.instance || id.instance === 4194303)
    ) {
      return this.readDevice(prop, index);
    }
    return readObjectProperty(this.get(id), prop, index);
  }

  /** The properties of an object, for ReadPropertyMultiple `all`. */
  properties(id: ObjectId): number[] {
    if (id.type === ObjectType.device) {
      return [
        P["object-identifier"],
        P["object-name"],
        P["object-type"],
        P["system-status"],
        P["vendor-name"],
        P["vendor-identifier"],
        P["model-name"],
        P["firmware-revision"],
        P["application-software-version"],
        P["protocol-version"],
        P["protocol-revision"],
        P["max-apdu-length-accepted"],
        P["segmentation-supported"],
        P["database-revision"],
        P["object-list"],
      ];
    }
    return propertyIds(this.get(id));
  }

  private readDevice(prop: number, index?: number): AppValue[] {
    const i = this.info;
    const s = (v: AppValue): AppValue[] => {
      if (index !== undefined) throw new SimError(PROPERTY, 50);
      return [v];
    };
    switch (prop) {
      case P["object-identifier"]:
        return s({ type: "objectId", value: { type: ObjectType.device, instance: i.instance } });
      case P["object-name"]:
        return s({ type: "characterString", value: i.name });
      case P["object-type"]:
        return s({ type: "enumerated", value: ObjectType.device });
      case P["system-status"]:
        return s({ type: "enumerated", value: 0 });
      case P["vendor-name"]:
        return s({ type: "characterString", value: i.vendorName });
      case P["vendor-identifier"]:
        return s({ type: "unsigned", value: i.vendorId });
      case P["model-name"]:
        return s({ type: "characterString", value: i.modelName });
      case P["firmware-revision"]:
        return s({ type: "characterString", value: "1.0" });
      case P["application-software-version"]:
        return s({ type: "characterString", value: "bifrost-sim 1.0" });
      case P["description"]:
        return s({ type: "characterString", value: "Bifrost BACnet simulator" });
      case P["protocol-version"]:
        return s({ type: "unsigned", value: 1 });
      case P["protocol-revision"]:
        return s({ type: "unsigned", value: 14 });
      case P["max-apdu-length-accepted"]:
        return s({ type: "unsigned", value: i.maxApdu });
      case P["segmentation-supported"]:
        return s({ type: "enumerated", value: i.segmentation });
      case P["database-revision"]:
        return s({ type: "unsigned", value: i.databaseRevision });
      case P["object-list"]: {
        const list: AppValue[] = [
          { type: "objectId", value: { type: ObjectType.device, instance: i.instance } },
          ...[...this.objects.values()].map((o): AppValue => ({
            type: "objectId",
            value: { type: o.type, instance: o.instance },
          })),
        ];
        if (index === undefined) return list;
        if (index === 0) return [{ type: "unsigned", value: list.length }];
        const it = list[index - 1];
        if (!it) throw new SimError(PROPERTY, ErrorCode.invalidArrayIndex);
        return [it];
      }
    }
    throw new SimError(PROPERTY, ErrorCode.unknownProperty);
  }

  /** Writes a property. */
  write(id: ObjectId, prop: number, values: AppValue[], priority?: number): void {
    if (id.type === ObjectType.device) {
      if (id.instance !== this.info.instance) throw new SimError(OBJECT, ErrorCode.unknownObject);
      const v = values[0];
      if (prop === P["object-name"] && v?.type === "characterString") {
        this.info.name = v.value;
        return;
      }
      throw new SimError(PROPERTY, ErrorCode.writeAccessDenied);
    }
    writeObjectProperty(this.get(id), prop, values, priority);
  }
}

/** A new object with defaults for its type. */
export function newObject(type: number, instance: number, o: Partial<SimObject> = {}): SimObject {
  const f = family(type);
  const commandable = COMMANDABLE.includes(type);
  const zero = f === "binary" ? false : f === "multi" ? 1 : 0;
  const obj: SimObject = {
    type,
    instance,
    name: o.name ?? `${type}-${instance}`,
    description: o.description ?? "",
    value: o.value ?? zero,
    relinquishDefault: o.relinquishDefault ?? o.value ?? zero,
    outOfService: o.outOfService ?? false,
    reliability: o.reliability ?? 0,
    covIncrement: o.covIncrement ?? 0.1,
    readOnly: o.readOnly ??
      [ObjectType["analog-input"], ObjectType["binary-input"], ObjectType["multi-state-input"]]
        .includes(type as 0),
  };
  if (f === "analog") obj.units = o.units ?? 95;
  if (f === "multi") obj.states = o.states ?? ["State 1"];
  if (o.noCov) obj.noCov = true;
  if (commandable || o.priority) obj.priority = o.priority ?? new Array(16).fill(null);
  return obj;
}
