/**
 * @module
 * Git deployment: the {@linkcode Deployer} fetches the deployed ref every interval (or when
 * the webhook asks), and applies a new commit as a hot reload through the supervisor, the
 * same path as an edit of a watched directory:
 *
 * 1. fetch (an unreachable repository, an unknown ref or a full disk is logged, counted and
 *    in the status; the running revision carries on);
 * 2. with `--verify-keys`, the commit's signature (`verify.ts`);
 * 3. check it out into a work tree of its own and point `current` at it;
 * 4. validate and apply (the supervisor: every `file:line:column` error is logged, and kept
 *    in the deploy status relative to the repository); a rejected revision leaves the
 *    running flows untouched and `current` is pointed back at the last good commit;
 * 5. wait up to `--deploy-timeout` for the revision's `required: true` devices to connect;
 *    if one does not (or the revision applied only in part), roll back: point `current`
 *    at the last good commit and apply it again;
 * 6. record the commit as the last good one (`state.json`), and remove older work trees.
 *
 * A commit that was refused is not tried again until the ref moves. Cycles never overlap:
 * a webhook during a cycle asks for one more after it.
 */

import type { Clock } from "../../engine/clock.ts";
import { errorMessage } from "../../engine/errors.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import type { Logger } from "../../engine/log.ts";
import { sameValue } from "../../engine/runtime/reload.ts";
import type { ReloadStatus } from "../supervisor.ts";
import { redactUrl } from "./git.ts";
import type { CommitVerifier } from "./verify.ts";
import type { Workspace } from "./workspace.ts";

/** What became of one revision. */
export type DeployResult = "applied" | "unchanged" | "rejected" | "rolled-back";

/** The deploy state, for `GET /api/v1/deploy`, `bifrost status` and the metrics. */
export interface DeployStatus {
  repository: string;
  ref: string;
  path: string;
  everyMs: number;
  /** The commit running now. */
  commit?: string;
  /** When it was applied (ms since the epoch). */
  appliedAt?: number;
  /** The key that signed it (with `--verify-keys`). */
  signer?: string;
  lastFetch?: { at: number; ok: boolean; commit?: string; error?: string };
  lastAttempt?: { commit: string; at: number; result: DeployResult; errors: string[] };
  counters: DeployCounters;
}

/** Deploy counters, for metrics. */
export interface DeployCounters {
  fetches: number;
  fetchErrors: number;
  applied: number;
  rejected: number;
  rolledBack: number;
}

/** The running gateway, as the deployer sees it. */
export interface DeployGateway {
  readonly flows: FlowSet;
  readonly devices: ReadonlyMap<string, { health(): { state: string; lastError?: string } }>;
}

/** The supervisor, as the deployer drives it (`app/supervisor.ts`). */
export interface DeploySupervisor {
  reload(reason: string, force?: boolean): Promise<ReloadStatus>;
  status(): ReloadStatus;
}

/** Options of a {@linkcode Deployer}. */
export interface DeployerOptions {
  workspace: Workspace;
  url: string;
  ref: string;
  path: string;
  everyMs: number;
  /** How long `required` devices of a new revision have to connect. */
  deployTimeoutMs: number;
  verifier?: CommitVerifier;
  log: Logger;
  clock: Clock;
  /** Where the data directory is, to show flow paths relative to the repository. */
  dataDir: string;
}

/** Fetches and applies revisions of the flow repository (see the module comment). */
export class Deployer {
  readonly counters: DeployCounters = {
    fetches: 0,
    fetchErrors: 0,
    applied: 0,
    rejected: 0,
    rolledBack: 0,
  };
  #o: DeployerOptions;
  #status: DeployStatus;
  #refused: string | undefined;
  #stop = new AbortController();
  #running: Promise<unknown> | undefined;
  #again = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #gateway: DeployGateway | undefined;
  #supervisor: DeploySupervisor | undefined;

