/**
 * @module
 * Checks of a `function` step's config beyond its schema: the file exists, type-checks
 * (with `deno check`, when a `deno` executable is at hand) and loads in a process with a
 * default export function.
 */

import { basename, delimiter, isAbsolute, join, relative, resolve } from "node:path";
import { errorMessage } from "../../engine/errors.ts";
import { FunctionHost } from "../../engine/functions/host.ts";
import { nullLogger } from "../../engine/log.ts";
import { systemClock } from "../../engine/clock.ts";
import type { StepIssue } from "../../engine/step.ts";
import type { FunctionConfig } from "./mod.ts";

/** The absolute path of a path written relative to the flow directory. */
export function flowPath(flowDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(flowDir, path);
}

/** Diagnostic lines quoted from `deno check`. */
const MAX_LINES = 6;

/** The semantic checks of a function step. */
export async function validateFunction(
  config: FunctionConfig,
  ctx: { flowDir: string; file: string; typeCheck?: boolean },
): Promise<StepIssue[]> {
  const path = flowPath(ctx.flowDir, config.file);
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) {
      return [{
        message: `Function file "${config.file}" is not a file (${shown(path)})`,
        path: ["file"],
      }];
    }
  } catch {
    return [{
      message: `Function file "${config.file}" does not exist (looked for ${shown(path)})`,
      path: ["file"],
    }];
  }
  const diag = ctx.typeCheck === false ? undefined : await typeCheck(path, ctx.flowDir);
  if (diag) {
    return [{
      message: `Function file "${config.file}" does not type-check: ${diag}`,
      path: ["file"],
    }];
  }
  const host = new FunctionHost({
    step: "validate",
    path,
    params: config.with ?? {},
    permissions: {},
    timeoutMs: 10_000,
    log: nullLogger,
    clock: systemClock,
    countError: () => {},
  });
  try {
    await host.start();
    return [];
  } catch (e) {
    return [{ message: errorMessage(e), path: ["file"] }];
  } finally {
    await host.close();
  }
}

/** A `deno` executable: this one when running under deno, else one on PATH. */
export function denoExecutable(): string | undefined {
  try {
    const self = Deno.execPath();
    if (/^deno(\.exe)?$/.test(basename(self))) return self;
  } catch {
    // No permission to know: look on PATH.
  }
  try {
    for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
      const p = join(dir, "deno");
      try {
        if (Deno.statSync(p).isFile) return p;
      } catch {
        // Not here.
      }
    }
  } catch {
    // No env permission.
  }
  return undefined;
}

/** Runs `deno check` on a file; returns its first diagnostic lines, or undefined when clean. */
async function typeCheck(path: string, cwd: string): Promise<string | undefined> {
  const deno = denoExecutable();
  if (!deno) return undefined;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(deno, {
      args: ["check", "--quiet", path],
      cwd,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return undefined; // Cannot run subprocesses here: skip the check.
  }
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  // deno-lint-ignore no-control-regex -- strips ANSI colour codes
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !/^Warning|^\s*at file:\/\/.*deno\.json/.test(l));
  return lines.slice(0, MAX_LINES).join("\n") || `deno check exited with code ${out.code}`;
}

/** A path as the user reads it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}
