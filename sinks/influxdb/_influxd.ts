/**
 * @module
 * Test and benchmark helper: a real InfluxDB 1.x (Debian's `influxd`) on 127.0.0.1, with a
 * temp config whose meta, data and WAL directories live in a temp directory, no reporting
 * and no internal monitor database.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";

/** Where Debian installs influxd. */
export const INFLUXD_BIN = "/usr/bin/influxd";

/** Why InfluxDB tests cannot run here, or undefined when they can. */
export function influxdMissing(): string | undefined {
  return existsSync(INFLUXD_BIN)
    ? undefined
    : `influxd is not installed (${INFLUXD_BIN}; apt-get install influxdb)`;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** One InfluxQL result series. */
export interface Series {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** A running influxd. */
export class Influxd {
  readonly dir: string;
  readonly url: string;
  #child: Deno.ChildProcess;

  private constructor(dir: string, url: string, child: Deno.ChildProcess) {
    this.dir = dir;
    this.url = url;
    this.#child = child;
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
    const log = await Deno.open(join(dir, "influxd.log"), { write: true, create: true });
    const child = new Deno.Command(INFLUXD_BIN, {
      args: ["-config", join(dir, "influxdb.conf")],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child.stderr.pipeTo(log.writable).catch(() => {});
    const i = new Influxd(dir, `http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const r = await fetch(`${i.url}/ping`);
        await r.body?.cancel();
        if (r.status === 204) return i;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        await i[Symbol.asyncDispose]();
        throw new Error(`influxd did not answer /ping within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
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
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
