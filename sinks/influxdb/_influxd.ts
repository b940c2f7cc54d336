/**
 * @module
 * Test and benchmark helper: a real InfluxDB 1.x (Debian's `influxd`) on 127.0.0.1, with a
 * temp config whose meta, data and WAL directories live in a temp directory, no reporting
 * and no internal monitor database.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../tests/fixtures/net.ts";

/** Where Debian installs influxd. */
export const INFLUXD_BIN = "/usr/bin/influxd";

/** Why InfluxDB tests cannot run here, or undefined when they can. */
export function influxdMissing(): string | undefined {
  return existsSync(INFLUXD_BIN)
    ? undefined
    : `influxd is not installed (${INFLUXD_BIN}; apt-get install influxdb)`;
}

/** One InfluxQL result series. */
export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** A running (or stopped) influxd. */
export class Influxd {
  readonly dir: string;
  readonly url: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(dir: string, url: string) {
    this.dir = dir;
    this.url = url;
  }

  /** Writes a config, starts influxd and waits until `/ping` answers. */
  static async start(): Promise<Influxd> {
    const dir = await Deno.makeTempDir({ prefix: "bifrost_influxd_" });
    const port = freePort();
    const conf = `reporting-disabled = true
bind-address = "127.0.0.1:${freePort()}"
[meta]
  dir = "${join(dir, "meta")}"
[data]
  dir = "${join(dir, "data")}"
  wal-dir = "${join(dir, "wal")}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[continuous_queries]
  enabled = false
`;
    await Deno.writeTextFile(join(dir, "influxdb.conf"), conf);
    const i = new Influxd(dir, `http://127.0.0.1:${port}`);
    try {
      await i.resume();
    } catch (e) {
      await i[Symbol.asyncDispose]();
      throw e;
    }
    return i;
  }

  /** Starts influxd (again) on the same port and data; resolves once `/ping` answers. */
  async resume(): Promise<void> {
    if (this.#child) return;
    const log = await Deno.open(join(this.dir, "influxd.log"), {
      write: true,
      create: true,
      append: true,
    });
    const child = new Deno.Command(INFLUXD_BIN, {
      args: ["-config", join(this.dir, "influxdb.conf")],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    child.stderr.pipeTo(log.writable).catch(() => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const r = await fetch(`${this.url}/ping`);
        await r.body?.cancel();
        if (r.status === 204) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`influxd did not answer /ping within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops influxd (SIGTERM: it closes its shards as a restarted server would). */
  async stop(): Promise<void> {
    const c = this.#child;
    if (!c) return;
    this.#child = undefined;
    try {
      c.kill("SIGTERM");
    } catch { /* already gone */ }
    await c.status;
  }

  /** Runs InfluxQL (`db` for SELECTs); returns the first statement's series. */
  async query(q: string, db?: string): Promise<Series[]> {
    const u = new URL(`${this.url}/query`);
    u.searchParams.set("q", q);
    if (db) u.searchParams.set("db", db);
    u.searchParams.set("epoch", "ms");
    const res = await fetch(u, { method: "POST" });
    const body = await res.json();
    const r = body.results?.[0];
    if (!res.ok || r?.error) throw new Error(`InfluxQL ${q} failed: ${JSON.stringify(body)}`);
    return r?.series ?? [];
  }

  /** The server's log so far (for failure messages). */
  log(): string {
    try {
      return Deno.readTextFileSync(join(this.dir, "influxd.log"));
    } catch {
      return "";
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
