/**
 * @module
 * `POST /check`: `bifrost check` of flow files sent in the body, as the gateway sees them (its
 * drivers, its environment for `${VAR}`, its `deno` for function type checks). The editor
 * extension calls it on save when it is connected to a gateway.
 *
 * The body is `{ files: { "<path>": "<text>" } }`, paths relative to the flow directory:
 * `boiler.yaml` for the flow files, `functions/scale.ts` or `../functions/scale.ts` for the
 * function files they name. The answer is `{ errors, warnings }` as `bifrost check --json`
 * gives them, each issue's `file` being the path as sent, plus the did-you-mean replacement
 * as `suggestion`.
 *
 * The files are written to a temporary directory (marked as a flow repository with
 * `.bifrost`, so that `../functions/` stays inside it), checked by `bifrost check --json` in a
 * child process, and removed whatever happens. A child process, as `run` does, because the
 * YAML parser and the schema compiler must not become resident in the long-running gateway;
 * at most {@linkcode MAX_CONCURRENT_CHECKS} run at once, and one that takes longer than
 * {@linkcode CHECK_TIMEOUT_MS} is killed.
 *
 * Scope `read` although function code may be sent: `check` loads a function only in the
 * function sandbox with no permissions at all (a child process without `--allow` flags, a
 * heap limit, 10 s), whatever the step's `permissions` say, so sent code reads no file,
 * variable or network of the gateway (a test says so); `${VAR}` references are substituted
 * from the gateway's environment and errors name the reference, never the value. What a
 * read token can make the gateway spend is CPU, bounded by the two concurrent checks.
 */

import { Type } from "@sinclair/typebox";
import { dirname, join } from "node:path";
import { selfCommand } from "../cli/_load.ts";
import type { Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import { parseBody, type RouteDef } from "./openapi.ts";

/** Files one check accepts (flow files and the function files they name). */
export const MAX_CHECK_FILES = 200;
/** Checks running at once; one more answers 503 `BUSY`. */
export const MAX_CONCURRENT_CHECKS = 2;
/** How long a check may take (function type checks run `deno check`), ms. */
export const CHECK_TIMEOUT_MS = 120_000;
/** How many `..` a function path may climb above the flow directory. */
const MAX_UP = 4;

const IssueJson = Type.Object({
  file: Type.String({ description: "The path as sent in `files`" }),
  line: Type.Integer({ minimum: 1 }),
  column: Type.Integer({ minimum: 1 }),
  path: Type.String({ description: "JSON pointer of the node, e.g. /devices/plc/host" }),
  severity: Type.Union([Type.Literal("error"), Type.Literal("warning")]),
  message: Type.String(),
  suggestion: Type.Optional(
    Type.String({ description: "The did-you-mean replacement of the word at line:column" }),
  ),
});

const CheckBody = Type.Object({
  files: Type.Record(Type.String(), Type.String(), {
    description: "Path relative to the flow directory → file text: the flow files " +
      "(*.yaml, *.yml) and the function files they name (e.g. ../functions/scale.ts)",
  }),
});

const checkDef: RouteDef = {
  method: "post",
  path: "/check",
  summary: "Check flow files as `bifrost check` does, with this gateway's drivers and environment",
  scope: "read",
  body: CheckBody,
  response: Type.Object({
    ok: Type.Boolean({ description: "No errors" }),
    errors: Type.Array(IssueJson),
    warnings: Type.Array(IssueJson),
  }),
  errors: [400, 503],
};

/** One issue as the route answers it. */
export interface CheckIssueJson {
  file: string;
  line: number;
  column: number;
  path: string;
  severity: "error" | "warning";
  message: string;
  suggestion?: string;
}

/**
 * The path of `key` under the flow directory, as a list of segments after its leading `..`;
 * throws a 400 naming the key when it is absolute, empty, climbs in the middle or too far.
 */
export function checkedPath(key: string): { up: number; segments: string[] } {
  const bad = (why: string) =>
    new ApiError(400, "BAD_REQUEST", `Invalid file path "${key}" in files: ${why}`, {
      field: `/files/${key}`,
    });
  if (key === "" || key.startsWith("/") || /^[A-Za-z]:/.test(key) || key.includes("\0")) {
    throw bad("give a path relative to the flow directory");
  }
  const parts = key.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  let up = 0;
  while (parts[up] === "..") up++;
  const segments = parts.slice(up);
  if (segments.length === 0) throw bad("it names no file");
  if (segments.includes("..")) throw bad("'..' only at its start");
  if (up > MAX_UP) throw bad(`at most ${MAX_UP} '..' above the flow directory`);
  if (up === 0 && segments.length === 1 && !/\.ya?ml$/i.test(segments[0]!)) {
    throw bad("a file in the flow directory itself must be a flow file (.yaml or .yml)");
  }
  return { up, segments };
}

/** The did-you-mean replacement in a message, if any. */
export function suggestionOf(message: string): string | undefined {
  return /\(did you mean "([^"]+)"\?\)/.exec(message)?.[1];
}