  constructor(o: DeployerOptions) {
    this.#o = o;
    this.#status = {
      repository: redactUrl(o.url),
      ref: o.ref,
      path: o.path,
      everyMs: o.everyMs,
      counters: this.counters,
    };
  }

  /** The deploy state (a copy). */
  status(): DeployStatus {
    return structuredClone({ ...this.#status, counters: this.counters });
  }

  /** Notes the revision the gateway started with. */
  started(commit: string, at: number, signer?: string): void {
    this.#status.commit = commit;
    this.#status.appliedAt = at;
    if (signer) this.#status.signer = signer;
  }

  /** Notes a fetch done before the gateway started (`prepare`). */
  fetched(at: number, result: { commit: string } | { error: string }): void {
    this.counters.fetches++;
    if ("error" in result) {
      this.counters.fetchErrors++;
      this.#status.lastFetch = { at, ok: false, error: result.error };
    } else this.#status.lastFetch = { at, ok: true, commit: result.commit };
  }

  /**
   * Starts the loop: a cycle now (with `now`; otherwise after one interval), then every
   * interval and on {@linkcode trigger}.
   */
  start(gateway: DeployGateway, supervisor: DeploySupervisor, now = true): void {
    this.#gateway = gateway;
    this.#supervisor = supervisor;
    this.#loop = this.#run(now);
  }

  /** Asks for a cycle now (the webhook); one more runs after a cycle in progress. */
  trigger(): void {
    this.#again = true;
    this.#wake?.();
  }

  /** Stops the loop and waits for a cycle in progress. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(now: boolean): Promise<void> {
    const signal = this.#stop.signal;
    if (!now) await this.#pause();
    while (!signal.aborted) {
      this.#again = false;
      this.#running = this.cycle().catch((e) => {
        this.#o.log.error("Deploy cycle failed", { error: errorMessage(e) });
      });
      await this.#running;
      if (signal.aborted || this.#again) continue;
      await this.#pause();
    }
  }

  /** Waits one interval, or until {@linkcode trigger} or {@linkcode close}. */
  async #pause(): Promise<void> {
    if (this.#again) return;
    const woken = new Promise<void>((r) => this.#wake = r);
    await Promise.race([
      woken,
      this.#o.clock.sleep(this.#o.everyMs, this.#stop.signal).catch(() => {}),
    ]);
    this.#wake = undefined;
  }

  /** One fetch, and the deployment of a new commit if there is one. */
  async cycle(): Promise<DeployResult | undefined> {
    const { workspace: ws, log, clock } = this.#o;
    const at = clock.now();
    let commit: string;
    try {
      commit = await ws.fetch();
      this.fetched(at, { commit });
    } catch (e) {
      const error = errorMessage(e);
      const first = this.#status.lastFetch?.ok !== false;
      this.fetched(at, { error });
      // One line when fetching starts failing, then debug until it works again.
      (first ? log.warn : log.debug)(
        `${error}: the running revision ${short(this.#status.commit)} carries on`,
      );
      return undefined;
    }
    if (commit === this.#status.commit) return "unchanged";
    if (commit === this.#refused) return undefined;
    if (this.#stop.signal.aborted) return undefined;
    return await this.#deploy(commit);
  }

  async #deploy(commit: string): Promise<DeployResult> {
    const { workspace: ws, log, clock } = this.#o;
    const supervisor = this.#supervisor!;
    const gateway = this.#gateway!;
    const good = this.#status.commit;
    const at = clock.now();
    log.info("New revision in the flow repository", {
      commit,
      ref: this.#o.ref,
      running: good,
    });
    let signer: string | undefined;
    try {
      if (this.#o.verifier) signer = await this.#o.verifier.verify(ws.repo, commit);
      await ws.checkout(commit);
      await ws.checkPath(commit, this.#o.path);
      await ws.link(commit);
    } catch (e) {
      if (good) await ws.link(good).catch(() => {});
      await ws.prune(good ? [good] : []);
      return this.#refuse(commit, at, "rejected", [errorMessage(e)]);
    }
    const before = supervisor.status();
    const connected = new Set(
      [...gateway.devices].filter(([, d]) => d.health().state === "connected").map(([n]) => n),
    );
    const oldDevices = gateway.flows.devices;
    const st = await supervisor.reload(`deploy ${short(commit)}`, true);
    if (!st.ok && st.revision === before.revision) {
      // Invalid: nothing was applied.
      if (good) await ws.link(good).catch(() => {});
      await ws.prune(good ? [good] : []);
      return this.#refuse(commit, at, "rejected", st.errors.map((l) => this.#relative(l)));
    }
    const problems = st.ok ? await this.#waitRequired(gateway, oldDevices, connected) : st.errors;
    if (problems.length > 0) {
      await this.#rollback(commit, good);
      return this.#refuse(commit, at, "rolled-back", problems);
    }
    const appliedAt = clock.now();
    try {
      await ws.markGood(commit, appliedAt);
    } catch (e) {
      // Applied and running; only a restart would not know it (it runs the previous one).
      log.error(errorMessage(e));
    }
    await ws.prune([commit]);
    this.#status.commit = commit;
    this.#status.appliedAt = appliedAt;
    if (signer) this.#status.signer = signer;
    else delete this.#status.signer;
    const result: DeployResult = st.revision === before.revision ? "unchanged" : "applied";
    this.#status.lastAttempt = { commit, at, result, errors: [] };
    this.#refused = undefined;
    this.counters.applied++;
    log.info("Deployed revision", {
      commit,
      ref: this.#o.ref,
      previous: good,
      changes: st.changes && result === "applied" ? st.changes : "nothing that runs",
    });
    return result;
  }

  /**
   * Waits for the `required` devices of the applied revision to connect; returns a problem
   * per device that did not. A device the revision did not touch and that was not connected
   * before is not held against it.
   */
  async #waitRequired(
    gateway: DeployGateway,
    oldDevices: FlowSet["devices"],
    connected: Set<string>,
  ): Promise<string[]> {
    const { clock, deployTimeoutMs } = this.#o;
    const required = [...gateway.flows.devices.values()].filter((d) =>
      d.required && (connected.has(d.name) || !sameValue(oldDevices.get(d.name), d))
    ).map((d) => d.name);
    if (required.length === 0) return [];
    const end = clock.monotonic() + deployTimeoutMs;
    const down = () =>
      required.filter((n) => gateway.devices.get(n)?.health().state !== "connected");
    while (down().length > 0 && clock.monotonic() < end && !this.#stop.signal.aborted) {
      await clock.sleep(100, this.#stop.signal).catch(() => {});
    }
    return down().map((n) => {
      const why = gateway.devices.get(n)?.health().lastError;
      return `required device "${n}" did not connect within ${deployTimeoutMs / 1000} s${
        why ? `: ${why}` : ""
      }`;
    });
  }

  async #rollback(commit: string, good: string | undefined): Promise<void> {
    const { workspace: ws, log } = this.#o;
    this.counters.rolledBack++;
    if (!good) return;
    log.warn(`Rolling back from ${short(commit)} to the last good revision ${short(good)}`);
    try {
      await ws.link(good);
      const st = await this.#supervisor!.reload(`rollback to ${short(good)}`, true);
      if (!st.ok) log.error("Rollback applied in part", { errors: st.errors });
    } catch (e) {
      log.error(`Cannot roll back to ${short(good)}: ${errorMessage(e)}`);
    }
    await ws.prune([good]);
  }

  #refuse(commit: string, at: number, result: DeployResult, errors: string[]): DeployResult {
    if (result === "rejected") this.counters.rejected++;
    this.#refused = commit;
    this.#status.lastAttempt = { commit, at, result, errors };
    this.#o.log.error(
      `Revision ${short(commit)} ${
        result === "rejected" ? "rejected" : "rolled back"
      }: the last good revision ${short(this.#status.commit)} keeps running`,
      { commit, errors },
    );
    return result;
  }

  /** A flow error line with the work tree's path cut to the repository's own path. */
  #relative(line: string): string {
    // The flow directory is under `current` (absolute); a relative data dir is cut too.
    const abs = this.#o.workspace.current + "/";
    const rel = `${this.#o.dataDir.replace(/\/+$/, "")}/git/current/`;
    return line.replaceAll(abs, "").replaceAll(rel, "");
  }
}

function short(commit: string | undefined): string {
  return commit ? commit.slice(0, 12) : "(none)";
}
