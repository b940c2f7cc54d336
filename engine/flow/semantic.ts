/**
 * @module
 * Layer 3 of flow loading: checks across all files once every file has passed the schema.
 * Names are global across devices, polls, steps and sinks; references (`device:`, `tags:`,
 * `from:`) must resolve; the step graph must be acyclic; intervals must be sustainable; and
 * each driver and step adds its own checks (`validate()`), located in the source.
 */

import { Cron } from "croner";
import type { DriverIssue, DriverModule } from "../driver.ts";
import type { StepModule } from "../step.ts";
import { errorMessage } from "../errors.ts";
import {
  type ConfigIssue,
  type DocPath,
  issueAt,
  issueInString,
  positionOf,
  type YamlSource,
} from "./positions.ts";
import type { SchemaSources } from "./schema.ts";
import { suggestion } from "./suggest.ts";
import { isRecord } from "./tag.ts";
import { validatePart } from "./validate.ts";
import { checkTriggers } from "./triggers.ts";
import type { DeviceEntry, PollConfig, SinkConfig, StepConfig, TriggerConfig } from "./types.ts";

/** The sections that declare named entities, in the order they are checked. */
export const KINDS = ["devices", "polls", "steps", "sinks", "triggers"] as const;
/** One of {@linkcode KINDS}. */
export type Kind = typeof KINDS[number];

const SINGULAR: Record<Kind, string> = {
  devices: "device",
  polls: "poll",
  steps: "step",
  sinks: "sink",
  triggers: "trigger",
};

/** A named entity as declared in one file. */
export interface Entity {
  kind: Kind;
  name: string;
  src: YamlSource;
  /** The entity's value after substitution and defaults. */
  data: Record<string, unknown>;
  /** False when the entity has schema or syntax errors: it is then only used for its name. */
  valid: boolean;
}

/** The shortest poll interval any flow may ask for. */
export const MIN_INTERVAL_MS = 10;

/** Keeps the first entity of each name and reports every later one, naming both places. */
export function uniqueEntities(entities: readonly Entity[]): {
  unique: Map<string, Entity>;
  issues: ConfigIssue[];
} {
  const unique = new Map<string, Entity>();
  const issues: ConfigIssue[] = [];
  for (const e of entities) {
    const first = unique.get(e.name);
    if (!first) {
      unique.set(e.name, e);
      continue;
    }
    const pos = positionOf(first.src, [first.kind, first.name], "key");
    issues.push(issueAt(
      e.src,
      [e.kind, e.name],
      `duplicate name "${e.name}": ${SINGULAR[e.kind]} here, ${
        SINGULAR[first.kind]
      } at ${first.src.file}:${pos.line}:${pos.column} (names are shared by devices, polls, steps and sinks)`,
      { anchor: "key" },
    ));
  }
  return { unique, issues };
}

/** The resolved, valid entities of a flow set, and every name declared. */
export interface SemanticInput {
  unique: ReadonlyMap<string, Entity>;
  devices: ReadonlyMap<string, DeviceEntry>;
  polls: ReadonlyMap<string, PollConfig>;
  steps: ReadonlyMap<string, StepConfig>;
  sinks: ReadonlyMap<string, SinkConfig>;
  triggers: ReadonlyMap<string, TriggerConfig>;
  sources: SchemaSources;
  flowDir: string;
  /** Runs the steps' `validate()` (function files: exist, type-check). */
  checkFunctions: boolean;
  /** Type-check function files too (see LoadOptions.typeCheck). */
  typeCheck?: boolean;
}

function namesOf(unique: ReadonlyMap<string, Entity>, kinds: readonly Kind[]): string[] {
  return [...unique.values()].filter((e) => kinds.includes(e.kind)).map((e) => e.name);
}

