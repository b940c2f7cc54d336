/**
 * @module
 * Test helper: a throwaway PKI made with Debian's `openssl` CLI: a CA, a server certificate
 * for 127.0.0.1 and localhost, client certificates (CN = the MQTT user name when the broker
 * uses `use_identity_as_username`), and a second, unrelated CA to test refusals.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";

/** Where Debian installs the openssl CLI. */
export const OPENSSL_BIN = "/usr/bin/openssl";

/** Why certificate tests cannot run here, or undefined when they can. */
export function opensslMissing(): string | undefined {
  return existsSync(OPENSSL_BIN)
    ? undefined
    : `the openssl CLI is not installed (${OPENSSL_BIN}; apt-get install openssl)`;
}

/** PEM files of a test PKI (paths). */
export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate and key of CN `clientName`. */
  clientCert: string;
  clientKey: string;
  clientName: string;
  /** A CA that signed nothing here. */
  otherCa: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(OPENSSL_BIN, {
    args,
    cwd: dir,
    // Its own environment: another test of this process (node-opcua's key reading) may
    // have OPENSSL_CONF pointing at nothing for a moment.
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

async function selfSignedCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

async function signed(dir: string, name: string, cn: string, ext: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}`,
  );
  await Deno.writeTextFile(join(dir, `${name}.ext`), ext);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  );
}

/**
 * Makes a PKI in a new temp directory (world-readable: mosquitto, started as root, reads
 * its files as the `mosquitto` user). Remove `dir` when done.
 */
export async function makePki(clientName = "gateway-1"): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_pki_" });
  await Deno.chmod(dir, 0o755);
  await selfSignedCa(dir, "ca");
  await selfSignedCa(dir, "other-ca");
  await signed(
    dir,
    "server",
    "127.0.0.1",
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n" +
      "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await signed(
    dir,
    "client",
    clientName,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  for await (const e of Deno.readDir(dir)) await Deno.chmod(join(dir, e.name), 0o644);
  return {
    dir,
    ca: join(dir, "ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
    clientName,
    otherCa: join(dir, "other-ca.pem"),
  };
}
