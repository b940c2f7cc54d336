/**
 * @module
 * `bifrost run --git URL --ref REF --path DIR --every 60s`: the entry `run` imports (lazily,
 * only with `--git`) to prepare the flow directory from git before the gateway starts.
 *
 * At start the gateway runs the last good revision if there is one (after a restart, with
 * or without network), and the loop then deploys a newer commit as a live reload. On the
 * very first start there is no good revision: the fetched commit is checked out, and `run`
 * validates it like any flow directory (an invalid one is a failed start, with its errors).
 *
 * See `deployer.ts` for a deploy cycle, `workspace.ts` for what lies on disk, `webhook.ts`
 * for `POST /hooks/deploy`.
 */

import { join } from "node:path";
import type { Clock } from "../../engine/clock.ts";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import type { Logger } from "../../engine/log.ts";
import { Deployer } from "./deployer.ts";
import { redactUrl } from "./git.ts";
import { CommitVerifier } from "./verify.ts";
import { Workspace } from "./workspace.ts";

export { Deployer, type DeployStatus } from "./deployer.ts";
export { deployHookApp } from "./webhook.ts";
export { deployMetrics } from "./metrics.ts";

/** The `--git` options of `run`. */
export interface GitRunOptions {
  url: string;
  ref: string;
  /** The flow directory inside the repository (`.` for its root). */
  path: string;
  everyMs: number;
  deployTimeoutMs: number;
  dataDir: string;
  verifyKeys?: string;
  log: Logger;
  clock: Clock;
  signal?: AbortSignal;
}

/** What `run` starts from. */
export interface PreparedGit {
  deployer: Deployer;
  /** The flow directory, through `current` (stable across revisions). */
  flowDir: string;
  /** The commit the gateway starts with. */
  commit: string;
  /** Whether the loop should fetch at once (the fetch at start failed or found a newer commit). */
  pending: boolean;
  /** Call once the gateway runs: records the commit as good (first start) and logs it. */
  started(at: number): Promise<void>;
}

/**
 * Opens the workspace, fetches, and points `current` at the revision to start with: the last
 * good one, or on a first start the fetched one. Throws `DEPLOY_FAILED` when there is none
 * (first start and the repository cannot be fetched, or its commit is not signed).
 */
export async function prepareGit(o: GitRunOptions): Promise<PreparedGit> {
  const ws = await Workspace.open({
    dataDir: o.dataDir,
    url: o.url,
    ref: o.ref,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const verifier = o.verifyKeys === undefined
    ? undefined
    : await CommitVerifier.create(o.verifyKeys, ws.root);
  const deployer = new Deployer({
    workspace: ws,
    url: o.url,
    ref: o.ref,
    path: o.path,
    everyMs: o.everyMs,
    deployTimeoutMs: o.deployTimeoutMs,
    log: o.log,
    clock: o.clock,
    dataDir: o.dataDir,
    ...(verifier ? { verifier } : {}),
  });
  const repository = redactUrl(o.url);
  let fetched: string | undefined;
  let fetchError: string | undefined;
  try {
    fetched = await ws.fetch();
    deployer.fetched(o.clock.now(), { commit: fetched });
  } catch (e) {
    fetchError = errorMessage(e);
    deployer.fetched(o.clock.now(), { error: fetchError });
  }
  const good = ws.state.good;
  let commit: string;
  let first = false;
  if (good !== undefined) {
    try {
      await ws.checkout(good);
    } catch (e) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot check out the last good revision ${good.slice(0, 12)}: ${errorMessage(e)}`,
      );
    }
    commit = good;
    if (fetchError) {
      o.log.warn(`${fetchError}: starting the last good revision`, { commit, repository });
    }
  } else {
    if (fetched === undefined) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `${fetchError}: no revision of ${repository} was ever deployed here, nothing to run`,
      );
    }
    commit = fetched;
    first = true;
    let signer: string | undefined;
    if (verifier) signer = await verifier.verify(ws.repo, commit);
    await ws.checkout(commit);
    if (signer) deployer.started(commit, o.clock.now(), signer);
  }
  await ws.checkPath(commit, o.path);
  await ws.link(commit);
  const flowDir = join(ws.current, o.path);
  return {
    deployer,
    flowDir,
    commit,
    pending: fetched !== commit,
    async started(at: number) {
      const signer = deployer.status().signer;
      deployer.started(commit, first ? at : ws.state.goodAt ?? at, signer);
      if (first) {
        try {
          await ws.markGood(commit, at);
        } catch (e) {
          o.log.error(errorMessage(e));
        }
      }
      await ws.prune([commit]);
      o.log.info("Running revision from git", {
        commit,
        ref: o.ref,
        repository,
        path: o.path,
        ...(first ? { first: true } : {}),
      });
    },
  };
}
