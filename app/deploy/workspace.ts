/**
 * @module
 * The gateway's copy of the flow repository, under `<data dir>/git/`:
 *
 * - `repo/`: a bare repository; each fetch brings the tip of the deployed ref (shallow: only
 *   what is deployed is kept, not the history) into `refs/bifrost/fetched`;
 * - `rev/<commit>/`: a work tree (`git worktree`) per revision on disk: the last good one,
 *   and the one being tried;
 * - `current`: a symbolic link to the revision the gateway runs, switched atomically
 *   (a new link renamed over the old one). The gateway reads its flows through it, so every
 *   path in the flows (function files, `permissions.read`) stays the same across revisions
 *   and a function step that did not change is not restarted;
 * - `state.json`: the last good commit, so that a restart without network runs it again
 *   (its work tree is still on disk; if it was removed, it is checked out again from the
 *   objects in `repo/`, which needs no network either).
 */

import { join, resolve } from "node:path";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import { git, type GitOptions, redactUrl } from "./git.ts";

/** What `state.json` keeps. */
export interface WorkspaceState {
  /** The last revision that passed validation and was applied. */
  good?: string;
  /** When it was applied (ms since the epoch). */
  goodAt?: number;
}

/** Options of {@linkcode Workspace.open}. */
export interface WorkspaceOptions {
  dataDir: string;
  url: string;
  ref: string;
  /** Time limit of a fetch, ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The on-disk copy of the flow repository (see the module comment). */
export class Workspace {
  readonly root: string;
  readonly repo: string;
  readonly current: string;
  #o: WorkspaceOptions;
  #state: WorkspaceState = {};

  private constructor(o: WorkspaceOptions) {
    this.#o = o;
    this.root = resolve(o.dataDir, "git");
    this.repo = join(this.root, "repo");
    this.current = join(this.root, "current");
  }