let running = 0;

async function check(files: Record<string, string>): Promise<Record<string, unknown>> {
  const keys = Object.keys(files);
  if (keys.length === 0) {
    throw new ApiError(400, "BAD_REQUEST", "No files: give at least one flow file", {
      field: "/files",
    });
  }
  if (keys.length > MAX_CHECK_FILES) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `Too many files: ${keys.length}, at most ${MAX_CHECK_FILES}`,
      { field: "/files" },
    );
  }
  const paths = keys.map((k) => ({ key: k, ...checkedPath(k) }));
  if (!paths.some((p) => p.up === 0 && p.segments.length === 1)) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      "No flow file: give at least one .yaml file at the top of the flow directory",
      { field: "/files" },
    );
  }
  if (running >= MAX_CONCURRENT_CHECKS) {
    throw new ApiError(
      503,
      "BUSY",
      `${running} checks are running: try again in a few seconds`,
      { headers: { "Retry-After": "2" } },
    );
  }
  running++;
  const tmp = await Deno.makeTempDir({ prefix: "bifrost-check-" });
  try {
    const depth = Math.max(...paths.map((p) => p.up));
    // The repository root holds the marker; the flow directory sits `depth` levels below it.
    const repo = join(tmp, "repo");
    const flowDir = join(repo, ...Array.from({ length: depth }, (_, i) => `d${i}`), "flows");
    await Deno.mkdir(flowDir, { recursive: true });
    await Deno.writeTextFile(join(repo, ".bifrost"), "");
    const byAbs = new Map<string, string>();
    for (const p of paths) {
      const base = join(flowDir, ...Array.from({ length: p.up }, () => ".."));
      const abs = join(base, ...p.segments);
      await Deno.mkdir(dirname(abs), { recursive: true });
      await Deno.writeTextFile(abs, files[p.key]!);
      byAbs.set(abs, p.key);
    }
    const [cmd, ...args] = selfCommand();
    const child = new Deno.Command(cmd!, {
      args: [...args, "check", flowDir, "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      cwd: tmp,
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, CHECK_TIMEOUT_MS);
    const out = await child.output().finally(() => clearTimeout(timer));
    const stdout = new TextDecoder().decode(out.stdout);
    let doc: { errors?: CheckIssueJson[]; warnings?: CheckIssueJson[] };
    try {
      doc = JSON.parse(stdout.slice(stdout.indexOf("{")));
    } catch {
      const why = out.signal === "SIGKILL"
        ? `it took longer than ${CHECK_TIMEOUT_MS / 1000} s`
        : new TextDecoder().decode(out.stderr).trim().slice(0, 500) || `exit code ${out.code}`;
      throw new ApiError(500, "INTERNAL", `The check did not complete: ${why}`);
    }
    // Temporary paths never reach the caller: each file as sent, the rest relative.
    const hide = (s: string) => s.split(flowDir + "/").join("").split(tmp).join("<check>");
    const map = (i: CheckIssueJson): CheckIssueJson => {
      const suggestion = suggestionOf(i.message);
      return {
        file: byAbs.get(i.file) ?? hide(i.file),
        line: i.line,
        column: i.column,
        path: i.path,
        severity: i.severity,
        message: hide(i.message),
        ...(suggestion !== undefined ? { suggestion } : {}),
      };
    };
    const errors = (doc.errors ?? []).map(map);
    return { ok: errors.length === 0, errors, warnings: (doc.warnings ?? []).map(map) };
  } finally {
    running--;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The check route. */
export const checkRoutes: Route[] = [{
  def: checkDef,
  async handle(c) {
    const { items } = await parseBody<{ files: Record<string, string> }>(c.req.raw, checkDef);
    return c.json(await check(items[0]!.files));
  },
}];
