/**
 * @module
 * Loads a user function's source for its child process: the gateway reads the file and
 * the modules it imports, strips their types and turns their imports into `require()`
 * calls, and hands the code to the child, which evaluates it from memory (`child.ts`) with
 * no read permission at all. The same path runs from source and in the compiled binary,
 * which can neither `import()` a file absent at compile time (Deno issue 18327) nor
 * transpile TypeScript (issue 27945).
 *
 * The transform is sucrase (`typescript` + `imports`): small, pure JavaScript, no native
 * or wasm part, maintained, and it produces CommonJS, so the child needs only a tiny
 * `require()` of ours and no `import()`. It keeps line numbers, so stack traces point at
 * the user's lines. Its limits: it strips types without checking them (`bifrost check`
 * runs `deno check` for that), it does not support constructs that need type information
 * across files (`const enum` from another module), and, the modules being evaluated as
 * CommonJS, a top-level `await` is refused with a message saying so.
 *
 * What a module may import:
 * - a relative path (`./helper.ts`) to a file inside the flow repository, symbolic links
 *   resolved: nothing outside is read;
 * - `bifrost/functions`: the function API, types only;
 * - `node:` built-in modules.
 * Anything else (`https://…`, `npm:`, `jsr:`, a bare name) is refused with the file, line
 * and column of the import.
 */

import { dirname, extname, isAbsolute, relative, resolve, sep } from "node:path";
import { transform } from "sucrase";
import { BifrostError } from "../errors.ts";
import { API_SPECIFIER, type FunctionSource, type LoadedModule } from "./protocol.ts";

export type { FunctionSource, LoadedModule };

/** The most modules a function may load, and their total size in bytes. */
export const MAX_MODULES = 200;
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;

const EXTENSIONS = new Set([".ts", ".js", ".mts", ".mjs"]);
const REQUIRE = /\brequire\((['"])((?:\\.|(?!\1).)*)\1\)/g;

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

/** 1-based line and column of the first quoted `spec` in `text`, else 1:1. */
function positionOf(text: string, spec: string): { line: number; column: number } {
  let at = -1;
  for (const q of ['"', "'"]) {
    const i = text.indexOf(q + spec + q);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  if (at < 0) return { line: 1, column: 1 };
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Turns one module's TypeScript into CommonJS; a syntax error gets its position. */
export function transpile(text: string, file: string): string {
  try {
    return transform(text, {
      transforms: ["typescript", "imports"],
      filePath: file,
      disableESTransforms: true,
      preserveDynamicImport: false,
      // Like Deno: an import kept for its side effects, and refused when it is not allowed.
      keepUnusedImports: true,
    }).code;
  } catch (e) {
    // Sucrase's column (0-based) is the end of the unexpected token: as a 1-based column
    // it points at the token's last character, exact for the usual one-character token.
    const loc = (e as { loc?: { line: number; column: number } }).loc;
    const why = (e instanceof Error ? e.message : String(e))
      .replace(/^Error transforming [^:]*: /, "").replace(/ \(\d+:\d+\)$/, "");
    throw new BifrostError(
      "FUNCTION_FAILED",
      loc
        ? `${file}:${loc.line}:${loc.column}: syntax error: ${why}`
        : `${file}: syntax error: ${why}`,
      {
        details: { file },
        ...(loc ? { location: { file, line: loc.line, column: loc.column } } : {}),
      },
    );
  }
}

/**
 * Reads the function at `path` and every module it imports within `root` (the flow
 * repository), transpiled. Throws `FUNCTION_FAILED` with `file:line:column` for a syntax
 * error or an import that is refused; file names are shown relative to `root`.
 */
export async function loadFunctionSource(path: string, root: string): Promise<FunctionSource> {
  const realRoot = await Deno.realPath(root);
  const modules: Record<string, LoadedModule> = {};
  let bytes = 0;
  const fail = (file: string, text: string, spec: string, why: string): never => {
    const { line, column } = positionOf(text, spec);
    throw new BifrostError(
      "FUNCTION_FAILED",
      `${file}:${line}:${column}: cannot import "${spec}": ${why}`,
      { details: { file, specifier: spec }, location: { file, line, column } },
    );
  };
  const keyOf = async (abs: string): Promise<string | undefined> => {
    const real = await Deno.realPath(abs);
    return inside(realRoot, real) ? relative(realRoot, real).split(sep).join("/") : undefined;
  };
  let entry: string | undefined;
  try {
    entry = await keyOf(path);
  } catch (e) {
    throw new BifrostError("FUNCTION_FAILED", `Cannot read function file "${path}": ${e}`);
  }
  if (entry === undefined) {
    throw new BifrostError(
      "FUNCTION_FAILED",
      `Function file "${path}" is outside the flow repository ${realRoot}`,
    );
  }
  const queue = [entry];
  while (queue.length > 0) {
    const key = queue.shift()!;
    if (modules[key]) continue;
    if (Object.keys(modules).length >= MAX_MODULES) {
      throw new BifrostError(
        "FUNCTION_FAILED",
        `Cannot load function "${entry}": it imports more than ${MAX_MODULES} modules`,
      );
    }
    const abs = resolve(realRoot, key);
    const text = await Deno.readTextFile(abs);
    bytes += text.length;
    if (bytes > MAX_SOURCE_BYTES) {
      throw new BifrostError(
        "FUNCTION_FAILED",
        `Cannot load function "${entry}": its modules exceed ${MAX_SOURCE_BYTES} bytes`,
      );
    }
    const code = transpile(text, key);
    const deps: Record<string, string> = {};
    for (const m of code.matchAll(REQUIRE)) {
      const spec = m[2]!;
      if (deps[spec] !== undefined) continue;
      if (spec === API_SPECIFIER || spec.startsWith("node:")) {
        deps[spec] = spec;
        continue;
      }
      if (!spec.startsWith("./") && !spec.startsWith("../")) {
        const what = /^(https?|file|data|blob):/.test(spec)
          ? "remote and URL imports are not allowed"
          : /^(npm|jsr):/.test(spec)
          ? "npm: and jsr: packages are not allowed"
          : `only relative paths inside the flow repository, "${API_SPECIFIER}" and node: ` +
            "built-ins can be imported";
        fail(key, text, spec, `${what} in a function`);
      }
      if (!EXTENSIONS.has(extname(spec))) {
        fail(key, text, spec, "the path must end in .ts, .js, .mts or .mjs");
      }
      const target = resolve(dirname(abs), spec);
      let dep: string | undefined;
      try {
        dep = await keyOf(target);
      } catch {
        fail(key, text, spec, "no such file");
      }
      if (dep === undefined) fail(key, text, spec, "it is outside the flow repository");
      deps[spec] = dep!;
      queue.push(dep!);
    }
    modules[key] = { code, deps };
  }
  return { entry, modules };
}
