/**
 * @module
 * Test and benchmark helper: a real PostgreSQL (Debian's `postgresql` package) in a temp
 * directory: `initdb` (trust auth, no fsync), then `postgres -D dir -k dir -p PORT` on
 * 127.0.0.1, run as the `postgres` user when we are root (the server refuses to run as
 * root). It can be stopped and started again on the same port and data.
 */

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../tests/fixtures/net.ts";

/** The newest installed server's bin directory, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

const isRoot = () => Deno.uid() === 0;

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  if (!postgresBinDir()) {
    return "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb; apt-get install postgresql)";
  }
  if (isRoot() && !existsSync("/usr/sbin/runuser")) return "runuser is missing (util-linux)";
  return undefined;
}

function asPostgres(bin: string, args: string[]): Deno.Command {
  const opts = { stdin: "null", stdout: "piped", stderr: "piped" } as const;
  return isRoot()
    ? new Deno.Command("/usr/sbin/runuser", {
      args: ["-u", "postgres", "--", bin, ...args],
      ...opts,
    })
    : new Deno.Command(bin, { args, ...opts });
}

/** A PostgreSQL cluster in a temp directory. */
export class PgServer {
  readonly dir: string;
  readonly port: number;
  /** Connection URL of the `postgres` database as superuser `postgres`. */
  readonly url: string;
  readonly #bin: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(dir: string, port: number, bin: string) {
    this.dir = dir;
    this.port = port;
    this.#bin = bin;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** initdb, then start. */
  static async start(): Promise<PgServer> {
    const bin = postgresBinDir();
    if (!bin) throw new Error(postgresMissing());
    const dir = await Deno.makeTempDir({ prefix: "bifrost_pg_" });
    if (isRoot()) {
      const chown = await new Deno.Command("chown", { args: ["-R", "postgres:", dir] }).output();
      if (!chown.success) throw new Error(`chown ${dir} failed`);
    }
    const s = new PgServer(dir, freePort(), bin);
    const init = await asPostgres(join(bin, "initdb"), [
      "-D",
      join(dir, "data"),
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--no-sync",
      "--no-instructions",
    ]).output();
    if (!init.success) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`initdb failed: ${new TextDecoder().decode(init.stderr)}`);
    }
    await s.resume();
    return s;
  }

  /** Starts the server (again) on the same port and data; resolves once it accepts queries. */
  async resume(): Promise<void> {
    if (this.#child) return;
    this.#child = asPostgres(join(this.#bin, "postgres"), [
      "-D",
      join(this.dir, "data"),
      "-k",
      this.dir,
      "-p",
      String(this.port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "logging_collector=off",
    ]).spawn();
    this.#child.stdout.cancel().catch(() => {});
    this.#child.stderr.cancel().catch(() => {});
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await new Deno.Command(join(this.#bin, "pg_isready"), {
        args: ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-q"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return;
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start on ${this.port}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  /** Stops the server: SIGINT is PostgreSQL's fast shutdown (sessions are cut). */
  async stop(signal: Deno.Signal = "SIGINT"): Promise<void> {
    const c = this.#child;
    if (!c) return;
    this.#child = undefined;
    try {
      // Signal the postmaster itself: runuser does not pass SIGINT on.
      const pid = Number(
        Deno.readTextFileSync(join(this.dir, "data", "postmaster.pid")).split("\n")[0],
      );
      Deno.kill(pid, signal);
    } catch {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await c.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
