/**
 * @module
 * Serving the API securely: tokens with scopes (401, 403), failed authentications limited
 * per address (429), an address other than loopback refused without tokens, a port in use
 * reported once, TLS with a self-signed certificate, and CORS only when configured.
 */

import { join } from "node:path";
import { Hono } from "hono";
import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/_assert.ts";
import { nullLogger } from "../../engine/log.ts";
import { registries } from "../registries.ts";
import { hashToken } from "./auth.ts";
import { call, startTestGateway } from "./_test_gateway.ts";
import { startHttp } from "./serve.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

const TOKENS = JSON.stringify({
  tokens: [
    { id: "viewer", sha256: hex("view-secret"), scopes: ["read"] },
    { id: "operator", sha256: hex("op-secret"), scopes: ["write"] },
    { id: "root", sha256: hex("root-secret"), scopes: ["admin"] },
  ],
});

Deno.test("tokens: 401 without or with a wrong token, 403 without the scope, writes audited by token id", async () => {
  await using t = await startTestGateway({ tokensEnv: TOKENS });
  const none = await call(`${t.api}/devices`);
  assertEquals([none.status, none.body.error.code], [401, "UNAUTHORIZED"]);
  assertEquals(none.headers.get("www-authenticate"), 'Bearer realm="bifrost"');
  const wrong = await call(`${t.api}/devices`, { token: "guess" });
  assertEquals([wrong.status, wrong.body.error.message], [401, "Unknown API token"]);
  assertEquals((await call(`${t.api}/devices`, { token: "view-secret" })).status, 200);
  const denied = await call(`${t.api}/write`, {
    token: "view-secret",
    body: { device: "plc", tag: "mode", value: 9 },
  });
  assertEquals([denied.status, denied.body.error.code], [403, "FORBIDDEN"]);
  assertMatch(denied.body.error.message, /Token "viewer" lacks the scope "write"/);
  assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 7);
  const ok = await call(`${t.api}/write`, {
    token: "op-secret",
    body: { device: "plc", tag: "mode", value: 9 },
  });
  assertEquals(ok.status, 200);
  assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 9);
  // The audit log is for admins.
  assertEquals((await call(`${t.api}/audit`, { token: "op-secret" })).status, 403);
  const audit = await call(`${t.api}/audit`, { token: "root-secret" });
  assertEquals(audit.body.entries.map((e: { who: string; result: string }) => [e.who, e.result]), [
    ["operator", "ok"],
  ]);
  // The OpenAPI document is public.
  assertEquals((await call(`${t.api}/openapi.json`)).status, 200);
});

Deno.test("parts mounted beside the API are public, or guarded by the API's tokens", async () => {
  await using t = await startTestGateway({
    tokensEnv: TOKENS,
    mount: [
      new Hono().get("/probe-public", (c) => c.text("up")),
      (guard) => new Hono().get("/probe-guarded", guard("read"), (c) => c.text("live")),
    ],
  });
  const pub = await fetch(`${t.http.url}/probe-public`);
  assertEquals([pub.status, await pub.text()], [200, "up"]);
  const denied = await call(`${t.http.url}/probe-guarded`);
  assertEquals([denied.status, denied.body.error.code], [401, "UNAUTHORIZED"]);
  const ok = await fetch(`${t.http.url}/probe-guarded`, {
    headers: { authorization: "Bearer view-secret" },
  });
  assertEquals([ok.status, await ok.text()], [200, "live"]);
});

Deno.test("repeated failed authentication from one address gets 429 with Retry-After", async () => {
  await using t = await startTestGateway({ tokensEnv: TOKENS });
  for (let i = 0; i < 5; i++) {
    assertEquals((await call(`${t.api}/devices`, { token: `guess-${i}` })).status, 401);
  }
  const limited = await call(`${t.api}/devices`, { token: "view-secret" });
  assertEquals([limited.status, limited.body.error.code], [429, "RATE_LIMITED"]);
  assertMatch(limited.body.error.message, /Too many failed authentications from 127\.0\.0\.1/);
  assert(Number(limited.headers.get("retry-after")) > 0);
});

Deno.test("an address other than loopback is refused without API tokens, with the reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using t = await startTestGateway();
    const e = await assertRejects(() =>
      startHttp(t.gateway, {
        listen: { host: "0.0.0.0", port: 0 },
        dataDir: dir,
        drivers: registries.drivers,
        log: nullLogger,
      })
    );
    assertMatch(
      e.message,
      /Cannot serve the API on 0\.0\.0\.0:0 without API tokens: an address other than loopback needs --tokens FILE or BIFROST_API_TOKENS/,
    );
    const bad = await assertRejects(() =>
      startHttp(t.gateway, {
        listen: { host: "127.0.0.1", port: 0 },
        tokensEnv: '{"tokens":[{"id":"a","sha256":"abc","scopes":["read"]}]}',
        dataDir: dir,
        drivers: registries.drivers,
        log: nullLogger,
      })
    );
    assertMatch(
      bad.message,
      /Invalid API tokens in BIFROST_API_TOKENS at \/tokens\/0\/sha256: expected 64 hex digits/,
    );
    const taken = await assertRejects(() =>
      startHttp(t.gateway, {
        listen: { host: "127.0.0.1", port: t.http.port },
        dataDir: dir,
        drivers: registries.drivers,
        log: nullLogger,
      })
    );
    assertMatch(taken.message, /Cannot serve the API on 127\.0\.0\.1:\d+: the address is in use/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  const r = await new Deno.Command("openssl", {
    // Its own environment (see sinks/mqtt/_certs.ts).
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      // rustls refuses a certificate marked as a CA for a server: a leaf that trusts itself.
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return { cert, key };
}

Deno.test("TLS with a self-signed certificate serves https; CORS answers only a configured origin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { cert, key } = await selfSigned(dir);
    await using t = await startTestGateway({
      tlsCert: cert,
      tlsKey: key,
      corsOrigins: ["https://hmi.example"],
    });
    assertMatch(t.api, /^https:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(cert)] });
    try {
      const res = await fetch(`${t.api}/devices`, {
        client,
        headers: { origin: "https://hmi.example" },
      });
      assertEquals(res.status, 200);
      assertEquals(res.headers.get("access-control-allow-origin"), "https://hmi.example");
      assertEquals((await res.json()).devices[0].name, "plc");
      const other = await fetch(`${t.api}/devices`, {
        client,
        headers: { origin: "https://evil.example" },
      });
      await other.body?.cancel();
      assertEquals(other.headers.get("access-control-allow-origin"), null);
    } finally {
      client.close();
    }
    // Without the CA the certificate is not trusted.
    await assertRejects(() => fetch(`${t.api}/devices`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
