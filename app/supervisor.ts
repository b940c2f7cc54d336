/**
 * @module
 * Hot reload of a running gateway: the {@linkcode Supervisor} watches the flow directory
 * (`Deno.watchFs`, debounced) and listens for SIGHUP; on a change it validates the whole
 * directory the way `bifrost check` does (only changed files are parsed again, see
 * `engine/flow/load_file.ts`) and, if valid, applies it as a diff (`Gateway.apply`).
 *
 * An invalid change is rejected: each problem is logged once as one `file:line:column`
 * line, the running flows carry on untouched, and the outcome is kept in
 * {@linkcode Supervisor.status} (and the counters) for an API to read later. A directory
 * that disappears is an invalid change too; the watch is re-armed when it comes back.
 * The same state of the directory is never validated twice in a row (editors write a file
 * in several steps, and one save can fire many events), unless SIGHUP asks for it.
 *
 * The code of function steps and triggers (`functions/*.ts`, usually beside the flow
 * directory, not in it) is watched too: the directories of the files the running flows
 * name ({@linkcode SupervisorOptions.codePaths}), so that saving a function restarts its
 * step (the reload diff compares each step's code fingerprint) without a SIGHUP.
 */

import { dirname, resolve, sep as SEP } from "node:path";
import type { Clock } from "../engine/clock.ts";
import { errorMessage, isBifrostError } from "../engine/errors.ts";
import type { LoadResult } from "../engine/flow/load.ts";
import { formatIssue } from "../engine/flow/issue.ts";
import type { FlowSet } from "../engine/flow/types.ts";
import type { Logger } from "../engine/log.ts";
import { describeDiff, type FlowDiff } from "../engine/runtime/reload.ts";

/** The outcome of the last reload, for the API and the logs. */
export interface ReloadStatus {
  /** Counts applied revisions: 1 is the flows the gateway started with. */
  revision: number;
  /** When the running revision was applied (ms since the epoch). */
  appliedAt: number;
  /** Whether the last attempt applied in full (true before any attempt). */
  ok: boolean;
  /** The last attempt's problems, one formatted line each (`file:line:column: message`). */
  errors: string[];
  /** When the last attempt was made (ms since the epoch); undefined before any. */
  attemptedAt?: number;
  /** What the last applied revision changed (see `describeDiff`). */
  changes?: string;
}

/** Reload counters, for metrics. */
export interface ReloadCounters {
  reloadsOk: number;
  /** Invalid changes, and valid ones the gateway refused before changing anything. */
  reloadsRejected: number;
  /** Valid changes applied in part (a step or sink kept its old settings). */
  reloadsFailed: number;
}

/** What the supervisor drives: a running gateway. */
export interface ReloadTarget {
  apply(flows: FlowSet): Promise<FlowDiff>;
}

/** Options of a {@linkcode Supervisor}. */
export interface SupervisorOptions {
  dir: string;
  gateway: ReloadTarget;
  /** Validates the directory (the same checks as `bifrost check`). */
  validate: (dir: string) => Promise<LoadResult>;
  log: Logger;
  clock: Clock;
  /** Quiet time after the last file event before reloading. Default 300 ms. */
  debounceMs?: number;
  /** Wait between attempts to watch a directory that is gone. Default 1 s. */
  rewatchMs?: number;
  /** Called with the secrets of every applied revision (for the log's redaction). */
  onApplied?: (result: LoadResult) => void;
  /**
   * The function files (absolute paths) the running flows use: their directories are
   * watched, recursively, beside the flow directory, and their code files count in the
   * "did anything change" fingerprint. Asked at start and after every reload attempt.
   */
  codePaths?: () => string[] | Promise<string[]>;
}

/** Whether a watch event concerns code a function step or trigger may load. */
export function isCodePath(path: string): boolean {
  return /\.(ts|mts|js|mjs|json)$/i.test(path);
}

/** Directories of code files worth fingerprinting: not installed packages, not git's own. */
const SKIP_DIRS = new Set(["node_modules", ".git", "data", "dist"]);

/** Whether a watch event concerns the flows (not an editor's swap or backup file). */
export function isFlowPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

async function exists(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(dir)).isDirectory;
  } catch {
    return false;
  }
}

/** Size and time of every code file under `dir` (depth-limited), for the fingerprint. */
async function codePrint(dir: string, parts: string[], depth = 0): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    parts.push(`${dir}:gone`);
    return;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (depth < 4 && !SKIP_DIRS.has(e.name) && !e.name.startsWith(".")) {
        await codePrint(path, parts, depth + 1);
      }
    } else if (e.isFile && isCodePath(e.name)) {
      try {
        const st = await Deno.stat(path);
        parts.push(`${path}:${st.size}:${st.mtime?.getTime()}`);
      } catch {
        parts.push(`${path}:gone`);
      }
    }
  }
}

