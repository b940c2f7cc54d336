/**
 * @module
 * Checks of the `triggers:` section beyond its schema: no two triggers answer the same
 * method and path (`:name` segments match anything, so `/a/:id` and `/a/:n` clash), none lies
 * under a path the gateway serves itself, each body schema compiles, and each function file
 * passes the `function` step's checks (inside the flow repository, exists, type-checks,
 * exports a default function): the step module's own `validate()`, so the rule is one. A
 * cron trigger's schedule must parse.
 */

import { Ajv2020 } from "ajv/dist/2020.js";
import { Cron } from "croner";
import { errorMessage } from "../errors.ts";
import { type ConfigIssue, issueAt, positionOf, type YamlSource } from "./positions.ts";
import type { SchemaSources } from "./schema.ts";
import type { TriggerConfig } from "./types.ts";

/** What the trigger checks read of the semantic layer's input (`semantic.ts`). */
export interface TriggerCheckInput {
  unique: ReadonlyMap<string, { src: YamlSource; data: Record<string, unknown> }>;
  triggers: ReadonlyMap<string, TriggerConfig>;
  sources: SchemaSources;
  flowDir: string;
  checkFunctions: boolean;
  typeCheck?: boolean;
}

/** Paths the gateway serves itself: a trigger may not be at or under them. */
export const RESERVED_PATHS = [
  "/api/v1",
  "/metrics",
  "/healthz",
  "/readyz",
  "/ws",
  "/dashboard",
  "/hooks/deploy",
] as const;

/** The shape a path matches: parameters become `:`, so two shapes that are equal clash. */
export function pathShape(path: string): string {
  return path.split("/").map((s) => s.startsWith(":") ? ":" : s).join("/");
}

/** The reserved path `path` is at or under, if any. */
export function reservedPrefix(path: string): string | undefined {
  return RESERVED_PATHS.find((r) => path === r || path.startsWith(r + "/"));
}

/**
 * Whether a trigger `method path` would also answer the deploy webhook (`POST
 * /hooks/deploy`): a `:name` segment matches any one segment, so `POST /hooks/:name` does.
 */
export function answersDeployHook(method: string, path: string): boolean {
  const p = path.split("/");
  const r = ["", "hooks", "deploy"];
  return method === "POST" && p.length === r.length &&
    r.every((s, i) => p[i] === s || p[i]!.startsWith(":"));
}

/** Compiles a body schema; throws ajv's error when it does not compile. */
export function compileBodySchema(schema: Record<string, unknown>) {
  return new Ajv2020({ allErrors: true, strict: false }).compile(schema);
}

/** Adds the issues of every trigger to `out`. */
export async function checkTriggers(inp: TriggerCheckInput, out: ConfigIssue[]): Promise<void> {
  const seen = new Map<string, TriggerConfig>();
  for (const t of inp.triggers.values()) {
    const src = inp.unique.get(t.name)!.src;
    if (t.cron !== undefined) {
      const fields = t.cron.trim().split(/\s+/).length;
      let why: string | undefined = fields === 6
        ? undefined
        : `expected 6 fields (second minute hour day month weekday), got ${fields}`;
      try {
        if (why === undefined) new Cron(t.cron, { paused: true }).stop();
      } catch (e) {
        why = errorMessage(e);
      }
      if (why !== undefined) {
        out.push(issueAt(
          src,
          ["triggers", t.name, "cron"],
          `invalid cron "${t.cron}" of trigger "${t.name}": ${why}`,
        ));
      }
      continue;
    }
    const at = ["triggers", t.name, "http", "path"];
    const reserved = reservedPrefix(t.path);
    if (reserved !== undefined) {
      out.push(issueAt(
        src,
        at,
        `trigger "${t.name}" path "${t.path}" ${
          reserved === t.path ? "is" : "lies under"
        } ${reserved}, which the gateway serves itself (reserved: ${RESERVED_PATHS.join(", ")})`,
      ));
    }
    if (reserved === undefined && answersDeployHook(t.method, t.path)) {
      out.push(issueAt(
        src,
        at,
        `trigger "${t.name}" POST "${t.path}" would also answer POST /hooks/deploy, the deploy ` +
          "webhook of `run --git`: use a fixed segment there",
      ));
    }
    const key = `${t.method} ${pathShape(t.path)}`;
    const first = seen.get(key);
    if (first) {
      const fsrc = inp.unique.get(first.name)!.src;
      const pos = positionOf(fsrc, ["triggers", first.name, "http", "path"]);
      out.push(issueAt(
        src,
        at,
        `trigger "${t.name}" ${t.method} "${t.path}" clashes with trigger "${first.name}" ${first.method} "${first.path}" at ${fsrc.file}:${pos.line}:${pos.column}`,
      ));
    } else seen.set(key, t);
    if (t.body) {
      try {
        compileBodySchema(t.body);
      } catch (e) {
        out.push(issueAt(
          src,
          ["triggers", t.name, "body"],
          `the body schema of trigger "${t.name}" does not compile: ${errorMessage(e)}`,
          { anchor: "key" },
        ));
      }
    }
  }
  if (!inp.checkFunctions) return;
  const fn = inp.sources.steps.find((m) => m.name === "function");
  if (!fn?.validate) return;
  const jobs = [...inp.triggers.values()].map(async (t) => {
    const e = inp.unique.get(t.name)!;
    try {
      const issues = await fn.validate!(
        { file: String(e.data.function), with: t.params },
        { flowDir: inp.flowDir, file: e.src.file, typeCheck: inp.typeCheck ?? true },
      );
      return issues.map((i) =>
        issueAt(
          e.src,
          ["triggers", t.name, ...(i.path[0] === "file" ? ["function"] : i.path)],
          i.message,
        )
      );
    } catch (err) {
      return [
        issueAt(
          e.src,
          ["triggers", t.name],
          `checking trigger "${t.name}" failed: ${errorMessage(err)}`,
          { anchor: "key" },
        ),
      ];
    }
  });
  for (const issues of await Promise.all(jobs)) out.push(...issues);
}
