/**
 * @module
 * Checks of a `function` step's config beyond its schema: the file lies inside the flow
 * repository, exists, type-checks (with `deno check`, when a `deno` executable is at hand)
 * and loads in a process with a default export function.
 *
 * The flow repository is the git work tree that holds the flow directory (the nearest
 * ancestor with a `.git` entry: the demo keeps `functions/` beside `flows/`) or the nearest
 * ancestor `bifrost init` made one (a `.bifrost` entry), or the flow directory itself. Paths are compared after resolving symbolic
 * links, so a link cannot lead out. A file outside is refused before it is opened: nothing of
 * its content (`/etc/passwd`) can reach a message.
 */

import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import {
  createFunctionHost,
  errorMessage,
  loadFunctionSource,
  nullLogger,
  type StepIssue,
  systemClock,
  writeApiFiles,
} from "../../engine/plugin.ts";
import type { FunctionConfig } from "./spec.ts";

/** The absolute path of a path written relative to the flow directory. */
export function flowPath(flowDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(flowDir, path);
}

/** The flow repository of `flowDir` (see the module comment), and what to call it. */
export async function flowRepository(
  flowDir: string,
): Promise<{ root: string; what: string }> {
  const dir = await Deno.realPath(flowDir);
  for (let d = dir;; d = dirname(d)) {
    try {
      await Deno.lstat(join(d, ".git"));
      return { root: d, what: "the flow repository (the git work tree of the flow directory)" };
    } catch {
      // Not a work tree root: look further up.
    }
    try {
      await Deno.lstat(join(d, ".bifrost"));
      return { root: d, what: "the flow repository (made by bifrost init)" };
    } catch {
      // Not one made by `bifrost init`.
    }
    if (dirname(d) === d) return { root: dir, what: "the flow directory" };
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

/** Diagnostic lines quoted from `deno check`. */
const MAX_LINES = 6;

/** The semantic checks of a function step. */
export async function validateFunction(
  config: FunctionConfig,
  ctx: { flowDir: string; file: string; typeCheck?: boolean },
): Promise<StepIssue[]> {
  const path = flowPath(ctx.flowDir, config.file);
  let repo: { root: string; what: string };
  try {
    repo = await flowRepository(ctx.flowDir);
  } catch (e) {
    return [{ message: `Cannot find the flow directory: ${errorMessage(e)}`, path: ["file"] }];
  }
  const outside = () => [{
    message:
      `Function file "${config.file}" is outside ${repo.what}: function files must be kept in it`,
    path: ["file"],
  }];
  // Lexically first (a path that names no file), then with symbolic links resolved.
  let real: string | undefined;
  try {
    real = await Deno.realPath(path);
  } catch {
    real = undefined;
  }
  if (!inside(repo.root, real ?? resolve(await Deno.realPath(ctx.flowDir), config.file))) {
    return outside();
  }
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
  try {
    // Syntax errors and refused imports, with their file:line:column.
    await loadFunctionSource(path, repo.root);
  } catch (e) {
    return [{ message: errorMessage(e), path: ["file"] }];
  }
  const diag = ctx.typeCheck === false ? undefined : await typeCheck(path, repo.root);
  if (diag) {
    return [{
      message: `Function file "${config.file}" does not type-check: ${diag}`,
      path: ["file"],
    }];
  }
  const host = await createFunctionHost({
    step: "validate",
    path,
    root: repo.root,
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

/** The nearest `deno.json(c)` from the file's folder up to the repository root, if any. */
async function configOf(path: string, root: string): Promise<string | undefined> {
  for (let d = dirname(path); inside(root, d); d = dirname(d)) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      try {
        if ((await Deno.stat(join(d, name))).isFile) return join(d, name);
      } catch {
        // Not here.
      }
    }
    if (d === root || dirname(d) === d) break;
  }
  return undefined;
}

/**
 * Runs `deno check` on a file; returns its first diagnostic lines, or undefined when clean
 * or when no `deno` is at hand ({@linkcode typeCheckAvailable}). A repository without a
 * `deno.json` (`bifrost init` writes one) is checked with a temporary one that maps
 * `bifrost/functions` to the API types the gateway carries.
 */
async function typeCheck(path: string, root: string): Promise<string | undefined> {
  const deno = denoExecutable();
  if (!deno) return undefined;
  let tmp: string | undefined;
  const args = ["check", "--quiet"];
  const config = await configOf(path, await Deno.realPath(root));
  if (!config) {
    tmp = await Deno.makeTempDir({ prefix: "bifrost-check-" });
    const api = await writeApiFiles(tmp);
    await Deno.writeTextFile(
      join(tmp, "deno.json"),
      JSON.stringify({ imports: { "bifrost/functions": api } }),
    );
    args.push(`--config=${join(tmp, "deno.json")}`, "--no-lock");
  }
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(deno, {
      args: [...args, path],
      // Deno finds the configuration from its working directory.
      cwd: config ? dirname(config) : root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    return undefined; // Cannot run subprocesses here: skip the check.
  } finally {
    if (tmp) await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  // deno-lint-ignore no-control-regex -- strips ANSI colour codes
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !/^Warning|^\s*at file:\/\/.*deno\.json/.test(l));
  return lines.slice(0, MAX_LINES).join("\n") || `deno check exited with code ${out.code}`;
}

/** Whether `bifrost check` can type-check functions: a `deno` executable is at hand. */
export function typeCheckAvailable(): boolean {
  return denoExecutable() !== undefined;
}

/** A path as the user reads it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel.startsWith("..") ? path : rel;
}
