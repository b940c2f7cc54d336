/**
 * @module
 * Builds the node-opcua address space of a checked config: folders (objects with an event
 * notifier when they hold alarms), variables (AnalogItems when they have an EURange),
 * methods and limit alarms. Values go in and come back through {@linkcode toVariant} and
 * {@linkcode fromVariant}, in the record model (`Int64` a bigint, `ByteString` hex...).
 */

import { Buffer } from "node:buffer";
import type { Value } from "../../../engine/plugin.ts";
import { DATA_TYPE_IDS } from "../core/types.ts";
import { elementForWrite } from "../core/write_value.ts";
import {
  allFolders,
  type SimAlarmDef,
  type SimConfig,
  type SimMethodDef,
  type SimVariableDef,
} from "./config.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** A variable as the simulator holds it across restarts. */
export interface Held {
  v: SimVariableDef;
  status: number;
}

/** The built space: nodes by id, alarms by id (in config order). */
export interface BuiltSpace {
  nodes: Map<string, Any>;
  alarms: Map<string, Any>;
}

/** A status code object of node-opcua from its value (0: Good). */
export function statusOf(ua: Any, code: number): Any {
  return code === 0
    ? ua.StatusCodes.Good
    : Object.values(ua.StatusCodes).find((s: Any) => s?.value === code) ?? ua.StatusCodes.Bad;
}

function statusByName(ua: Any, name: string, at: string): Any {
  const s = ua.StatusCodes[name];
  if (!s) throw new RangeError(`${at}: unknown status code "${name}"`);
  return s;
}

/** One element in node-opcua's form. */
function element(ua: Any, v: SimVariableDef, e: Value): unknown {
  switch (v.type) {
    case "NodeId":
      return ua.resolveNodeId(e as string);
    case "ExpandedNodeId":
      return ua.coerceExpandedNodeId(e as string);
    case "StatusCode":
      return statusByName(ua, e as string, v.at);
    case "QualifiedName":
      return ua.coerceQualifiedName(e as string);
  }
  const c = elementForWrite(v.type, e);
  if (!c.ok) throw new RangeError(`Cannot hold ${String(e)} in ${v.id}: ${c.why}`);
  return c.value instanceof Uint8Array ? Buffer.from(c.value) : c.value;
}

/** A record-model value as a node-opcua Variant of the variable's type. */
export function toVariant(ua: Any, v: SimVariableDef, value: Value): Any {
  return new ua.Variant({
    dataType: DATA_TYPE_IDS[v.type],
    arrayType: v.array ? ua.VariantArrayType.Array : ua.VariantArrayType.Scalar,
    value: v.array ? (value as Value[]).map((e) => element(ua, v, e)) : element(ua, v, value),
  });
}

