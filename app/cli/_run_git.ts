/**
 * @module
 * The `--git` options of `bifrost run`, checked, and the start of a run from git: the hook
 * secret read, the deploy modules loaded (`import()`, only with `--git`: a gateway that runs
 * a directory never loads them), the repository prepared (`app/deploy/mod.ts`).
 */

import type { Hono } from "hono";
import { systemClock } from "../../engine/clock.ts";
import { errorMessage } from "../../engine/errors.ts";
import type { Logger } from "../../engine/log.ts";
import type { PreparedGit } from "../deploy/mod.ts";
import type { Exposition } from "../http/_exposition.ts";
import type { MountPart } from "../http/api.ts";
import { durationOption, UsageError } from "./_args.ts";

/** `--git` and its companions, checked; undefined without `--git`. */
export function parseGitOptions(
  values: Record<string, string | boolean | string[] | undefined>,
  positionals: string[],
): GitOptions | undefined {
  const url = values.git as string | undefined;
  const companions = ["ref", "path", "every", "deploy-timeout", "verify-keys", "hook-secret-file"];
  if (url === undefined) {
    const stray = companions.find((k) => values[k] !== undefined);
    if (stray) throw new UsageError(`Cannot use --${stray} without --git URL`);
    return undefined;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `Cannot use a flow directory ("${positionals[0]}") with --git: ` +
        "the flows come from --path inside the repository",
    );
  }
  if (url.trim() === "" || url.startsWith("-")) {
    throw new UsageError(`Cannot use --git "${url}": expected a repository URL or path`);
  }
  const path = (values.path as string | undefined) ?? ".";
  if (path.startsWith("/") || path.split("/").includes("..")) {
    throw new UsageError(
      `Cannot use --path "${path}": expected a directory inside the repository (no leading /, no ..)`,
    );
  }
  const ref = (values.ref as string | undefined) ?? "main";
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(ref) || ref.includes("..")) {
    throw new UsageError(`Cannot use --ref "${ref}": expected a branch or tag name`);
  }
  const everyMs = durationOption("every", (values.every as string | undefined) ?? "60s");
  // A git server is not a PLC: no sub-100 ms polling of it (tests use a few hundred ms).
  if (everyMs < 100) {
    throw new UsageError(`Cannot use --every "${values.every}": at least 100ms (60s is usual)`);
  }
  return {
    url,
    ref,
    path,
    everyMs,
    deployTimeoutMs: durationOption(
      "deploy-timeout",
      (values["deploy-timeout"] as string | undefined) ?? "30s",
    ),
    ...(values["verify-keys"] === undefined ? {} : { verifyKeys: values["verify-keys"] as string }),
    ...(values["hook-secret-file"] === undefined
      ? {}
      : { hookSecretFile: values["hook-secret-file"] as string }),
  };
}

/** The `--git` options. */
export interface GitOptions {
  url: string;
  ref: string;
  path: string;
  everyMs: number;
  deployTimeoutMs: number;
  verifyKeys?: string;
  hookSecretFile?: string;
}

/** A run from git, prepared. */
export interface GitRun {
  prepared: PreparedGit;
  /** The webhook and the deploy metrics, for the HTTP parts. */
  http: { metrics: (x: Exposition) => void; mount: MountPart[] };
  where: Record<string, string>;
}

/** Loads the deploy modules, reads the hook secret and prepares the flows from git. */
export async function prepareGitRun(
  g: GitOptions,
  dataDir: string,
  log: Logger,
  signal: AbortSignal,
): Promise<GitRun | undefined> {
  const m = await import("../deploy/mod.ts");
  let secret: string | undefined;
  if (g.hookSecretFile !== undefined) {
    try {
      secret = (await Deno.readTextFile(g.hookSecretFile)).trim();
    } catch (e) {
      log.error(`Cannot read --hook-secret-file "${g.hookSecretFile}": ${errorMessage(e)}`);
      return undefined;
    }
    if (secret.length < 16) {
      log.error(
        `Cannot use --hook-secret-file "${g.hookSecretFile}": the secret must be at least 16 characters`,
      );
      return undefined;
    }
  }
  let prepared: PreparedGit;
  try {
    prepared = await m.prepareGit({
      url: g.url,
      ref: g.ref,
      path: g.path,
      everyMs: g.everyMs,
      deployTimeoutMs: g.deployTimeoutMs,
      dataDir,
      log,
      clock: systemClock,
      signal,
      ...(g.verifyKeys === undefined ? {} : { verifyKeys: g.verifyKeys }),
    });
  } catch (e) {
    log.error(errorMessage(e));
    return undefined;
  }
  const hooks = { accepted: 0, ignored: 0, unauthorized: 0, rateLimited: 0 };
  const hook = m.deployHookApp({
    ...(secret === undefined ? {} : { secret }),
    ref: g.ref,
    trigger: () => prepared.deployer.trigger(),
    clock: systemClock,
    log,
    counters: hooks,
  });
  return {
    prepared,
    http: { metrics: m.deployMetrics(prepared.deployer, hooks), mount: [hook as unknown as Hono] },
    where: { commit: prepared.commit, dir: prepared.flowDir },
  };
}
