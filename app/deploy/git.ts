/**
 * @module
 * The system `git`, run with `Deno.Command`: no library, so that what the gateway does is
 * what an operator can repeat by hand in the data directory, and SSH keys, credential
 * helpers and proxies configured for git work unchanged.
 *
 * Every call has a time limit (a hung TCP connection to a remote must not stall deploys
 * forever), runs with `GIT_TERMINAL_PROMPT=0` (a credential prompt fails at once instead of
 * waiting on a terminal nobody watches) and `LC_ALL=C` (stable messages). Failures throw a
 * `DEPLOY_FAILED` error with git's own message, the repository URL's password removed.
 */

import { BifrostError } from "../../engine/errors.ts";

/** Default time limit of one git command, ms. */
export const GIT_TIMEOUT_MS = 120_000;

/** A URL with its user information (`user:token@`) replaced by `***@`, for logs and status. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1***@");
}

/** The secret parts of a URL (user information), to strip from git's messages. */
function urlSecrets(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(url);
  if (!m) return [];
  const info = m[1]!;
  return [info, ...info.split(":").slice(1)].filter((s) => s.length > 0);
}

/** Options of {@linkcode git}. */
export interface GitOptions {
  /** The repository (`--git-dir`) or work tree to run in. */
  cwd: string;
  /** Time limit, ms (default {@linkcode GIT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Extra environment (GNUPGHOME for `verify-commit`). */
  env?: Record<string, string>;
  /** URLs whose user information must not appear in an error. */
  urls?: string[];
  /** Aborts the command (the gateway stops). */
  signal?: AbortSignal;
}

/** What a git command printed. */
export interface GitResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs `git args…`; resolves with its output, or throws `DEPLOY_FAILED` with `what` and
 * git's last lines of stderr.
 */
export async function git(what: string, args: string[], o: GitOptions): Promise<GitResult> {
  const timeout = AbortSignal.timeout(o.timeoutMs ?? GIT_TIMEOUT_MS);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("git", {
      args,
      cwd: o.cwd,
      env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_ASKPASS: "", ...o.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "the git executable is not installed (install git, e.g. apt-get install git)"
      : String(e);
    throw new BifrostError("DEPLOY_FAILED", `Cannot ${what}: ${why}`, { cause: e });
  }
  const d = new TextDecoder();
  const res = { stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
  if (out.success) return res;
  let why = res.stderr.trim().split("\n").map((l) => l.trim()).filter((l) => l !== "")
    .slice(-4).join("; ");
  if (timeout.aborted) {
    why = `git did not finish within ${(o.timeoutMs ?? GIT_TIMEOUT_MS) / 1000} s`;
  } else if (o.signal?.aborted) why = "stopped";
  else if (why === "") why = `git exited with code ${out.code}`;
  for (const url of o.urls ?? []) {
    why = why.replaceAll(url, redactUrl(url));
    for (const s of urlSecrets(url)) why = why.replaceAll(s, "***");
  }
  throw new BifrostError("DEPLOY_FAILED", `Cannot ${what}: ${why}`, {
    details: { args: args[0], code: out.code },
  });
}
