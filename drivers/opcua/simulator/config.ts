/**
 * @module
 * The simulator's address space as YAML (`simulators/opcua-demo.yaml` is the default): nested
 * folders of variables (every built-in scalar type and arrays, initial values, writable or
 * not, value generators, AnalogItems with an EURange, `repeat:` templates), methods, limit
 * alarms, security and users, and faults. {@linkcode parseSimConfig} checks it all and throws
 * one `CONFIG_INVALID` error listing every problem as `file:line:column error: message`.
 * NodeIds are `ns=1;s=<Folder>.<Sub>.<Name>`, the names from `objects:` down.
 *
 * @example
 * ```yaml
 * changeEvery: 1s
 * security: { users: [{ user: operator, password: secret }] }
 * objects:
 *   Plant:
 *     variables:
 *       Speed: { type: Double, value: 0, generator: { kind: sine, min: 0, max: 1500, period: 60s } }
 *       Level: { type: Double, value: 40, euRange: [0, 100], writable: true }
 *       "Sensor{i}": { type: Double, repeat: 100, value: "{i}", generator: counter }
 *     methods:
 *       Add: { kind: add }
 *     alarms:
 *       LevelHigh: { type: ExclusiveLimitAlarm, input: Plant.Level, high: 90, severity: 700 }
 * ```
 */

import { isMap, LineCounter, type Node, parseDocument } from "yaml";
import { BifrostError } from "../../../engine/plugin.ts";
import { formatSimIssue, type SimIssue, YamlReader } from "./_reader.ts";
import { readFolder } from "./_folder.ts";

export {
  ALARM_TYPES,
  METHOD_KINDS,
  SECURITY_MODES,
  SECURITY_POLICIES,
  SIM_GENERATORS,
  type SimAlarmDef,
  type SimConfig,
  type SimFolderDef,
  type SimGenerator,
  type SimGeneratorKind,
  type SimMethodDef,
  type SimVariableDef,
} from "./_defs.ts";
import {
  SECURITY_MODES,
  SECURITY_POLICIES,
  type SimConfig,
  type SimFolderDef,
  type SimVariableDef,
} from "./_defs.ts";

/** The default address space (the one today's tests, flows and benches use). */
export const DEMO_CONFIG_URL: URL = new URL("../../../simulators/opcua-demo.yaml", import.meta.url);