function checkPoll(p: PollConfig, inp: SemanticInput, out: ConfigIssue[]): void {
  const e = inp.unique.get(p.name)!;
  const at = (path: DocPath, msg: string) =>
    out.push(issueAt(e.src, ["polls", p.name, ...path], msg));
  const target = inp.unique.get(p.device);
  if (!target || target.kind !== "devices") {
    const what = target ? ` ("${p.device}" is a ${SINGULAR[target.kind]})` : "";
    at(
      ["device"],
      `unknown device "${p.device}" in poll "${p.name}"${what}${
        suggestion(p.device, namesOf(inp.unique, ["devices"]))
      }`,
    );
  }
  if (p.everyMs !== undefined && p.everyMs < MIN_INTERVAL_MS) {
    at(["every"], `"every" must be at least ${MIN_INTERVAL_MS}ms, got "${e.data.every}"`);
  }
  if (p.cron !== undefined) {
    const fields = p.cron.trim().split(/\s+/).length;
    if (fields !== 6) {
      at(
        ["cron"],
        `invalid cron "${p.cron}": expected 6 fields (second minute hour day month weekday), got ${fields}`,
      );
    } else {
      try {
        new Cron(p.cron, { paused: true }).stop();
      } catch (err) {
        at(["cron"], `invalid cron "${p.cron}": ${errorMessage(err)}`);
      }
    }
  }
  const device = inp.devices.get(p.device);
  if (!device) {
    // A device with schema errors still has tag names: check the poll's against them, so
    // that every problem is reported in one run.
    const names = target?.kind === "devices" && isRecord(target.data.tags)
      ? new Set(Object.keys(target.data.tags))
      : undefined;
    if (names && p.tags !== "*") {
      p.tags.forEach((t, i) => {
        if (typeof t !== "string" || names.has(t)) return;
        at(["tags", i], `unknown tag "${t}" on device "${p.device}"${suggestion(t, names)}`);
      });
    }
    return;
  }
  const tags = p.tags === "*" ? [...device.tags.values()] : [];
  let allKnown = true;
  if (p.tags !== "*") {
    p.tags.forEach((t, i) => {
      const tag = device.tags.get(t);
      if (tag) return void tags.push(tag);
      allKnown = false;
      at(
        ["tags", i],
        `unknown tag "${t}" on device "${device.name}"${suggestion(t, device.tags.keys())}`,
      );
    });
  }
  const driver = inp.sources.drivers.find((d) => d.name === device.driver);
  if (p.subscribe !== undefined && driver) checkSubscribe(p, device, driver, inp, e, out);
  if (
    !allKnown || p.everyMs === undefined || p.everyMs < MIN_INTERVAL_MS || !driver?.minIntervalMs
  ) return;
  let min: number;
  try {
    const deviceData = inp.unique.get(device.name)!.data;
    min = memo(intervals, deviceData, e.data, () => driver.minIntervalMs!(device, tags));
  } catch (err) {
    return void at(
      ["every"],
      `cannot work out the shortest interval of device "${device.name}": ${errorMessage(err)}`,
    );
  }
  if (p.everyMs < min) {
    at(
      ["every"],
      `device "${device.name}" cannot sustain polling ${tags.length} tag${
        tags.length === 1 ? "" : "s"
      } every ${e.data.every}: it needs at least ${Math.ceil(min)}ms`,
    );
  }
}

/** A `subscribe:` poll needs a driver that can push, and options its spec accepts. */
function checkSubscribe(
  p: PollConfig,
  device: DeviceEntry,
  driver: DriverModule,
  inp: SemanticInput,
  e: Entity,
  out: ConfigIssue[],
): void {
  if (!driver.subscribeSpec) {
    const pushers = inp.sources.drivers.filter((d) => d.subscribeSpec).map((d) => `"${d.name}"`);
    out.push(issueAt(
      e.src,
      ["polls", p.name, "subscribe"],
      `poll "${p.name}" cannot subscribe: driver "${driver.name}" of device "${device.name}" does not push values; poll it with "every" or "cron"${
        pushers.length > 0
          ? ` (drivers that can subscribe: ${pushers.join(", ")})`
          : " (no registered driver can subscribe)"
      }`,
      { anchor: "key" },
    ));
    return;
  }
  out.push(
    ...validatePart(e.src, ["polls", p.name, "subscribe"], p.subscribe, driver.subscribeSpec),
  );
}

