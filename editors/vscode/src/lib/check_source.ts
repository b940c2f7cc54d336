/**
 * @module
 * Where `bifrost check` runs on save: over a connected gateway's API (`POST /api/v1/check`,
 * app/http/routes_check.ts), which checks with the drivers, environment and `deno` of the
 * gateway the flows are for, or the local command line when no gateway is connected (or the
 * one asked cannot check: unreachable, too old to have the route, busy). Also what is sent
 * (the flow directory's flow files and the function files their steps and triggers name,
 * keyed by their path relative to the flow directory) and how the answer maps back to the
 * files on disk. Pure: no `vscode` import, tested with Deno.
 */

import { isMap, isScalar, parseDocument } from "yaml";
import type { CheckIssue } from "./check.ts";

/** A gateway the extension knows, as the choice needs it. */
export interface CheckCandidate {
  name: string;
  /** `connected` once its API answered. */
  state: string;
}

/** The setting `bifrost.checkWith`: `auto`, `cli`, or a gateway's name. */
export type CheckWith = string;

/** Where to check: a gateway by name, or the command line (with the reason, for the log). */
export type CheckRoute = { kind: "gateway"; name: string } | {
  kind: "cli";
  why: string;
};

/**
 * Where to run the check. `auto`: the first connected gateway, else the command line; `cli`:
 * always the command line; a gateway's name: that gateway when it is connected, else the
 * command line.
 */
export function chooseCheckRoute(
  checkWith: CheckWith,
  gateways: CheckCandidate[],
): CheckRoute {
  if (checkWith === "cli") {
    return { kind: "cli", why: "bifrost.checkWith is cli" };
  }
  if (checkWith && checkWith !== "auto") {
    const g = gateways.find((x) => x.name === checkWith);
    if (!g) {
      return {
        kind: "cli",
        why: `no gateway named "${checkWith}" (bifrost.checkWith)`,
      };
    }
    if (g.state !== "connected") {
      return { kind: "cli", why: `gateway "${g.name}" is ${g.state}` };
    }
    return { kind: "gateway", name: g.name };
  }
  const g = gateways.find((x) => x.state === "connected");
  if (!g) {
    return {
      kind: "cli",
      why: gateways.length ? "no gateway connected" : "no gateway configured",
    };
  }
  return { kind: "gateway", name: g.name };
}

/**
 * Whether a failed gateway check should fall back to the command line: the gateway could not
 * be reached (status 0), has no check route (404, an older gateway), cannot take flows this
 * large (413, over its 1 MB body limit), is busy (503) or failed inside (5xx). A refusal of
 * the caller (400, 401, 403) is the user's to see: a token or a request to fix.
 */
export function fallsBackToCli(status: number): boolean {
  return status === 0 || status === 404 || status === 413 || status >= 500;
}

/** A function file named by a step or trigger: `file:` as written. */
export function functionFiles(yamlText: string): string[] {
  let doc;
  try {
    doc = parseDocument(yamlText);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const section of ["steps", "triggers"]) {
    const map = doc.get(section, true);
    if (!isMap(map)) continue;
    for (const pair of map.items) {
      if (!isMap(pair.value)) continue;
      const file = pair.value.get("file", true);
      if (
        isScalar(file) && typeof file.value === "string" && file.value.trim()
      ) {
        out.push(file.value.trim());
      }
    }
  }
  return out;
}

/** Splits a path on either separator. */
function parts(p: string): string[] {
  return p.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
}

/** Whether a path is absolute (POSIX, or a Windows drive or UNC path). */
function isAbsolutePath(p: string): boolean {
  return p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p);
}

/** Joins a directory and a relative path with the directory's separator, resolving `..`. */
export function joinPath(dir: string, rel: string): string {
  const sep = dir.includes("\\") && !dir.includes("/") ? "\\" : "/";
  const out = dir.split(/[\\/]/);
  if (out.length > 1 && out.at(-1) === "") out.pop();
  for (const p of parts(rel)) {
    if (p === "..") {
      if (out.length > 1) out.pop();
    } else out.push(p);
  }
  return out.join(sep) || sep;
}

/** The key a function file is sent under: relative to the flow directory, `/`-separated. */
export function functionKey(file: string): string | undefined {
  if (isAbsolutePath(file)) return undefined;
  const p = parts(file);
  let up = 0;
  while (p[up] === "..") up++;
  // Only what the gateway accepts: `..` at the start only, at most four.
  if (p.length === up || p.slice(up).includes("..") || up > 4) return undefined;
  return p.join("/");
}

/** What reads the flow directory (the editor's open documents first, then the disk). */
export interface CheckReader {
  /** Names of the files directly in the flow directory. */
  list(dir: string): Promise<string[]>;
  /** A file's text, undefined when it cannot be read. */
  read(path: string): Promise<string | undefined>;
}

/**
 * The body of `POST /check` for a flow directory: its flow files (`*.yaml`, `*.yml`, as
 * `bifrost check` reads them: not recursive) and every function file they name that exists.
 */
export async function collectCheckFiles(
  flowDir: string,
  reader: CheckReader,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const names = (await reader.list(flowDir)).filter((n) => /\.ya?ml$/i.test(n))
    .sort();
  for (const n of names) {
    const text = await reader.read(joinPath(flowDir, n));
    if (text !== undefined) files[n] = text;
  }
  for (const text of Object.values({ ...files })) {
    for (const f of functionFiles(text)) {
      const key = functionKey(f);
      if (key === undefined || key in files) continue;
      const code = await reader.read(joinPath(flowDir, key));
      // A missing file is the gateway's to report ("does not exist"), at the step's line.
      if (code !== undefined) files[key] = code;
    }
  }
  return files;
}

/** One issue of the gateway's answer (`file` is the key it was sent under). */
export interface GatewayIssue {
  file: string;
  line: number;
  column: number;
  path?: string;
  severity: "error" | "warning";
  message: string;
  suggestion?: string;
}

/** The gateway's answer to `POST /check`. */
export interface GatewayCheck {
  ok: boolean;
  errors: GatewayIssue[];
  warnings: GatewayIssue[];
}

/**
 * The issues of a gateway's check with the files on disk, as the command line reports them.
 * Throws on an answer of another shape.
 */
export function issuesFromGateway(
  flowDir: string,
  answer: unknown,
): CheckIssue[] {
  const a = answer as Partial<GatewayCheck> | undefined;
  if (!a || !Array.isArray(a.errors) || !Array.isArray(a.warnings)) {
    throw new Error(
      "The gateway's check answered without errors and warnings lists",
    );
  }
  return [...a.errors, ...a.warnings].map((i) => {
    const issue: CheckIssue = {
      file: joinPath(flowDir, i.file),
      line: i.line,
      column: i.column,
      message: i.message,
      severity: i.severity === "warning" ? "warning" : "error",
    };
    if (i.path !== undefined) issue.path = i.path;
    return issue;
  });
}