/** Reads and checks a config file. */
export async function loadSimConfig(path: string | URL): Promise<SimConfig> {
  const name = path instanceof URL ? displayPath(path) : path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new BifrostError("CONFIG_INVALID", `Cannot read ${name}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return parseSimConfig(text, name);
}

function displayPath(u: URL): string {
  const p = decodeURIComponent(u.pathname);
  const i = p.lastIndexOf("/simulators/");
  return i >= 0 ? p.slice(i + 1) : p;
}

const TOP_KEYS = ["changeEvery", "security", "faults", "objects"] as const;

/**
 * Parses and checks a config's text; throws a `CONFIG_INVALID` `BifrostError` listing every
 * problem (`file:line:column error: ...`), its `details.issues` the same as objects.
 */
export function parseSimConfig(text: string, file = "<config>"): SimConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, intAsBigInt: true, uniqueKeys: true });
  const r = new YamlReader(file, lines);
  // The first syntax error only: the parser's later ones follow from it.
  const syntax = doc.errors[0];
  if (syntax) {
    const p = lines.linePos(syntax.pos[0]);
    const message = syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    r.issues.push({ file, line: p.line, column: p.col, message: `YAML: ${message}` });
  }
  const config: SimConfig = {
    file,
    security: {
      modes: [...SECURITY_MODES],
      policies: [...SECURITY_POLICIES],
      anonymous: true,
      users: [],
      trustClients: true,
    },
    faults: { slowMs: 0, dropEveryMs: 0, restartEveryMs: 0 },
    objects: [],
  };
  if (r.issues.length === 0) {
    const root = doc.contents as Node | null;
    const top = r.map(root, "The config", TOP_KEYS) ?? [];
    if (root === null) r.fail(root, "The config is empty: it needs objects:");
    for (const [k, v] of top) {
      if (k === "changeEvery") config.changeEveryMs = r.duration(v, "changeEvery");
      else if (k === "security") readSecurity(r, v, config);
      else if (k === "faults") readFaults(r, v, config);
      else {
        for (const [name, node, pair] of r.map(v, "objects", null) ?? []) {
          const f = readFolder(r, node, name, [], pair.key as Node);
          if (f) config.objects.push(f);
        }
      }
    }
    if (isMap(root) && !top.some(([k]) => k === "objects")) {
      r.fail(root, "The config has no objects: (the folders under Objects)");
    }
    if (r.issues.length === 0) crossCheck(r, config);
  }
  throwIssues(r.issues);
  return config;
}

function throwIssues(issues: SimIssue[]): void {
  if (issues.length === 0) return;
  const first = issues[0]!;
  throw new BifrostError(
    "CONFIG_INVALID",
    `Invalid OPC UA simulator config (${issues.length} problem${
      issues.length === 1 ? "" : "s"
    }):\n${issues.map(formatSimIssue).join("\n")}`,
    {
      details: { issues },
      location: { file: first.file, line: first.line, column: first.column },
    },
  );
}

function readSecurity(r: YamlReader, node: Node | null, c: SimConfig): void {
  const keys = ["modes", "policies", "anonymous", "users", "trustClients"];
  for (const [k, v] of r.map(node, "security", keys) ?? []) {
    if (k === "modes" || k === "policies") {
      const choices = k === "modes" ? SECURITY_MODES : SECURITY_POLICIES;
      const got = (r.seq(v, `security.${k}`) ?? []).map((n) =>
        r.oneOf(n, `security.${k} item`, choices as readonly string[])
      );
      if (got.length === 0) r.fail(v, `security.${k} needs at least one of ${choices.join(", ")}`);
      if (k === "modes") c.security.modes = got.filter((x) => x) as SimConfig["security"]["modes"];
      else c.security.policies = got.filter((x) => x) as SimConfig["security"]["policies"];
    } else if (k === "anonymous" || k === "trustClients") {
      c.security[k] = r.bool(v, `security.${k}`) ?? true;
    } else {
      for (const item of r.seq(v, "security.users") ?? []) {
        const u: Record<string, string | undefined> = {};
        for (const [uk, uv] of r.map(item, "a user", ["user", "password"]) ?? []) {
          u[uk] = r.str(uv, `user.${uk}`);
        }
        if (u.user === undefined || u.password === undefined) {
          r.fail(item, "A user needs user: and password:");
        } else c.security.users.push({ user: u.user, password: u.password });
      }
    }
  }
}

function readFaults(r: YamlReader, node: Node | null, c: SimConfig): void {
  for (const [k, v] of r.map(node, "faults", ["slow", "dropEvery", "restartEvery"]) ?? []) {
    const ms = r.duration(v, `faults.${k}`) ?? 0;
    if (k === "slow") c.faults.slowMs = ms;
    else if (k === "dropEvery") c.faults.dropEveryMs = ms;
    else c.faults.restartEveryMs = ms;
  }
}

/** Every folder of the config, depth first. */
export function* allFolders(fs: SimFolderDef[]): Generator<SimFolderDef> {
  for (const f of fs) {
    yield f;
    yield* allFolders(f.folders);
  }
}

/** Ids unique; `set` methods and alarm inputs name variables that exist (and fit). */
function crossCheck(r: YamlReader, c: SimConfig): void {
  const vars = new Map<string, SimVariableDef>();
  const seen = new Map<string, string>();
  const claim = (id: string, at: string) => {
    const before = seen.get(id);
    if (before) r.issues.push(issueAt(at, `"${id}" is defined twice (first at ${before})`));
    else seen.set(id, at);
  };
  for (const f of allFolders(c.objects)) {
    for (const v of f.variables) {
      claim(v.id, v.at);
      vars.set(v.id, v);
    }
    for (const m of f.methods) claim(m.id, m.at);
    for (const a of f.alarms) claim(a.id, a.at);
  }
  const numeric = new Set([
    "SByte",
    "Byte",
    "Int16",
    "UInt16",
    "Int32",
    "UInt32",
    "Float",
    "Double",
  ]);
  for (const f of allFolders(c.objects)) {
    for (const m of f.methods) {
      if (m.kind !== "set") continue;
      const v = vars.get(m.variable!);
      if (!v || v.repeat !== undefined) {
        r.issues.push(issueAt(m.at, `Method "${m.id}" sets "${m.variable}": no such variable`));
      }
    }
    for (const a of f.alarms) {
      const v = vars.get(a.input);
      if (!v || v.repeat !== undefined) {
        r.issues.push(issueAt(a.at, `Alarm "${a.id}" watches "${a.input}": no such variable`));
      } else if (!numeric.has(v.type) || v.array) {
        r.issues.push(
          issueAt(
            a.at,
            `Alarm "${a.id}" watches "${a.input}" of type ${v.type}${
              v.array ? "[]" : ""
            }: a limit alarm needs a numeric scalar (Double, Float, Int32...)`,
          ),
        );
      }
    }
  }
}

function issueAt(at: string, message: string): SimIssue {
  const m = /^(.*):(\d+):(\d+)$/.exec(at)!;
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]), message };
}

/** The variables of a config, templates expanded; `repeat` of the first template overridden by `firstRepeat`. */
export function expandVariables(c: SimConfig, firstRepeat?: number): SimVariableDef[] {
  const out: SimVariableDef[] = [];
  let first = true;
  for (const f of allFolders(c.objects)) {
    for (const v of f.variables) {
      if (v.repeat === undefined) {
        out.push({ ...v });
        continue;
      }
      const n = first && firstRepeat !== undefined ? firstRepeat : v.repeat;
      first = false;
      // 100,000 of these at start-up: split once, build each with one fixed shape (no spread).
      const idParts = v.id.split("{i}");
      const text = typeof v.value === "string" && v.value !== "{i}"
        ? v.value.split("{i}")
        : undefined;
      const big = v.type === "Int64" || v.type === "UInt64";
      const textType = isText(v.type);
      for (let i = 0; i < n; i++) {
        const s = String(i);
        const value = v.value === "{i}"
          ? (big ? BigInt(i) : textType ? s : i)
          : text
          ? text.join(s)
          : v.value;
        const x: SimVariableDef = {
          id: idParts.join(s),
          type: v.type,
          array: v.array,
          value,
          writable: v.writable,
          at: v.at,
        };
        if (v.generator) x.generator = v.generator;
        if (v.euRange) x.euRange = v.euRange;
        if (v.units !== undefined) x.units = v.units;
        out.push(x);
      }
    }
  }
  return out;
}

/** True when the config has a `repeat:` template (what `--variables N` sets). */
export function hasTemplate(c: SimConfig): boolean {
  for (const f of allFolders(c.objects)) {
    if (f.variables.some((v) => v.repeat !== undefined)) return true;
  }
  return false;
}

function isText(t: string): boolean {
  return !["Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Float", "Double"]
    .includes(t);
}
