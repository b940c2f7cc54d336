/**
 * @module
 * Test and benchmark helper: a real mosquitto on 127.0.0.1, a free port, a temp config (and
 * persistence directory), that can be stopped and started again on the same port.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../tests/fixtures/net.ts";

/** Where Debian installs mosquitto. */
export const MOSQUITTO_BIN = "/usr/sbin/mosquitto";

/** Why mosquitto tests cannot run here, or undefined when they can. */
export function mosquittoMissing(): string | undefined {
  return existsSync(MOSQUITTO_BIN)
    ? undefined
    : `mosquitto is not installed (${MOSQUITTO_BIN}; apt-get install mosquitto)`;
}

/** A free TCP port on 127.0.0.1 (bound, then released); kept here for older imports. */
export { freePort };

/** A TLS listener (PEM file paths, readable by the `mosquitto` user). */
export interface MosquittoTls {
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Clients must present a certificate signed by `cafile`. */
  requireCertificate?: boolean;
  /** The client certificate's CN becomes the user name. */
  useIdentityAsUsername?: boolean;
}

/** Options of {@linkcode Mosquitto.start}. */
export interface MosquittoOptions {
  /** Keep sessions and queued messages across restarts. */
  persistence?: boolean;
  /** Queue QoS 0 messages for offline persistent subscribers too (Sparkplug births). */
  queueQos0?: boolean;
  port?: number;
  /** Listen with TLS (the URL becomes `mqtts://`). */
  tls?: MosquittoTls;
  /** Users as `[name, password]`: written with `mosquitto_passwd`; anonymous is refused. */
  users?: [string, string][];
  /** ACL file lines (`user x`, `topic write a/#`…). */
  acl?: string[];
}

/** Where Debian installs mosquitto_passwd. */
export const MOSQUITTO_PASSWD_BIN = "/usr/bin/mosquitto_passwd";

/** A running (or stopped) mosquitto. */
export class Mosquitto {
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number, dir: string, tls: boolean) {
    this.port = port;
    this.dir = dir;
    this.url = `${tls ? "mqtts" : "mqtt"}://127.0.0.1:${port}`;
  }

  /** Writes a config and starts the broker; resolves once it accepts connections. */
  static async start(o: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = await Deno.makeTempDir({ prefix: "bifrost_mosquitto_" });
    // Started as root, mosquitto drops to its own user: it must still write its log and
    // persistence file here.
    await Deno.chmod(dir, 0o777);
    const m = new Mosquitto(o.port ?? freePort(), dir, o.tls !== undefined);
    const auth = o.users !== undefined || o.tls?.useIdentityAsUsername === true;
    const lines = [
      `listener ${m.port} 127.0.0.1`,
      `allow_anonymous ${auth ? "false" : "true"}`,
      `log_dest file ${join(dir, "mosquitto.log")}`,
      // Connection lines carry the client id and user name: tests read them.
      "connection_messages true",
      // A persistent subscriber may be offline for a while in the outage test: no cap.
      "max_queued_messages 0",
    ];
    if (o.persistence) lines.push("persistence true", `persistence_location ${dir}/`);
    if (o.queueQos0) lines.push("queue_qos0_messages true");
    if (o.tls) {
      lines.push(
        `cafile ${o.tls.cafile}`,
        `certfile ${o.tls.certfile}`,
        `keyfile ${o.tls.keyfile}`,
        `require_certificate ${o.tls.requireCertificate ? "true" : "false"}`,
        `use_identity_as_username ${o.tls.useIdentityAsUsername ? "true" : "false"}`,
      );
    }
    if (o.users) {
      const file = join(dir, "passwd");
      for (const [i, [user, password]] of o.users.entries()) {
        const out = await new Deno.Command(MOSQUITTO_PASSWD_BIN, {
          args: [...(i === 0 ? ["-c"] : []), "-b", file, user, password],
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
        if (!out.success) {
          throw new Error(`mosquitto_passwd failed: ${new TextDecoder().decode(out.stderr)}`);
        }
      }
      await Deno.chmod(file, 0o644);
      lines.push(`password_file ${file}`);
    }
    if (o.acl) {
      const file = join(dir, "acl");
      await Deno.writeTextFile(file, o.acl.join("\n") + "\n");
      await Deno.chmod(file, 0o644);
      lines.push(`acl_file ${file}`);
    }
    await Deno.writeTextFile(join(dir, "mosquitto.conf"), lines.join("\n") + "\n");
    await m.resume();
    return m;
  }

  /** Starts the broker again on the same port and config. */
  async resume(): Promise<void> {
    if (this.#child) return;
    this.#child = new Deno.Command(MOSQUITTO_BIN, {
      args: ["-c", join(this.dir, "mosquitto.conf")],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        c.close();
        return;
      } catch (e) {
        if (Date.now() > deadline) {
          throw new Error(`mosquitto did not listen on ${this.port} within 5 s`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Stops the broker (SIGTERM: it saves its persistence file, as a restarted broker would). */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const c = this.#child;
    if (!c) return;
    this.#child = undefined;
    try {
      c.kill(signal);
    } catch { /* already gone */ }
    await c.status;
  }

  /** The broker's log so far (for failure messages). */
  log(): string {
    try {
      return Deno.readTextFileSync(join(this.dir, "mosquitto.log"));
    } catch {
      return "";
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
