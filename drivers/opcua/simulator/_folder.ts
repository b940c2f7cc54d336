/**
 * @module
 * Reads one folder of the simulator's YAML and what it holds: sub-folders, variables (type,
 * value, writable, generator, EURange, repeat), methods and limit alarms. Each definition
 * keeps its `file:line:column` so that errors found later (when the server is built) point
 * at it too.
 */

import { isMap, isScalar, type Node } from "yaml";
import type { Value } from "../../../engine/plugin.ts";
import { INTEGER_RANGES, SCALAR_TYPES, type ScalarType } from "../core/types.ts";
import { elementForWrite } from "../core/write_value.ts";
import { show, type YamlReader } from "./_reader.ts";
import {
  ALARM_TYPES,
  METHOD_KINDS,
  SIM_GENERATORS,
  type SimAlarmDef,
  type SimFolderDef,
  type SimGenerator,
  type SimMethodDef,
  type SimVariableDef,
} from "./_defs.ts";

const FOLDER_KEYS = ["folders", "variables", "methods", "alarms", "events"] as const;
const VARIABLE_KEYS = [
  "type",
  "value",
  "writable",
  "generator",
  "euRange",
  "units",
  "repeat",
] as const;
const GENERATOR_KEYS = ["kind", "min", "max", "period", "step", "every", "seed"] as const;
const METHOD_KEYS = ["kind", "type", "variable", "status"] as const;
const ALARM_KEYS = [
  "type",
  "input",
  "highHigh",
  "high",
  "low",
  "lowLow",
  "severity",
  "message",
] as const;

/** Most variables a `repeat:` makes. */
export const MAX_REPEAT = 100_000;

// The integer types (their ranges) and the two floating-point ones.
const NUMERIC = new Set<string>([...Object.keys(INTEGER_RANGES), "Float", "Double"]);

function checkName(r: YamlReader, key: Node, name: string, what: string, template = false) {
  if (name === "" || name.includes(".")) {
    r.fail(key, `The ${what} name "${name}" must be non-empty and without "." (dots join NodeIds)`);
    return false;
  }
  if (!template && name.includes("{i}")) {
    r.fail(key, `The ${what} name "${name}" has {i}: only a variable with repeat: may use it`);
    return false;
  }
  return true;
}

/** Reads a folder named `name` under `parent` (its path of names). */
export function readFolder(
  r: YamlReader,
  node: Node | null,
  name: string,
  parent: string[],
  key: Node,
): SimFolderDef | undefined {
  if (!checkName(r, key, name, "folder")) return undefined;
  const path = [...parent, name];
  const id = path.join(".");
  const f: SimFolderDef = {
    id,
    events: false,
    folders: [],
    variables: [],
    methods: [],
    alarms: [],
  };
  for (const [k, v] of r.map(node, `folder "${id}"`, FOLDER_KEYS) ?? []) {
    if (k === "events") {
      f.events = r.bool(v, `events of folder "${id}"`) ?? false;
      continue;
    }
    for (const [n, child, pair] of r.map(v, `${k} of folder "${id}"`, null) ?? []) {
      const ck = pair.key as Node;
      if (k === "folders") {
        const sub = readFolder(r, child, n, path, ck);
        if (sub) f.folders.push(sub);
      } else if (k === "variables") {
        const vd = readVariable(r, child, n, path, ck);
        if (vd) f.variables.push(vd);
      } else if (k === "methods") {
        const m = readMethod(r, child, n, path, ck);
        if (m) f.methods.push(m);
      } else {
        const a = readAlarm(r, child, n, path, ck);
        if (a) f.alarms.push(a);
      }
    }
  }
  if (f.alarms.length > 0) f.events = true;
  return f;
}

