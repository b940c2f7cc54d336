/**
 * @module
 * `deno task compile`: builds the single binary `dist/bifrost-<target>` for each target,
 * with what it reads at run time embedded (`--include`: the function child, the SQLite
 * checkpoint worker, the schemas and the docs), then prints each binary's size and, for the
 * target this host runs, its start-up time (`bifrost version`, best of 5).
 *
 * Targets: x86_64 and aarch64 Linux are required (a failure fails the task); macOS and
 * Windows are built where they build and reported otherwise. `deno compile` downloads one
 * `denort` base binary per target; an air-gapped build host sets `DENORT_BIN` to a denort
 * it has, which serves one target only: with `DENORT_BIN` the default is this host's
 * target alone.
 *
 * Usage: `deno run -A scripts/compile.ts [--target T ...] [--out-dir dist]`
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** Targets that must build. */
export const REQUIRED_TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];
/** Targets built where they build. */
export const OPTIONAL_TARGETS = [
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/** Files and folders the binary reads at run time, relative to the root. */
export const INCLUDES = [
  "engine/functions/child.ts",
  "sinks/sqlite/checkpoint_worker.ts",
  "schemas",
  "docs",
  "simulators/opcua-demo.yaml",
  "simulators/opcua-plant.yaml",
];

/** The V8 flags baked into the binary (the same as `deno task bifrost`). */
export const V8_FLAGS = "--max-semi-space-size=1,--memory-saver-mode";

/** The `deno compile` arguments for one target. */
export function compileArgs(target: string, output: string): string[] {
  return [
    "compile",
    "-A",
    `--v8-flags=${V8_FLAGS}`,
    ...INCLUDES.flatMap((p) => ["--include", p]),
    "--target",
    target,
    "--output",
    output,
    "app/cli/main.ts",
  ];
}

/** The binary's file name for a target. */
export function binaryName(target: string): string {
  return `bifrost-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** Builds one target; returns deno's error output when it fails. */
export async function build(target: string, outDir: string): Promise<string | undefined> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, join(outDir, binaryName(target))),
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return out.success ? undefined : new TextDecoder().decode(out.stderr).trim();
}

/** The line of deno's output that says what failed (with its cause), for the summary. */
export function errorLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const i = lines.findIndex((l) => l.startsWith("error:"));
  if (i < 0) return lines[0] ?? "unknown error";
  const cause = lines[i + 1] === "Caused by:" ? lines[i + 2] : undefined;
  return cause && !/^\d+:/.test(cause) ? `${lines[i]} (${cause})` : lines[i]!;
}

/** The best of `n` start-up times of `bifrost version`, in ms. */
export async function startupMs(binary: string, n = 5): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await new Deno.Command(binary, { args: ["version"], stdout: "null" }).output();
    if (!r.success) throw new Error(`${binary} version exited with code ${r.code}`);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string", multiple: true },
      "out-dir": { type: "string", default: join(ROOT, "dist") },
    },
  });
  const host = Deno.build.target;
  const denort = Deno.env.get("DENORT_BIN");
  const targets = values.target ??
    (denort ? [host] : [...REQUIRED_TARGETS, ...OPTIONAL_TARGETS]);
  if (denort) console.log(`DENORT_BIN=${denort}: building ${targets.join(", ")}`);
  const outDir = values["out-dir"];
  await Deno.mkdir(outDir, { recursive: true });
  let failed = 0;
  for (const target of targets) {
    const err = await build(target, outDir);
    const path = join(outDir, binaryName(target));
    if (err !== undefined) {
      const required = REQUIRED_TARGETS.includes(target) || values.target !== undefined;
      if (required) failed++;
      console.log(`${required ? "FAILED" : "skipped"} ${target}: ${errorLine(err)}`);
      continue;
    }
    const mb = (await Deno.stat(path)).size / 1024 / 1024;
    const start = target === host ? `, starts in ${(await startupMs(path)).toFixed(0)} ms` : "";
    console.log(`built ${path}: ${mb.toFixed(1)} MB${start}`);
  }
  if (failed > 0 && !denort) {
    console.log(
      "hint: deno compile downloads a denort base binary per target; on a host without " +
        "internet, set DENORT_BIN to a denort of the target (see docs of deno compile)",
    );
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