async function fingerprint(dir: string, codeDirs: readonly string[] = []): Promise<string> {
  const parts: string[] = [];
  for (const d of codeDirs) await codePrint(d, parts);
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !isFlowPath(e.name)) continue;
      try {
        const st = await Deno.stat(`${dir}/${e.name}`);
        parts.push(`${e.name}:${st.size}:${st.mtime?.getTime()}`);
      } catch {
        parts.push(`${e.name}:gone`);
      }
    }
  } catch (e) {
    return `unreadable:${errorMessage(e)}`;
  }
  return parts.sort().join("|");
}

/** Watches a flow directory and applies its valid changes to a running gateway. */
export class Supervisor {
  readonly counters: ReloadCounters = { reloadsOk: 0, reloadsRejected: 0, reloadsFailed: 0 };
  #o: SupervisorOptions;
  #status: ReloadStatus;
  #stop = new AbortController();
  #generation = 0;
  #last: string | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #watcher: Deno.FsWatcher | undefined;
  #loop: Promise<void> | undefined;
  #onHup = () => void this.reload("SIGHUP", true);
  /** The watched code directories (outside the flow directory) and their watcher. */
  #codeDirs: string[] = [];
  #codeWatcher: Deno.FsWatcher | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#status = { revision: 1, appliedAt: options.clock.now(), ok: true, errors: [] };
  }

  /** The outcome of the last reload. */
  status(): ReloadStatus {
    return { ...this.#status, errors: [...this.#status.errors] };
  }

  /** Starts watching the directory and, with `signals`, listening for SIGHUP. */
  async start(options: { signals?: boolean } = {}): Promise<void> {
    await this.#watchCode();
    this.#last = await fingerprint(this.#o.dir, this.#codeDirs);
    this.#loop = this.#watchLoop();
    if (options.signals) Deno.addSignalListener("SIGHUP", this.#onHup);
    this.#o.log.info("Watching the flow directory for changes", { dir: this.#o.dir });
  }

  /**
   * Stops watching. A validation in progress is discarded (not applied); `wait: false` does
   * not wait for it to end (a cold validation of a large set takes seconds; the gateway's
   * own `stop()` waits for an apply in progress).
   */
  async close(options: { wait?: boolean } = {}): Promise<void> {
    this.#stop.abort();
    try {
      Deno.removeSignalListener("SIGHUP", this.#onHup);
    } catch {
      // Never added.
    }
    this.#watcher?.close();
    this.#codeWatcher?.close();
    await this.#loop;
    if (options.wait ?? true) await this.#running;
  }

  /** Schedules a reload after the debounce time; later calls push it back. */
  changed(): void {
    const gen = ++this.#generation;
    this.#o.clock.sleep(this.#o.debounceMs ?? 300, this.#stop.signal).then(() => {
      if (gen === this.#generation) void this.reload("change");
    }, () => {});
  }

  /**
   * (Re)arms the watch on the directories of the flows' function files that lie outside the
   * flow directory (which is watched already), when that set changed.
   */
  async #watchCode(): Promise<void> {
    if (!this.#o.codePaths || this.#stop.signal.aborted) return;
    let files: string[];
    try {
      files = await this.#o.codePaths();
    } catch {
      return;
    }
    const flowDir = resolve(this.#o.dir);
    const dirs = [...new Set(files.map((f) => dirname(resolve(f))))]
      .filter((d) => d !== flowDir && !d.startsWith(flowDir + SEP))
      .sort();
    // A directory inside another is covered by its recursive watch.
    const roots = dirs.filter((d) => !dirs.some((o) => o !== d && d.startsWith(o + SEP)));
    if (roots.join("\n") === this.#codeDirs.join("\n") && this.#codeWatcher) return;
    this.#codeWatcher?.close();
    this.#codeWatcher = undefined;
    this.#codeDirs = roots;
    const present: string[] = [];
    for (const d of roots) if (await exists(d)) present.push(d);
    if (present.length === 0) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(present);
    } catch (e) {
      this.#o.log.warn("Cannot watch the functions' directories: SIGHUP applies their edits", {
        dirs: present,
        error: errorMessage(e),
      });
      return;
    }
    this.#codeWatcher = watcher;
    (async () => {
      try {
        for await (const ev of watcher) if (ev.paths.some(isCodePath)) this.changed();
      } catch {
        // Closed, or the directory went away: the next reload attempt re-arms it.
      }
      if (this.#codeWatcher === watcher) this.#codeWatcher = undefined;
    })();
  }

  async #watchLoop(): Promise<void> {
    const signal = this.#stop.signal;
    let gone = false;
    while (!signal.aborted) {
      try {
        this.#watcher = Deno.watchFs(this.#o.dir);
        if (gone) {
          this.#o.log.info("Flow directory is back: watching it again", { dir: this.#o.dir });
          gone = false;
          this.changed();
        }
        for await (const ev of this.#watcher) {
          if (ev.paths.some((p) => isFlowPath(p) || isCodePath(p)) || ev.kind === "remove") {
            this.changed();
          }
          // Linux keeps a watch on a removed directory open and silent: leave and re-arm.
          if (ev.kind === "remove" && !(await exists(this.#o.dir))) {
            this.#o.log.error("Flow directory is gone: the running flows carry on", {
              dir: this.#o.dir,
            });
            gone = true;
            break;
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (!gone) {
          this.#o.log.error("Cannot watch the flow directory: the running flows carry on", {
            dir: this.#o.dir,
            error: errorMessage(e),
          });
          this.changed();
        }
        gone = true;
      }
      if (signal.aborted) return;
      // The watcher ended (the directory was removed or replaced): look again shortly.
      gone = true;
      await this.#o.clock.sleep(this.#o.rewatchMs ?? 1000, signal).catch(() => {});
    }
  }

  /**
   * Validates the directory and applies it if valid. `force` reloads even if no flow file
   * changed since the last attempt (SIGHUP). Calls are serialised.
   */
  reload(reason: string, force = false): Promise<ReloadStatus> {
    const run = this.#running.then(async () => {
      const status = await this.#reload(reason, force);
      // The flows may name other function files now.
      await this.#watchCode();
      return status;
    });
    this.#running = run.catch(() => {});
    return run;
  }

  async #reload(reason: string, force: boolean): Promise<ReloadStatus> {
    const { dir, log, clock } = this.#o;
    const print = await fingerprint(dir, this.#codeDirs);
    if (!force && print === this.#last) return this.status();
    this.#last = print;
    const at = clock.now();
    this.#status.attemptedAt = at;
    let result: LoadResult;
    try {
      result = await this.#o.validate(dir);
    } catch (e) {
      return this.#reject([`${dir}: cannot validate the flows: ${errorMessage(e)}`], reason);
    }
    if (this.#stop.signal.aborted) return this.status();
    for (const w of result.warnings) log.warn(formatIssue(w));
    if (result.errors.length > 0 || !result.flows) {
      for (const e of result.errors) log.error(formatIssue(e));
      return this.#reject(result.errors.map(formatIssue), reason);
    }
    if (result.flows.files.length === 0) {
      const line = `${dir}: no *.yaml or *.yml files: keeping the running flows`;
      log.error(line);
      return this.#reject([line], reason);
    }
    try {
      const diff = await this.#o.gateway.apply(result.flows);
      this.#o.onApplied?.(result);
      if (diff.empty) {
        log.debug("Flows validated: nothing to change", { reason });
        this.#status = { ...this.#status, ok: true, errors: [], attemptedAt: at };
        return this.status();
      } else {
        this.#status = {
          revision: this.#status.revision + 1,
          appliedAt: clock.now(),
          ok: true,
          errors: [],
          attemptedAt: at,
          changes: describeDiff(diff),
        };
        log.info("Flows reloaded", {
          revision: this.#status.revision,
          reason,
          changes: this.#status.changes,
        });
      }
      this.counters.reloadsOk++;
    } catch (e) {
      if (isBifrostError(e, "RELOAD_FAILED")) {
        this.#o.onApplied?.(result);
        this.counters.reloadsFailed++;
        log.error(e.message, { reason });
        this.#status = {
          revision: this.#status.revision + 1,
          appliedAt: clock.now(),
          ok: false,
          errors: [e.message],
          attemptedAt: at,
        };
      } else {
        log.error(`Cannot apply the flows: ${errorMessage(e)}`);
        return this.#reject([errorMessage(e)], reason);
      }
    }
    return this.status();
  }

  #reject(errors: string[], reason: string): ReloadStatus {
    this.counters.reloadsRejected++;
    this.#status = { ...this.#status, ok: false, errors, attemptedAt: this.#o.clock.now() };
    const n = errors.length;
    this.#o.log.warn(
      `Reload rejected: ${n} problem${
        n === 1 ? "" : "s"
      }; the running flows (revision ${this.#status.revision}) carry on`,
      { reason },
    );
    return this.status();
  }
}