function readVariable(
  r: YamlReader,
  node: Node | null,
  name: string,
  parent: string[],
  key: Node,
): SimVariableDef | undefined {
  const id = [...parent, name].join(".");
  const what = `variable "${id}"`;
  if (!checkName(r, key, name, "variable", true)) return undefined;
  const entries = r.map(node, what, VARIABLE_KEYS);
  if (!entries) return undefined;
  const get = (k: string) => entries.find(([n]) => n === k);
  const typeEntry = get("type");
  if (!typeEntry) {
    return r.fail(
      node ?? key,
      `The ${what} needs type: (${SCALAR_TYPES.join(", ")}, or one of them with [] for an array)`,
    );
  }
  const typeText = r.str(typeEntry[1], `type of ${what}`);
  if (typeText === undefined) return undefined;
  const array = typeText.endsWith("[]");
  const type = (array ? typeText.slice(0, -2) : typeText) as ScalarType;
  if (!(SCALAR_TYPES as readonly string[]).includes(type)) {
    return r.fail(
      typeEntry[1],
      `Unknown type "${typeText}" of ${what} (known: ${
        SCALAR_TYPES.join(", ")
      }, and arrays such as Double[])`,
    );
  }
  const v: SimVariableDef = {
    id,
    type,
    array,
    value: array ? [] : defaultValue(type),
    writable: false,
    at: r.at(key),
  };
  const repeatEntry = get("repeat");
  if (repeatEntry) {
    v.repeat = r.int(repeatEntry[1], `repeat of ${what}`, 0, MAX_REPEAT);
    if (!name.includes("{i}")) {
      r.fail(key, `The ${what} has repeat: but no {i} in its name (e.g. "${name}{i}")`);
    }
  } else if (name.includes("{i}")) {
    r.fail(key, `The ${what} has {i} in its name but no repeat: N`);
  }
  const numericScalar = NUMERIC.has(type) && !array;
  for (const [k, n] of entries) {
    if (k === "value") {
      const raw = r.js(n);
      if (v.repeat !== undefined && raw === "{i}" && !array && type !== "Boolean") {
        v.value = "{i}";
        continue;
      }
      const checked = checkValue(type, array, raw);
      if (typeof checked === "string") r.fail(n, `The value of ${what} ${checked}`);
      else v.value = checked.value;
    } else if (k === "writable") v.writable = r.bool(n, `writable of ${what}`) ?? false;
    else if (k === "generator") {
      if (!(numericScalar || (type === "Boolean" && !array))) {
        r.fail(
          n,
          `The ${what} of type ${typeText} cannot have a generator (numeric or Boolean scalars only)`,
        );
      } else v.generator = readGenerator(r, n, what);
    } else if (k === "euRange") {
      const items = r.seq(n, `euRange of ${what}`);
      const [low, high] = (items ?? []).map((i) => r.num(i, `euRange of ${what}`));
      if (items && (items.length !== 2 || low === undefined || high === undefined || low >= high)) {
        r.fail(
          n,
          `euRange of ${what} must be [low, high] with low below high, got ${show(r.js(n))}`,
        );
      } else if (!numericScalar) {
        r.fail(n, `The ${what} of type ${typeText} cannot have an euRange (numeric scalars only)`);
      } else if (low !== undefined && high !== undefined) v.euRange = { low, high };
    } else if (k === "units") {
      const u = r.str(n, `units of ${what}`);
      if (u !== undefined) v.units = u;
    }
  }
  if (v.units !== undefined && v.euRange === undefined) {
    r.fail(get("units")![1], `units of ${what} needs euRange: too (an AnalogItem has both)`);
  }
  return v;
}

