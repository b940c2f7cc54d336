/**
 * @module
 * Security of the `opcua` driver against its simulator: a server certificate is refused until
 * `bifrost opcua trust` puts it in the store, then Sign and SignAndEncrypt work with
 * Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss; a client certificate the
 * server rejects, a wrong password and a refused anonymous session each fail with an error
 * saying what to do; username/password and X.509 user identities log in.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { BifrostError, nullLogger, systemClock, type ToolOutput } from "../../../engine/plugin.ts";
import { type OpcuaSimulator, startOpcuaSimulator } from "../simulator/server.ts";
import { pkiCommands } from "../tools/pki.ts";
import { OpcuaDriver } from "./driver.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const dirs: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of dirs) Deno.removeSync(d, { recursive: true });
});
async function tempPki(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "bifrost-opcua-sec-" });
  dirs.push(d);
  return d;
}

function driver(sim: OpcuaSimulator, pki: string, extra: Record<string, unknown>) {
  return new OpcuaDriver(
    {
      name: "plc",
      driver: "opcua",
      config: { endpoint: sim.endpoint, pki, timeout: "10s", ...extra },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
}

/** Connects, reads Demo.Setpoint, closes; resolves with the value or the error. */
async function attempt(sim: OpcuaSimulator, pki: string, extra: Record<string, unknown>) {
  const d = driver(sim, pki, extra);
  try {
    await d.connect(AbortSignal.timeout(20_000));
    const [r] = await d.read(
      d.plan([{
        name: "sp",
        address: "ns=1;s=Demo.Setpoint",
        type: "Double",
        writable: false,
        config: {},
      }]),
      AbortSignal.timeout(20_000),
    );
    return r!.ok ? r!.value : r!.error;
  } catch (e) {
    return e;
  } finally {
    await d.close();
  }
}

function unreachable(e: unknown, pattern: RegExp) {
  assert(e instanceof BifrostError, `expected a BifrostError, got ${String(e)}`);
  assertEquals(e.code, "DEVICE_UNREACHABLE", e.message);
  assertMatch(e.message, pattern);
}

async function cli(name: string, args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const out: ToolOutput = { log: (l) => lines.push(l), error: (l) => lines.push(l) };
  const code = await pkiCommands[name]!.run(args, out);
  return { code, out: lines.join("\n") };
}

Deno.test("a server certificate is refused until trusted; then Sign and SignAndEncrypt work with every policy", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const pki = await tempPki();
  const secure = { securityMode: "SignAndEncrypt", securityPolicy: "Basic256Sha256" };
  const e = await attempt(sim, pki, secure);
  unreachable(
    e,
    /the server's certificate \(thumbprint [0-9a-f]{40}\) is not trusted; .*bifrost opcua trust [0-9a-f]{40} --pki /,
  );
  const thumb = /thumbprint ([0-9a-f]{40})/.exec((e as Error).message)![1]!;

  const listed = await cli("list", ["--pki", pki]);
  assertEquals(listed.code, 0);
  assertMatch(listed.out, new RegExp(`rejected ${thumb}`));
  const trusted = await cli("trust", [thumb.slice(0, 8), "--pki", pki]);
  assertEquals(trusted.code, 0, trusted.out);
  assertMatch((await cli("list", ["--pki", pki])).out, new RegExp(`trusted  ${thumb}`));

  for (
    const securityPolicy of ["Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"]
  ) {
    for (const securityMode of ["Sign", "SignAndEncrypt"]) {
      assertEquals(
        await attempt(sim, pki, { securityMode, securityPolicy }),
        20,
        `${securityMode} ${securityPolicy}`,
      );
    }
  }

  const rejected = await cli("reject", [thumb, "--pki", pki]);
  assertEquals(rejected.code, 0, rejected.out);
  unreachable(await attempt(sim, pki, secure), /is not trusted/);
  assertEquals((await cli("trust", ["0000", "--pki", pki])).code, 1);
});

Deno.test("a client certificate the server rejects fails with what to do", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0, trustClients: false });
  const pki = await tempPki();
  const secure = { securityMode: "SignAndEncrypt", securityPolicy: "Basic256Sha256" };
  await attempt(sim, pki, secure); // puts the server certificate in rejected/
  const [cert] = (await cli("list", ["--pki", pki])).out.match(/[0-9a-f]{40}/) ?? [];
  assertEquals((await cli("trust", [cert!, "--pki", pki])).code, 0);
  unreachable(
    await attempt(sim, pki, secure),
    /the server rejected Bifrost's application certificate \(.*client_certificate\.pem\): trust it on the server/,
  );
});

Deno.test("user identities: a wrong password and a refused anonymous session say so; username/password and X.509 log in", async () => {
  await using sim = await startOpcuaSimulator({
    changeEveryMs: 0,
    users: [{ user: "operator", password: "s3cret" }],
    anonymous: false,
  });
  const pki = await tempPki();
  unreachable(
    await attempt(sim, pki, { user: "operator", password: "wrong" }),
    /the server refused user "operator": wrong user name or password/,
  );
  unreachable(await attempt(sim, pki, {}), /refuses anonymous sessions: set user and password/);
  assertEquals(await attempt(sim, pki, { user: "operator", password: "s3cret" }), 20);
  // The client's own application certificate serves as an X.509 user certificate here.
  const x509 = {
    userCertificate: `${pki}/own/certs/client_certificate.pem`,
    userPrivateKey: `${pki}/own/private/private_key.pem`,
    securityMode: "SignAndEncrypt",
    securityPolicy: "Basic256Sha256",
  };
  await attempt(sim, pki, x509);
  const [cert] = (await cli("list", ["--pki", pki])).out.match(/[0-9a-f]{40}/) ?? [];
  await cli("trust", [cert!, "--pki", pki]);
  assertEquals(await attempt(sim, pki, x509), 20);
});
