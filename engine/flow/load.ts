/**
 * @module
 * Loads a flow directory: every `*.yaml`/`*.yml` in it (not recursive, sorted), through three
 * layers that each report all their errors at once: YAML syntax, the JSON Schema of the
 * registered modules (after `${ENV}` substitution), then the cross-file semantics. The
 * registries are a parameter so that tests can bring small modules of their own.
 */

import { isAbsolute, join, resolve } from "node:path";
import type { TagConfig } from "../driver.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import { createRedactor, type Redactor } from "../redact.ts";
import { parseDuration } from "./duration.ts";
import { type PermissionsConfig, resolvePermissions } from "./permissions.ts";
import { FlowTag, isRecord } from "./tag.ts";
import type { FlowEnv } from "./env.ts";
import { type ConfigIssue, formatIssue, issueAt, positionOf } from "./positions.ts";
import { fileIssue, FlowFileCache } from "./load_file.ts";
import type { SchemaSources } from "./schema.ts";
import { checkSemantics, type Entity, uniqueEntities } from "./semantic.ts";
import type {
  DeviceEntry,
  FlowSet,
  Origin,
  PollConfig,
  SinkConfig,
  StepConfig,
  TriggerConfig,
} from "./types.ts";

/** Options of {@linkcode loadFlowsWith}. */
export interface LoadOptions {
  /** Variables for `${NAME}` substitution (default: none). */
  env?: FlowEnv;
  /** Run the steps' `validate()` hooks (function files exist and type-check). Default true. */
  checkFunctions?: boolean;
  /**
   * Type-check function files (needs a `deno` executable). Default true. `bifrost run`
   * turns it off: type errors are for `bifrost check` (in the flow repository's CI); at
   * start-up a function must exist, load and export a default function.
   */
  typeCheck?: boolean;
  /**
   * Keeps each file's parse and schema result between loads of the same directory (a hot
   * reload re-parses only the files that changed; the cross-file checks always rerun).
   */
  cache?: FlowFileCache;
}

/** What loading a flow directory gives. */
export interface LoadResult {
  /** Present only when there are no errors. */
  flows?: FlowSet;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** Values substituted from secret variables (see `env.ts`), for the logger to redact. */
  secrets: string[];
}

function originOf(e: Entity): Origin {
  return { file: e.src.file, ...positionOf(e.src, [e.kind, e.name], "key") };
}

function without(data: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([k]) => !keys.includes(k)));
}

function toDevice(e: Entity): DeviceEntry {
  const tags = new Map<string, TagConfig>();
  for (const [name, cfg] of Object.entries(isRecord(e.data.tags) ? e.data.tags : {})) {
    tags.set(name, new FlowTag(name, isRecord(cfg) ? cfg : {}));
  }
  const device: DeviceEntry = {
    name: e.name,
    driver: String(e.data.driver),
    config: without(e.data, ["driver", "description", "required", "tags", "simulator"]),
    tags,
    origin: originOf(e),
  };
  if (isRecord(e.data.simulator)) device.simulator = e.data.simulator;
  if (e.data.required === true) device.required = true;
  return device;
}

function toPoll(e: Entity): PollConfig {
  const d = e.data;
  const poll: PollConfig = {
    name: e.name,
    device: String(d.device),
    tags: d.tags === "*" ? "*" : (d.tags as string[]),
    origin: originOf(e),
  };
  if (typeof d.every === "string") poll.everyMs = parseDuration(d.every);
  if (typeof d.cron === "string") poll.cron = d.cron;
  if (isRecord(d.subscribe)) poll.subscribe = d.subscribe;
  return poll;
}

function toTrigger(e: Entity, dir: string): TriggerConfig {
  const d = e.data;
  const http = isRecord(d.http) ? d.http : {};
  const file = String(d.function);
  const memory = typeof d.memory === "string" ? d.memory : "128MB";
  const t: TriggerConfig = {
    name: e.name,
    method: isRecord(d.http) ? (typeof http.method === "string" ? http.method : "POST") : "",
    path: typeof http.path === "string" ? http.path : "",
    file: isAbsolute(file) ? file : resolve(dir, file),
    timeoutMs: parseDuration(typeof d.timeout === "string" ? d.timeout : "2s"),
    memoryMb: parseInt(memory, 10) * (memory.endsWith("GB") ? 1024 : 1),
    params: isRecord(d.with) ? d.with : {},
    permissions: resolvePermissions(
      isRecord(d.permissions) ? d.permissions as PermissionsConfig : undefined,
      dir,
    ),
    origin: originOf(e),
  };
  if (isRecord(d.body)) t.body = d.body;
  if (typeof d.cron === "string") t.cron = d.cron;
  return t;
}

function toUse(e: Entity): StepConfig & SinkConfig {
  const from = e.data.from;
  return {
    name: e.name,
    use: String(e.data.use),
    from: typeof from === "string" ? [from] : (from as string[]),
    config: without(e.data, ["use", "from", "description"]),
    origin: originOf(e),
  };
}

/**
 * Asks each device's driver for the value kind of each of its tags: a driver that cannot tell
 * is an error at the tag. The kind is not kept (see `FlowTag`); `kindOf` asks again.
 */