function readGenerator(r: YamlReader, node: Node | null, what: string): SimGenerator | undefined {
  if (isScalar(node)) {
    const kind = r.oneOf(node, `generator of ${what}`, SIM_GENERATORS);
    return kind === undefined ? undefined : { kind };
  }
  if (!isMap(node)) {
    return r.fail(
      node,
      `generator of ${what} must be a kind (${SIM_GENERATORS.join(", ")}) or a mapping`,
    );
  }
  const entries = r.map(node, `generator of ${what}`, GENERATOR_KEYS) ?? [];
  const kindEntry = entries.find(([k]) => k === "kind");
  if (!kindEntry) {
    return r.fail(node, `generator of ${what} needs kind: (${SIM_GENERATORS.join(", ")})`);
  }
  const kind = r.oneOf(kindEntry[1], `generator kind of ${what}`, SIM_GENERATORS);
  if (kind === undefined) return undefined;
  const g: SimGenerator = { kind };
  for (const [k, n] of entries) {
    const w = `generator ${k} of ${what}`;
    if (k === "min" || k === "max" || k === "step") {
      const x = r.num(n, w);
      if (x !== undefined) g[k] = x;
    } else if (k === "seed") {
      const x = r.int(n, w, 0, 2 ** 32 - 1);
      if (x !== undefined) g.seed = x;
    } else if (k === "period") {
      const x = r.duration(n, w, false);
      if (x !== undefined) g.periodMs = x;
    } else if (k === "every") {
      const x = r.duration(n, w, false);
      if (x !== undefined) g.everyMs = x;
    }
  }
  if (g.min !== undefined && g.max !== undefined && g.min > g.max) {
    r.fail(node, `generator of ${what} has min ${g.min} above max ${g.max}`);
  }
  return g;
}

function readMethod(
  r: YamlReader,
  node: Node | null,
  name: string,
  parent: string[],
  key: Node,
): SimMethodDef | undefined {
  if (!checkName(r, key, name, "method")) return undefined;
  const id = [...parent, name].join(".");
  const what = `method "${id}"`;
  const entries = r.map(node, what, METHOD_KEYS);
  if (!entries) return undefined;
  const kindEntry = entries.find(([k]) => k === "kind");
  if (!kindEntry) {
    return r.fail(node ?? key, `The ${what} needs kind: (${METHOD_KINDS.join(", ")})`);
  }
  const kind = r.oneOf(kindEntry[1], `kind of ${what}`, METHOD_KINDS);
  if (kind === undefined) return undefined;
  const m: SimMethodDef = { id, kind, at: r.at(key) };
  for (const [k, n] of entries) {
    if (k === "type") {
      if (kind !== "echo") r.fail(n, `type: is for echo methods; ${what} is ${kind}`);
      else m.type = r.oneOf(n, `type of ${what}`, SCALAR_TYPES);
    } else if (k === "variable") {
      if (kind !== "set") r.fail(n, `variable: is for set methods; ${what} is ${kind}`);
      else m.variable = r.str(n, `variable of ${what}`);
    } else if (k === "status") {
      if (kind !== "fail") r.fail(n, `status: is for fail methods; ${what} is ${kind}`);
      const s = r.str(n, `status of ${what}`);
      if (s !== undefined && !/^Bad[A-Za-z0-9]*$/.test(s)) {
        r.fail(
          n,
          `status of ${what} must be a Bad status code name (BadUserAccessDenied...), got "${s}"`,
        );
      } else if (s !== undefined) m.status = s;
    }
  }
  if (kind === "set" && m.variable === undefined) {
    r.fail(node ?? key, `The ${what} (set) needs variable: (the id of the variable it sets)`);
  }
  if (kind === "fail" && m.status === undefined) m.status = "BadInternalError";
  return m;
}

