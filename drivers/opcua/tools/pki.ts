/**
 * @module
 * `bifrost opcua list|trust|reject [--pki data/opcua/pki]`: the client's trust store of
 * server certificates, as node-opcua lays it out (`trusted/certs/`, `rejected/`). A server
 * certificate seen on a secure connect and not trusted lands in `rejected/`; `trust` moves
 * it (by thumbprint, or a prefix of it) to `trusted/certs/`, or copies a certificate file
 * given by path; `reject` moves a trusted one back. No node-opcua is loaded here.
 */

import type { DriverCommand, ToolOutput } from "../../../engine/plugin.ts";

const PKI_DEFAULT = "data/opcua/pki";

/** A certificate file of the store. */
export interface StoredCert {
  state: "trusted" | "rejected";
  path: string;
  /** SHA-1 of the DER, lowercase hex (what OPC UA tools show). */
  thumbprint: string;
}

function der(text: string | Uint8Array): Uint8Array {
  if (typeof text !== "string") {
    const head = new TextDecoder().decode(text.subarray(0, 30));
    if (!head.includes("-----BEGIN")) return text;
    text = new TextDecoder().decode(text);
  }
  const b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** The SHA-1 thumbprint of a certificate (PEM or DER). */
export async function thumbprint(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", der(bytes) as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every certificate of the store. */
export async function listStore(pki: string): Promise<StoredCert[]> {
  const out: StoredCert[] = [];
  for (
    const [state, dir] of [["trusted", `${pki}/trusted/certs`], [
      "rejected",
      `${pki}/rejected`,
    ]] as const
  ) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries.filter((e) => e.isFile && /\.(pem|der)$/i.test(e.name))) {
      const path = `${dir}/${e.name}`;
      out.push({ state, path, thumbprint: await thumbprint(await Deno.readFile(path)) });
    }
  }
  return out.sort((a, b) => a.state.localeCompare(b.state) || a.path.localeCompare(b.path));
}

/** `--pki DIR` and the positionals. */
function parse(args: string[]): { pki: string; rest: string[] } {
  let pki = PKI_DEFAULT;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--pki") {
      const v = args[++i];
      if (v === undefined) throw new RangeError("--pki needs a folder");
      pki = v;
    } else rest.push(args[i]!);
  }
  return { pki, rest };
}

function find(all: StoredCert[], state: StoredCert["state"], id: string): StoredCert[] {
  const t = id.toLowerCase().replace(/[^0-9a-f]/g, "");
  return all.filter((c) => c.state === state && t.length >= 4 && c.thumbprint.startsWith(t));
}

async function moveTo(c: StoredCert, dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const to = `${dir}/${c.path.split("/").pop()}`;
  await Deno.rename(c.path, to);
  return to;
}

function command(
  usage: string,
  run: (pki: string, rest: string[], out: ToolOutput) => Promise<number>,
): DriverCommand {
  return {
    usage,
    async run(args, out) {
      let p;
      try {
        p = parse(args);
      } catch (e) {
        out.error((e as Error).message);
        out.error(usage);
        return 2;
      }
      return await run(p.pki, p.rest, out);
    },
  };
}

/** `bifrost opcua list|trust|reject`. */
export const pkiCommands: Record<string, DriverCommand> = {
  list: command(
    "Usage: bifrost opcua list [--pki data/opcua/pki]   server certificates trusted and rejected",
    async (pki, rest, out) => {
      if (rest.length > 0) {
        out.error(`Unexpected argument "${rest[0]}"`);
        return 2;
      }
      const all = await listStore(pki);
      if (all.length === 0) {
        out.log(
          `No server certificate in ${pki} yet (one lands in rejected/ on the first secure connect)`,
        );
      }
      for (const c of all) out.log(`${c.state.padEnd(8)} ${c.thumbprint}  ${c.path}`);
      return 0;
    },
  ),
  trust: command(
    "Usage: bifrost opcua trust <thumbprint|certificate-file> [--pki data/opcua/pki]",
    async (pki, rest, out) => {
      const id = rest[0];
      if (id === undefined || rest.length > 1) {
        out.error(
          id === undefined
            ? "Missing the thumbprint (see bifrost opcua list) or a certificate file"
            : `Unexpected argument "${rest[1]}"`,
        );
        return 2;
      }
      const dir = `${pki}/trusted/certs`;
      const file = await Deno.readFile(id).catch(() => undefined);
      if (file) {
        await Deno.mkdir(dir, { recursive: true });
        const t = await thumbprint(file);
        const to = `${dir}/${t}.${/\.der$/i.test(id) ? "der" : "pem"}`;
        await Deno.writeFile(to, file);
        out.log(`trusted ${t} (${to})`);
        return 0;
      }
      const all = await listStore(pki);
      const hits = find(all, "rejected", id);
      if (hits.length !== 1) {
        const trusted = find(all, "trusted", id);
        out.error(
          trusted.length > 0
            ? `${id} is already trusted (${trusted[0]!.path})`
            : hits.length === 0
            ? `No rejected certificate in ${pki}/rejected has thumbprint ${id}; see bifrost opcua list --pki ${pki}`
            : `${id} matches ${hits.length} certificates; give more of the thumbprint`,
        );
        return 1;
      }
      out.log(`trusted ${hits[0]!.thumbprint} (${await moveTo(hits[0]!, dir)})`);
      return 0;
    },
  ),
  reject: command(
    "Usage: bifrost opcua reject <thumbprint> [--pki data/opcua/pki]",
    async (pki, rest, out) => {
      const id = rest[0];
      if (id === undefined || rest.length > 1) {
        out.error(
          id === undefined
            ? "Missing the thumbprint (see bifrost opcua list)"
            : `Unexpected argument "${rest[1]}"`,
        );
        return 2;
      }
      const hits = find(await listStore(pki), "trusted", id);
      if (hits.length !== 1) {
        out.error(
          hits.length === 0
            ? `No trusted certificate in ${pki} has thumbprint ${id}`
            : `${id} matches ${hits.length} certificates; give more of the thumbprint`,
        );
        return 1;
      }
      out.log(`rejected ${hits[0]!.thumbprint} (${await moveTo(hits[0]!, `${pki}/rejected`)})`);
      return 0;
    },
  ),
};