  /** Creates the directories and the bare repository if needed, and reads the state. */
  static async open(o: WorkspaceOptions): Promise<Workspace> {
    const w = new Workspace(o);
    try {
      await Deno.mkdir(join(w.root, "rev"), { recursive: true });
    } catch (e) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot create the git directory ${w.root}: ${errorMessage(e)}`,
      );
    }
    try {
      await Deno.stat(join(w.repo, "HEAD"));
    } catch {
      await Deno.remove(w.repo, { recursive: true }).catch(() => {});
      // No template: sample hooks are 60 kB of nothing on a small disk.
      await git("create the local repository", [
        "init",
        "--bare",
        "--quiet",
        "--template=",
        w.repo,
      ], w.#git(w.root));
    }
    try {
      w.#state = JSON.parse(await Deno.readTextFile(join(w.root, "state.json")));
    } catch {
      w.#state = {};
    }
    return w;
  }

  #git(cwd: string, timeoutMs?: number): GitOptions {
    return {
      cwd,
      urls: [this.#o.url],
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(this.#o.signal ? { signal: this.#o.signal } : {}),
    };
  }

  /** The saved state. */
  get state(): Readonly<WorkspaceState> {
    return this.#state;
  }

  /** The work tree of a revision. */
  dir(commit: string): string {
    return join(this.root, "rev", commit);
  }

  /**
   * Fetches the ref's tip from the repository; resolves with its commit. Throws
   * `DEPLOY_FAILED` with git's message: unreachable repository, unknown ref, full disk.
   */
  async fetch(): Promise<string> {
    const { url, ref } = this.#o;
    try {
      await git(`fetch "${ref}" from ${redactUrl(url)}`, [
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth=1",
        "--no-write-fetch-head",
        url,
        `+${ref}:refs/bifrost/fetched`,
      ], this.#git(this.repo, this.#o.timeoutMs));
    } catch (e) {
      await this.#removeTemporaryObjects();
      throw e;
    }
    const { stdout } = await git("read the fetched commit", [
      "rev-parse",
      "--verify",
      "refs/bifrost/fetched^{commit}",
    ], this.#git(this.repo));
    return stdout.trim();
  }

  /**
   * Removes what a failed fetch left in `objects/`: git keeps its `tmp_obj_*` and
   * `tmp_pack_*` files when a write fails (a full disk), which would keep the disk full and
   * fail every later fetch, even of a revision that fits.
   */
  async #removeTemporaryObjects(): Promise<void> {
    const objects = join(this.repo, "objects");
    const sweep = async (dir: string, depth: number) => {
      try {
        for await (const e of Deno.readDir(dir)) {
          const path = join(dir, e.name);
          if (e.isFile && /^tmp_(obj|pack|idx)_/.test(e.name)) {
            await Deno.remove(path).catch(() => {});
          } else if (e.isDirectory && depth > 0) await sweep(path, depth - 1);
        }
      } catch {
        // Gone or unreadable: nothing to remove there.
      }
    };
    await sweep(objects, 1);
  }

  /** Whether the work tree of `commit` is on disk and at that commit. */
  async #ready(commit: string): Promise<boolean> {
    try {
      const { stdout } = await git("read a work tree", ["rev-parse", "HEAD"], {
        cwd: this.dir(commit),
      });
      return stdout.trim() === commit;
    } catch {
      return false;
    }
  }

  /**
   * Checks out `commit` into its own work tree (kept if already there). Needs no network:
   * the objects are in `repo/`.
   */
  async checkout(commit: string): Promise<string> {
    if (!COMMIT.test(commit)) throw new TypeError(`Not a commit id: ${commit}`);
    const dir = this.dir(commit);
    if (await this.#ready(commit)) return dir;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await git("forget removed work trees", ["worktree", "prune"], this.#git(this.repo));
    await git(`check out ${commit.slice(0, 12)}`, [
      "worktree",
      "add",
      "--quiet",
      "--detach",
      "--force",
      dir,
      commit,
    ], this.#git(this.repo));
    return dir;
  }

  /**
   * Checks that `path` names a directory inside `commit`'s work tree once symbolic links are
   * resolved: a link in the repository must not make the gateway read flows from elsewhere
   * on the box. Throws `DEPLOY_FAILED` saying what is wrong.
   */
  async checkPath(commit: string, path: string): Promise<void> {
    const tree = await Deno.realPath(this.dir(commit));
    let real: string;
    try {
      real = await Deno.realPath(join(tree, path));
      if (!(await Deno.stat(real)).isDirectory) throw new Error("not a directory");
    } catch (e) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot use --path "${path}": no such directory at ${commit.slice(0, 12)} (${
          errorMessage(e)
        })`,
      );
    }
    if (real !== tree && !real.startsWith(tree + "/")) {
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot use --path "${path}" at ${
          commit.slice(0, 12)
        }: it leads out of the repository (a symbolic link to ${real})`,
      );
    }
  }

  /** The commit `current` points at, if any. */
  async linked(): Promise<string | undefined> {
    try {
      const target = await Deno.readLink(this.current);
      const commit = target.split("/").pop()!;
      return COMMIT.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** Points `current` at `commit`'s work tree, atomically. */
  async link(commit: string): Promise<void> {
    const tmp = `${this.current}.${crypto.randomUUID().slice(0, 8)}`;
    try {
      await Deno.symlink(join("rev", commit), tmp);
      await Deno.rename(tmp, this.current);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot switch ${this.current} to ${commit.slice(0, 12)}: ${errorMessage(e)}`,
      );
    }
  }

  /** Records `commit` as the last good revision (written atomically). */
  async markGood(commit: string, at: number): Promise<void> {
    this.#state = { ...this.#state, good: commit, goodAt: at };
    const file = join(this.root, "state.json");
    const tmp = `${file}.tmp`;
    try {
      await Deno.writeTextFile(tmp, JSON.stringify(this.#state) + "\n");
      await Deno.rename(tmp, file);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw new BifrostError(
        "DEPLOY_FAILED",
        `Cannot save the deployed revision in ${file}: ${errorMessage(e)}`,
      );
    }
  }

  /** Removes every revision's work tree but those in `keep`. Never throws. */
  async prune(keep: readonly string[]): Promise<void> {
    try {
      for await (const e of Deno.readDir(join(this.root, "rev"))) {
        if (!keep.includes(e.name)) {
          await Deno.remove(join(this.root, "rev", e.name), { recursive: true }).catch(() => {});
        }
      }
      await git("forget removed work trees", ["worktree", "prune"], this.#git(this.repo));
    } catch {
      // A revision left on disk costs space, nothing else; the next prune removes it.
    }
  }
}
