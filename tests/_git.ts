/**
 * @module
 * Test helpers for git deployment: a flow repository (a local bare repository and a work
 * clone to commit and push from), and a `bifrost run` subprocess whose JSON log lines are
 * collected and waited on.
 */

import { join } from "node:path";
import { MAIN } from "./_cli.ts";

function onPath(cmd: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
    try {
      return Deno.statSync(join(d, cmd)).isFile;
    } catch {
      return false;
    }
  });
}

/** Why git deployment tests cannot run here (`needs`: more commands), or undefined. */
export function gitMissing(needs: string[] = []): string | undefined {
  const gone = ["git", ...needs].filter((c) => !onPath(c));
  return gone.length === 0
    ? undefined
    : `${gone.join(", ")} not installed (apt-get install ${
      gone.map((c) => c === "gpg" ? "gnupg" : c).join(" ")
    })`;
}

/** A test that runs where git (and `needs`) are installed, and says why it is skipped. */
export function gitTest(
  name: string,
  fn: () => Promise<void>,
  needs: string[] = [],
): Deno.TestDefinition {
  const why = gitMissing(needs);
  return { name: why ? `${name} (skipped: ${why})` : name, ignore: why !== undefined, fn };
}

async function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${d.decode(out.stderr)}`);
  }
  return d.decode(out.stdout).trim();
}

/** A bare repository (`url`) and a clone to push from. */
export class FlowRepo {
  readonly url: string;
  readonly work: string;
  /** Environment of `git commit` (a throwaway GnuPG home for signed commits). */
  env: Record<string, string> = {};

  private constructor(readonly dir: string) {
    this.url = join(dir, "remote.git");
    this.work = join(dir, "work");
  }

  /** A new empty repository under `dir`, with branch `main`. */
  static async create(dir: string): Promise<FlowRepo> {
    const r = new FlowRepo(dir);
    await Deno.mkdir(dir, { recursive: true });
    await sh("git", ["init", "--quiet", "--bare", "--initial-branch=main", r.url], dir);
    await sh("git", ["init", "--quiet", "--initial-branch=main", r.work], dir);
    await r.git("config", "user.email", "plant@example.com");
    await r.git("config", "user.name", "Plant Engineer");
    await r.git("remote", "add", "origin", r.url);
    return r;
  }

  /** Runs git in the work clone. */
  git(...args: string[]): Promise<string> {
    return sh("git", args, this.work, this.env);
  }

  /** Writes files (path → text; null removes), commits them and pushes; returns the commit. */
  async push(
    files: Record<string, string | Uint8Array | null>,
    message = "change",
    o: { sign?: string; ref?: string } = {},
  ): Promise<string> {
    for (const [path, text] of Object.entries(files)) {
      const abs = join(this.work, path);
      if (text === null) {
        await Deno.remove(abs);
        continue;
      }
      await Deno.mkdir(join(abs, ".."), { recursive: true });
      if (typeof text === "string") await Deno.writeTextFile(abs, text);
      else await Deno.writeFile(abs, text);
    }
    await this.git("add", "-A");
    await this.git(
      "commit",
      "--quiet",
      "--allow-empty",
      "-m",
      message,
      ...(o.sign ? [`-S${o.sign}`] : []),
    );
    await this.git("push", "--quiet", "--force", "origin", `HEAD:${o.ref ?? "main"}`);
    return await this.git("rev-parse", "HEAD");
  }
}

/** A JSON log line. */
export type LogLine = Record<string, unknown> & { msg: string };

/** A `bifrost run` subprocess with its log. */
export class Gateway {
  readonly lines: LogLine[] = [];
  readonly stderrText: string[] = [];
  #child: Deno.ChildProcess;
  #reading: Promise<void>;

  constructor(args: string[], readonly http?: string, env: Record<string, string> = {}) {
    const child = this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", ...args],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#reading = (async () => {
      let rest = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const l of parts) {
          try {
            this.lines.push(JSON.parse(l));
          } catch {
            this.stderrText.push(l);
          }
        }
      }
    })();
  }

  /** Lines whose message matches. */
  msg(re: RegExp): LogLine[] {
    return this.lines.filter((l) => re.test(l.msg));
  }

  /** Waits for `cond` (20 s by default), failing with the log. */
  async until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${what}:\n${
            this.lines.map((l) => JSON.stringify(l)).join("\n")
          }\n${this.stderrText.join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for a log line matching `re` (the `n`th); returns it. */
  async line(re: RegExp, n = 1, ms?: number): Promise<LogLine> {
    await this.until(`log line ${re} (#${n})`, () => this.msg(re).length >= n, ms);
    return this.msg(re)[n - 1]!;
  }

  /** GET a JSON document of the API. */
  async get<T = Record<string, unknown>>(path: string): Promise<T> {
    const res = await fetch(`http://${this.http}${path}`);
    const body = await res.json();
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
    return body as T;
  }

  /** The exit status (for a gateway that ends by itself). */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status.then(async (s) => (await this.#reading, s));
  }

  /** SIGINT, then waits for the exit; returns the code. */
  async stop(): Promise<number> {
    try {
      this.#child.kill("SIGINT");
    } catch {
      // Already gone.
    }
    const s = await this.#child.status;
    await this.#reading;
    return s.code;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