function checkKinds(
  unique: ReadonlyMap<string, Entity>,
  devices: ReadonlyMap<string, DeviceEntry>,
  sources: SchemaSources,
  errors: ConfigIssue[],
): void {
  for (const d of devices.values()) {
    const module = sources.drivers.find((m) => m.name === d.driver);
    if (!module) continue;
    for (const tag of d.tags.values()) {
      try {
        module.valueKind(tag);
      } catch (err) {
        errors.push(issueAt(
          unique.get(d.name)!.src,
          ["devices", d.name, "tags", tag.name],
          `cannot tell the value kind of tag "${tag.name}": ${errorMessage(err)}`,
          { anchor: "key" },
        ));
      }
    }
  }
}

async function listFlowFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /\.ya?ml$/i.test(entry.name)) names.push(entry.name);
  }
  return names.sort();
}

function scrub(issue: ConfigIssue, redactor: Redactor): ConfigIssue {
  const message = redactor.text(issue.message);
  return message === issue.message ? issue : { ...issue, message };
}

function byPosition(files: readonly string[]) {
  const index = new Map(files.map((f, i) => [f, i]));
  const of = (f: string) => index.get(f) ?? -1;
  return (a: ConfigIssue, b: ConfigIssue) =>
    of(a.file) - of(b.file) || a.line - b.line || a.column - b.column;
}

/** Longest message an issue may carry: a safety net against quoting a whole file. */
const MAX_MESSAGE = 2000;

function capped(i: ConfigIssue): ConfigIssue {
  if (i.message.length <= MAX_MESSAGE) return i;
  return { ...i, message: `${i.message.slice(0, MAX_MESSAGE)}… (message cut)` };
}

/** Loads and checks every flow file of `dir` against the modules of `sources`. */
export async function loadFlowsWith(
  dir: string,
  sources: SchemaSources,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const secrets = new Set<string>();
  const dirIssue = (message: string, severity: "error" | "warning" = "error"): LoadResult => {
    const issue = fileIssue(dir, message, undefined, 0, severity);
    const r: LoadResult = { errors: [], warnings: [], secrets: [] };
    (severity === "error" ? r.errors : r.warnings).push(issue);
    if (severity === "warning") {
      const none = new Map();
      r.flows = { dir, files: [], devices: none, polls: none, steps: none, sinks: none };
    }
    return r;
  };
  let names: string[];
  try {
    names = await listFlowFiles(dir);
  } catch (err) {
    return dirIssue(`cannot read flow directory "${dir}": ${errorMessage(err)}`);
  }
  if (names.length === 0) {
    return dirIssue("the flow directory is empty: no *.yaml or *.yml files", "warning");
  }

  const files = names.map((n) => join(dir, n));
  const entities: Entity[] = [];
  const cache = options.cache ?? new FlowFileCache();
  const results = await Promise.all(
    files.map((file) => cache.load(file, sources, options.env ?? {})),
  );
  cache.keepOnly(files);
  for (const r of results) {
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    r.secrets.forEach((x) => secrets.add(x));
    entities.push(...r.entities);
  }

  const { unique, issues } = uniqueEntities(entities);
  errors.push(...issues);
  const valid = [...unique.values()].filter((e) => e.valid);
  const devices = new Map(
    valid.filter((e) => e.kind === "devices").map((e) => [e.name, toDevice(e)]),
  );
  const polls = new Map(valid.filter((e) => e.kind === "polls").map((e) => [e.name, toPoll(e)]));
  const steps = new Map(valid.filter((e) => e.kind === "steps").map((e) => [e.name, toUse(e)]));
  const sinks = new Map(valid.filter((e) => e.kind === "sinks").map((e) => [e.name, toUse(e)]));
  const triggers = new Map(
    valid.filter((e) => e.kind === "triggers").map((e) => [e.name, toTrigger(e, dir)]),
  );
  for (
    const i of await checkSemantics({
      unique,
      devices,
      polls,
      steps,
      sinks,
      triggers,
      sources,
      flowDir: dir,
      checkFunctions: options.checkFunctions ?? true,
      typeCheck: options.typeCheck ?? true,
    })
  ) (i.severity === "error" ? errors : warnings).push(i);

  if (errors.length === 0) checkKinds(unique, devices, sources, errors);
  const secretList = [...secrets];
  const redactor = createRedactor(secretList);
  const order = byPosition(files);
  const result: LoadResult = {
    errors: errors.map((i) => capped(scrub(i, redactor))).sort(order),
    warnings: warnings.map((i) => capped(scrub(i, redactor))).sort(order),
    secrets: secretList,
  };
  if (result.errors.length === 0) {
    result.flows = { dir, files, devices, polls, steps, sinks, triggers };
  }
  return result;
}

/**
 * The `CONFIG_INVALID` error of a failed load: the message lists every error, formatted;
 * `details.issues` holds them; `location` is the first.
 */
export function configError(dir: string, errors: readonly ConfigIssue[]): BifrostError {
  const first = errors[0];
  const n = errors.length;
  return new BifrostError(
    "CONFIG_INVALID",
    `Cannot load flows from "${dir}": ${n} error${n === 1 ? "" : "s"}\n${
      errors.map(formatIssue).join("\n")
    }`,
    {
      details: { issues: errors },
      ...(first
        ? {
          location: { file: first.file, line: first.line, column: first.column, path: first.path },
        }
        : {}),
    },
  );
}