function fromEntries(e: Entity): { name: string; path: DocPath }[] {
  const f = e.data.from;
  if (typeof f === "string") return [{ name: f, path: [e.kind, e.name, "from"] }];
  if (!Array.isArray(f)) return [];
  return f.flatMap((n, i) =>
    typeof n === "string" ? [{ name: n, path: [e.kind, e.name, "from", i] }] : []
  );
}

function checkFrom(inp: SemanticInput, out: ConfigIssue[], used: Set<string>): void {
  const sourceNames = namesOf(inp.unique, ["polls", "triggers", "steps", "devices"]);
  for (const e of inp.unique.values()) {
    if (e.kind !== "steps" && e.kind !== "sinks") continue;
    for (const { name, path } of fromEntries(e)) {
      const t = inp.unique.get(name);
      const who = `${SINGULAR[e.kind]} "${e.name}"`;
      if (!t) {
        out.push(
          issueAt(
            e.src,
            path,
            `unknown source "${name}" in "from" of ${who}${suggestion(name, sourceNames)}`,
          ),
        );
      } else if (t.kind === "sinks") {
        out.push(
          issueAt(e.src, path, `${who} cannot read from sink "${name}": sinks have no output`),
        );
      } else if (t.kind === "polls") {
        used.add(name);
      } else if (t.kind === "devices") {
        const polls = [...inp.polls.values()].filter((p) => p.device === name);
        polls.forEach((p) => used.add(p.name));
        if (polls.length === 0 && t.valid) {
          out.push(
            issueAt(e.src, path, `device "${name}" has no polls, so ${who} gets nothing from it`, {
              severity: "warning",
            }),
          );
        }
      }
    }
  }
}

function checkCycles(inp: SemanticInput, out: ConfigIssue[]): void {
  const steps = [...inp.unique.values()].filter((e) => e.kind === "steps");
  const feeds = new Map<string, string[]>();
  for (const s of steps) {
    for (const { name } of fromEntries(s)) {
      if (inp.unique.get(name)?.kind === "steps") {
        feeds.set(name, [...(feeds.get(name) ?? []), s.name]);
      }
    }
  }
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, "open");
    stack.push(n);
    for (const next of feeds.get(n) ?? []) {
      if (state.get(next) === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const e = inp.unique.get(next)!;
        const from = fromEntries(e).find((f) => f.name === cycle.at(-2));
        out.push(
          issueAt(e.src, from?.path ?? ["steps", next], `cycle in steps: ${cycle.join(" -> ")}`),
        );
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const s of steps) if (!state.has(s.name)) visit(s.name);
}

function checkDrivers(inp: SemanticInput, out: ConfigIssue[]): void {
  for (const d of inp.devices.values()) {
    const driver: DriverModule | undefined = inp.sources.drivers.find((m) => m.name === d.driver);
    const { src, data } = inp.unique.get(d.name)!;
    if (!driver?.validate) continue;
    try {
      for (const i of memo(driverIssues, data, driver, () => driver.validate!(d))) {
        out.push(
          issueAt(src, ["devices", d.name, ...i.path], i.message, {
            severity: i.severity ?? "error",
          }),
        );
      }
    } catch (err) {
      out.push(
        issueAt(
          src,
          ["devices", d.name],
          `checking device "${d.name}" failed: ${errorMessage(err)}`,
          { anchor: "key" },
        ),
      );
    }
  }
}