function readAlarm(
  r: YamlReader,
  node: Node | null,
  name: string,
  parent: string[],
  key: Node,
): SimAlarmDef | undefined {
  if (!checkName(r, key, name, "alarm")) return undefined;
  const id = [...parent, name].join(".");
  const what = `alarm "${id}"`;
  const entries = r.map(node, what, ALARM_KEYS);
  if (!entries) return undefined;
  const a: Partial<SimAlarmDef> = { id, at: r.at(key) };
  for (const [k, n] of entries) {
    if (k === "type") a.type = r.oneOf(n, `type of ${what}`, ALARM_TYPES);
    else if (k === "input") a.input = r.str(n, `input of ${what}`);
    else if (k === "message") a.message = r.str(n, `message of ${what}`);
    else if (k === "severity") a.severity = r.int(n, `severity of ${what}`, 1, 1000);
    else {
      const x = r.num(n, `${k} of ${what}`);
      if (x !== undefined) a[k as "high"] = x;
    }
  }
  const missing = (["type", "input"] as const).filter((k) => !entries.some(([e]) => e === k));
  if (missing.length) {
    return r.fail(
      node ?? key,
      `The ${what} needs ${missing.map((m) => `${m}:`).join(" and ")}`,
    );
  }
  const limits = (["lowLow", "low", "high", "highHigh"] as const).filter((k) => a[k] !== undefined);
  if (limits.length === 0) {
    return r.fail(
      node ?? key,
      `The ${what} needs at least one limit (lowLow, low, high, highHigh)`,
    );
  }
  for (let i = 1; i < limits.length; i++) {
    if (a[limits[i - 1]!]! >= a[limits[i]!]!) {
      return r.fail(
        node ?? key,
        `The limits of ${what} must rise: ${limits.map((l) => `${l} ${a[l]}`).join(", ")}`,
      );
    }
  }
  if (a.type === undefined || a.input === undefined) return undefined;
  return a as SimAlarmDef;
}

function defaultValue(t: ScalarType): Value {
  if (t === "Boolean") return false;
  if (t === "Int64" || t === "UInt64") return 0n;
  if (NUMERIC.has(t)) return 0;
  if (t === "DateTime") return "1970-01-01T00:00:00.000Z";
  if (t === "Guid") return "00000000-0000-0000-0000-000000000000";
  if (t === "NodeId" || t === "ExpandedNodeId") return "ns=0;i=0";
  if (t === "StatusCode") return "Good";
  return "";
}

/** A YAML value as the record-model value of a variable, or why it does not fit. */
export function checkValue(t: ScalarType, array: boolean, raw: unknown): { value: Value } | string {
  if (array) {
    if (!Array.isArray(raw)) return `must be a list (type ${t}[]), got ${show(raw)}`;
    const out: Value[] = [];
    for (const [i, e] of raw.entries()) {
      const c = checkValue(t, false, e);
      if (typeof c === "string") return `(element ${i}) ${c}`;
      out.push(c.value);
    }
    return { value: out };
  }
  if (Array.isArray(raw) || (raw !== null && typeof raw === "object")) {
    return `must be a single ${t}, got ${show(raw)}`;
  }
  let v = raw as Value;
  if (typeof v === "bigint" && t !== "Int64" && t !== "UInt64") v = Number(v);
  if (t === "Boolean" && typeof v !== "boolean") return `must be true or false, got ${show(raw)}`;
  if (!NUMERIC.has(t) && t !== "Boolean" && typeof v !== "string") {
    return `must be text (type ${t}), got ${show(raw)}`;
  }
  if (t === "StatusCode" && !/^(Good|Uncertain|Bad)[A-Za-z0-9]*$/.test(v as string)) {
    return `must be a status code name (Good, BadDeviceFailure...), got ${show(raw)}`;
  }
  if (
    (t === "NodeId" || t === "ExpandedNodeId") &&
    !/^(ns=\d+;|nsu=[^;]+;)?[isgb]=./.test(v as string)
  ) {
    return `must be a NodeId such as "ns=1;s=Pump" or "i=85", got ${show(raw)}`;
  }
  const c = elementForWrite(t, v);
  if (!c.ok) return `does not fit: ${c.why}`;
  if (t === "Int64" || t === "UInt64") return { value: BigInt(v as number | bigint | string) };
  if (NUMERIC.has(t)) return { value: Number(v) };
  if (t === "DateTime") return { value: (c.value as Date).toISOString() };
  if (t === "Guid" || t === "ByteString") return { value: (v as string).toLowerCase() };
  return {
    value: c.value instanceof Uint8Array ? v : (t === "LocalizedText" ? v : c.value as Value),
  };
}
