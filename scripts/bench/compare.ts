/**
 * @module
 * Runs one benchmark on two revisions in the same session, alternating between them, and
 * prints the two outputs side by side: "figures unchanged within noise" is then read from
 * one run on one machine, never from two runs on two days.
 *
 * The base revision is checked out in a temporary git worktree (its npm packages come from
 * the local Deno cache, no registry needed); the current one is this working tree.
 *
 * ```sh
 * deno task bench:compare --base dfe9afb --bench modbus --rounds 2 -- --parts 1,2 --rounds 7
 * deno run -A scripts/bench/compare.ts --base HEAD~3 --bench functions
 * ```
 */

import { parseArgs } from "node:util";

const USAGE = "Usage: deno task bench:compare --base REV --bench NAME [--rounds N] [--width W] " +
  "[-- bench arguments]\n  NAME is a file of scripts/bench/ without .ts (modbus, functions…)";

const dash = Deno.args.indexOf("--");
const own = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
const passed = dash < 0 ? [] : Deno.args.slice(dash + 1);

function options() {
  return parseArgs({
    args: own,
    options: {
      base: { type: "string" },
      bench: { type: "string" },
      rounds: { type: "string", default: "1" },
      width: { type: "string", default: "78" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}
let args: ReturnType<typeof options>;
try {
  args = options();
} catch (e) {
  console.error(`${e instanceof Error ? e.message : e}\n${USAGE}`);
  Deno.exit(2);
}
const rounds = Number(args.rounds);
const width = Number(args.width);
if (!args.base || !args.bench || !/^[a-z0-9_]+$/.test(args.bench) || !(rounds >= 1)) {
  console.error(USAGE);
  Deno.exit(2);
}

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

async function sh(cmd: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), cwd }).output();
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed in ${cwd}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** Runs the bench in `dir`; returns its stdout lines. */
async function run(dir: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `scripts/bench/${args.bench}.ts`, ...passed],
    cwd: dir,
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  if (!out.success) lines.push(`(exit ${out.code})`);
  return lines;
}

function side(a: string[], b: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const l = (a[i] ?? "").slice(0, width).padEnd(width);
    out.push(`${l} | ${(b[i] ?? "").slice(0, width)}`);
  }
  return out.join("\n");
}

const baseRev = await sh(["git", "rev-parse", "--short", args.base], root);
const headRev = await sh(["git", "rev-parse", "--short", "HEAD"], root);
const tmp = await Deno.makeTempDir({ prefix: "bifrost-bench-base-" });
await sh(["git", "worktree", "add", "--detach", "-q", tmp, baseRev], root);
try {
  await sh([Deno.execPath(), "install", "--frozen"], tmp).catch(() =>
    sh([Deno.execPath(), "install"], tmp)
  );
  console.log(
    `bench ${args.bench} ${passed.join(" ")}: base ${baseRev} (left) vs ${headRev}` +
      `${(await sh(["git", "status", "--porcelain"], root)) ? " + uncommitted changes" : ""}` +
      ` (right), ${rounds} round(s), alternating`,
  );
  for (let r = 1; r <= rounds; r++) {
    // Alternate which side runs first so that a drift of the machine hits both.
    let a: string[], b: string[];
    if (r % 2 === 1) {
      a = await run(tmp);
      b = await run(root);
    } else {
      b = await run(root);
      a = await run(tmp);
    }
    console.log(`\n== round ${r}: ${"base " + baseRev}`.padEnd(width + 4) + `head ${headRev}`);
    console.log(side(a, b));
  }
} finally {
  await sh(["git", "worktree", "remove", "--force", tmp], root).catch(() => {});
}