async function checkSteps(inp: SemanticInput, out: ConfigIssue[]): Promise<void> {
  const jobs = [...inp.steps.values()].map(async (s) => {
    const mod: StepModule | undefined = inp.sources.steps.find((m) => m.name === s.use);
    const src = inp.unique.get(s.name)!.src;
    if (!mod?.validate) return [];
    try {
      const issues = await mod.validate(s.config, {
        flowDir: inp.flowDir,
        file: src.file,
        typeCheck: inp.typeCheck ?? true,
      });
      return issues.map((i) =>
        i.offset === undefined
          ? issueAt(src, ["steps", s.name, ...i.path], i.message)
          : issueInString(src, ["steps", s.name, ...i.path], i.offset, i.message)
      );
    } catch (err) {
      return [
        issueAt(src, ["steps", s.name], `checking step "${s.name}" failed: ${errorMessage(err)}`, {
          anchor: "key",
        }),
      ];
    }
  });
  for (const issues of await Promise.all(jobs)) out.push(...issues);
}

/** `timeout`, `connectTimeout`, … : time limits, which must be more than zero. */
const TIME_LIMIT = /^timeout$|Timeout$/;

function zeroDuration(v: unknown): boolean {
  if (typeof v === "number") return v === 0;
  return typeof v === "string" && /^0+(\.0+)?(ms|s|m|h|d)$/.test(v.trim());
}

/** Zero time limits in the config of a valid device, step or sink: every request would fail. */
function checkTimeLimits(inp: SemanticInput, out: ConfigIssue[]): void {
  const walk = (e: Entity, node: unknown, path: (string | number)[]): void => {
    if (!isRecord(node)) return;
    for (const [k, v] of Object.entries(node)) {
      // Tags are the driver's; `with` and `simulator` hold values of the user's own meaning.
      // A trigger's `body` is a JSON Schema of the user's.
      if (
        path.length === 0 && (k === "tags" || k === "with" || k === "simulator" || k === "body")
      ) continue;
      if (TIME_LIMIT.test(k) && zeroDuration(v)) {
        out.push(issueAt(
          e.src,
          [e.kind, e.name, ...path, k],
          `"${k}" of ${SINGULAR[e.kind]} "${e.name}" must be more than 0, got ${
            JSON.stringify(v)
          }: a zero time limit fails every request`,
        ));
      } else walk(e, v, [...path, k]);
    }
  };
  for (const e of inp.unique.values()) {
    if (e.valid && e.kind !== "polls") walk(e, e.data, []);
  }
}

/*
 * A hot reload reuses the entities of unchanged files (engine/flow/load_file.ts): the same
 * `data` objects come back, so what a driver says about a device (every tag's address
 * parsed again) is kept per object and not worked out twice. A fresh load has fresh objects
 * and these maps then only hold what it computed, for as long as its entities live.
 */
const driverIssues = new WeakMap<object, WeakMap<object, Memo<DriverIssue[]>>>();
const intervals = new WeakMap<object, WeakMap<object, Memo<number>>>();

type Memo<T> = { value: T } | { error: unknown };

function memo<T>(
  cache: WeakMap<object, WeakMap<object, Memo<T>>>,
  a: object,
  b: object,
  compute: () => T,
): T {
  let inner = cache.get(a);
  if (!inner) cache.set(a, inner = new WeakMap());
  let m = inner.get(b);
  if (!m) {
    try {
      m = { value: compute() };
    } catch (error) {
      m = { error };
    }
    inner.set(b, m);
  }
  if ("error" in m) throw m.error;
  return m.value;
}

/** Runs every cross-file check. */
export async function checkSemantics(inp: SemanticInput): Promise<ConfigIssue[]> {
  const out: ConfigIssue[] = [];
  for (const p of inp.polls.values()) checkPoll(p, inp, out);
  const used = new Set<string>();
  checkFrom(inp, out, used);
  checkCycles(inp, out);
  for (const p of inp.polls.values()) {
    if (used.has(p.name)) continue;
    const e = inp.unique.get(p.name)!;
    out.push(issueAt(e.src, ["polls", p.name], `poll "${p.name}" is not read by any step or sink`, {
      anchor: "key",
      severity: "warning",
    }));
  }
  checkTimeLimits(inp, out);
  checkDrivers(inp, out);
  if (inp.checkFunctions) await checkSteps(inp, out);
  await checkTriggers(inp, out);
  return out;
}