/** A node-opcua variant value back in the record model. */
export function fromVariant(v: SimVariableDef, raw: unknown): Value {
  const one = (e: unknown): Value => {
    if (Array.isArray(e) && (v.type === "Int64" || v.type === "UInt64")) {
      const u = (BigInt(e[0] >>> 0) << 32n) | BigInt(e[1] >>> 0);
      return v.type === "Int64" ? BigInt.asIntN(64, u) : u;
    }
    if (typeof e === "number" && (v.type === "Int64" || v.type === "UInt64")) return BigInt(e);
    if (v.type === "Float") return Math.fround(e as number);
    if (e instanceof Date) return e.toISOString();
    if (e instanceof Uint8Array) {
      return Array.from(e, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    if (v.type === "LocalizedText") return (e as { text: string }).text;
    if (v.type === "StatusCode") return (e as { name: string }).name;
    if (v.type === "QualifiedName") {
      const q = e as { namespaceIndex: number; name: string };
      return q.namespaceIndex ? `${q.namespaceIndex}:${q.name}` : q.name;
    }
    if (v.type === "NodeId" || v.type === "ExpandedNodeId") return String(e);
    return e as Value;
  };
  if (v.array) return Array.from(raw as ArrayLike<unknown>, one);
  return one(raw);
}

/** Adds the config's nodes to a started-up server's own namespace. */
export function buildSpace(
  ua: Any,
  server: Any,
  config: SimConfig,
  held: Map<string, Held>,
): BuiltSpace {
  const space = server.engine.addressSpace;
  const ns = space.getOwnNamespace();
  const objects = space.rootFolder.objects;
  const folders = new Map<string, Any>();
  const parentOf = (id: string) => {
    const dot = id.lastIndexOf(".");
    return { parent: dot < 0 ? objects : folders.get(id.slice(0, dot)), name: id.slice(dot + 1) };
  };
  if ([...allFolders(config.objects)].some((f) => f.alarms.length > 0)) {
    space.installAlarmsAndConditionsService();
  }
  for (const f of allFolders(config.objects)) {
    const { parent, name } = parentOf(f.id);
    const node = f.events
      ? ns.addObject({
        organizedBy: parent,
        browseName: name,
        nodeId: `s=${f.id}`,
        eventNotifier: 1,
        notifierOf: objects.server,
      })
      : ns.addFolder(parent, { browseName: name, nodeId: `s=${f.id}` });
    folders.set(f.id, node);
  }
  const nodes = new Map<string, Any>();
  for (const h of held.values()) nodes.set(h.v.id, addVariable(ua, ns, parentOf(h.v.id), h, held));
  for (const f of allFolders(config.objects)) {
    for (const m of f.methods) addMethod(ua, ns, parentOf(m.id), m, held, nodes);
  }
  const alarms = new Map<string, Any>();
  for (const f of allFolders(config.objects)) {
    for (const a of f.alarms) alarms.set(a.id, addAlarm(ua, ns, folders.get(f.id), a, nodes));
  }
  return { nodes, alarms };
}

function addVariable(
  ua: Any,
  ns: Any,
  where: { parent: Any; name: string },
  h: Held,
  held: Map<string, Held>,
): Any {
  const v = h.v;
  const access = v.writable ? "CurrentRead | CurrentWrite" : "CurrentRead";
  const common = {
    componentOf: where.parent,
    browseName: where.name,
    nodeId: `s=${v.id}`,
    dataType: ua.DataType[v.type],
    valueRank: v.array ? 1 : -1,
    arrayDimensions: v.array ? [0] : null,
    accessLevel: access,
    userAccessLevel: access,
    minimumSamplingInterval: 0,
  };
  let node: Any;
  if (v.euRange) {
    let units: Any;
    if (v.units !== undefined) {
      units = ua.standardUnits[v.units];
      if (!units) {
        throw new RangeError(`${v.at}: unknown units "${v.units}" (node-opcua standardUnits)`);
      }
    }
    node = ns.addAnalogDataItem({
      ...common,
      engineeringUnitsRange: v.euRange,
      ...(units ? { engineeringUnits: units } : {}),
    });
  } else node = ns.addVariable(common);
  node.setValueFromSource(toVariant(ua, v, v.value), statusOf(ua, h.status));
  // Client writes land in `held` too, so that a restart keeps them.
  node.on("value_changed", (dv: Any) => {
    const x = held.get(v.id);
    if (x && dv.statusCode.value === 0) x.v.value = fromVariant(v, dv.value.value);
  });
  return node;
}

function addMethod(
  ua: Any,
  ns: Any,
  where: { parent: Any; name: string },
  m: SimMethodDef,
  held: Map<string, Held>,
  nodes: Map<string, Any>,
): void {
  const arg = (name: string, type: string) => ({
    name,
    dataType: ua.DataType[type],
    valueRank: -1,
  });
  const target = m.variable ? held.get(m.variable)?.v : undefined;
  const io = {
    add: {
      inputArguments: [arg("a", "Double"), arg("b", "Double")],
      outputArguments: [arg("sum", "Double")],
    },
    echo: {
      inputArguments: [arg("value", m.type ?? "String")],
      outputArguments: [arg("value", m.type ?? "String")],
    },
    set: {
      inputArguments: [{
        ...arg("value", target?.type ?? "Double"),
        valueRank: target?.array ? 1 : -1,
      }],
      outputArguments: [],
    },
    fail: { inputArguments: [], outputArguments: [] },
  }[m.kind];
  const failWith = m.kind === "fail" ? statusByName(ua, m.status!, m.at) : undefined;
  const method = ns.addMethod(where.parent, {
    browseName: where.name,
    nodeId: `s=${m.id}`,
    ...io,
  });
  method.bindMethod((inputs: Any[], _context: Any, callback: Any) => {
    const done = (statusCode: Any, outputArguments: Any[] = []) =>
      callback(null, { statusCode, outputArguments });
    if (m.kind === "add") {
      return done(ua.StatusCodes.Good, [
        {
          dataType: ua.DataType.Double,
          value: Number(inputs[0]?.value) + Number(inputs[1]?.value),
        },
      ]);
    }
    if (m.kind === "echo") return done(ua.StatusCodes.Good, [inputs[0]]);
    if (m.kind === "fail") return done(failWith);
    const h = held.get(m.variable!);
    const node = nodes.get(m.variable!);
    if (!h || !node) return done(ua.StatusCodes.BadNodeIdUnknown);
    try {
      const value = fromVariant(h.v, inputs[0]?.value);
      node.setValueFromSource(toVariant(ua, h.v, value), statusOf(ua, h.status));
      h.v.value = value;
      return done(ua.StatusCodes.Good);
    } catch {
      return done(ua.StatusCodes.BadOutOfRange);
    }
  });
}

function addAlarm(ua: Any, ns: Any, folder: Any, a: SimAlarmDef, nodes: Map<string, Any>): Any {
  const input = nodes.get(a.input);
  folder.addReference({ referenceType: "HasEventSource", nodeId: input.nodeId });
  const name = a.id.slice(a.id.lastIndexOf(".") + 1);
  const options = {
    browseName: name,
    nodeId: `s=${a.id}`,
    componentOf: folder,
    conditionSource: input,
    inputNode: input,
    // Confirm and shelving for the client's alarm-action tests (Part 9 optionals).
    optionals: ["ConfirmedState", "Confirm", "ShelvingState"],
    maxTimeShelved: 3_600_000,
    ...(a.highHigh !== undefined ? { highHighLimit: a.highHigh } : {}),
    ...(a.high !== undefined ? { highLimit: a.high } : {}),
    ...(a.low !== undefined ? { lowLimit: a.low } : {}),
    ...(a.lowLow !== undefined ? { lowLowLimit: a.lowLow } : {}),
  };
  const alarm = a.type === "ExclusiveLimitAlarm"
    ? ns.instantiateExclusiveLimitAlarm("ExclusiveLimitAlarmType", options)
    : ns.instantiateNonExclusiveLimitAlarm("NonExclusiveLimitAlarmType", options);
  if (a.severity !== undefined || a.message !== undefined) {
    const base = alarm.calculateConditionInfo.bind(alarm);
    alarm.calculateConditionInfo = (state: Any, active: boolean, value: Any, old: Any) => {
      const info = base(state, active, value, old);
      const on = a.type === "ExclusiveLimitAlarm" ? Boolean(state) : active;
      if (!on) return info;
      return new ua.ConditionInfo({
        message: a.message === undefined ? info.message : a.message
          .replaceAll("{value}", String(value))
          .replaceAll("{state}", stateText(state)),
        severity: a.severity ?? info.severity,
        quality: ua.StatusCodes.Good,
        retain: true,
      });
    };
  }
  alarm.setEnabledState(true);
  return alarm;
}

/** An exclusive alarm's state name, or the active states of a non-exclusive one's JSON. */
function stateText(state: unknown): string {
  if (typeof state !== "string" || !state.startsWith("{")) return String(state);
  try {
    const on = Object.entries(JSON.parse(state) as Record<string, unknown>).filter(([, x]) =>
      x === true
    );
    return on.map(([k]) => k).join(", ");
  } catch {
    return state;
  }
}
