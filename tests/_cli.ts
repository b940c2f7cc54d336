/**
 * @module
 * Runs the `bifrost` command line as a user does (a subprocess from the repository root),
 * for the CLI tests.
 */

/** The CLI's entry point. */
export const MAIN: string = new URL("../app/cli/main.ts", import.meta.url).pathname;
/** The repository root. */
export const ROOT: string = new URL("../", import.meta.url).pathname;

/** What a run printed and returned. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** Runs `bifrost ...args`; resolves when it exits. */
export async function bifrost(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const started = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: r.code,
    out: d.decode(r.stdout),
    // Deno's own note when runs started together wait for one another's node_modules lock.
    err: d.decode(r.stderr).replace(/^.*Blocking.* waiting for file lock.*\n/gm, ""),
    ms: performance.now() - started,
  };
}
