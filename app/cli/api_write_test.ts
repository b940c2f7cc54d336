/**
 * @module
 * `bifrost write --api` and `bifrost read --api` against a running gateway (a
 * simulator behind it): the gateway checks the write and audits it under the token's id.
 */

import { assertEquals, assertMatch } from "../../tests/_assert.ts";
import { bifrost } from "../../tests/_cli.ts";
import { hashToken } from "../http/auth.ts";
import { call, startTestGateway } from "../http/_test_gateway.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("bifrost write --api writes through the gateway, checked and audited", async () => {
  await using t = await startTestGateway();
  const ok = await bifrost(["write", "--api", t.http.url, "plc", "setpoint", "42.5"]);
  assertEquals(ok.code, 0, ok.err);
  assertEquals(ok.out.trim(), `wrote 42.5 to plc/setpoint through ${t.http.url} (was 20.5)`);
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.5);

  const high = await bifrost(["write", "--api", t.http.url, "plc", "setpoint", "150"]);
  assertEquals(high.code, 1);
  assertMatch(
    high.err,
    /answered 400: Cannot write 150 to "setpoint" on "plc": the tag takes 0\.\.100/,
  );
  const ro = await bifrost(["write", "--api", t.http.url, "plc", "pressure", "-3"]);
  assertEquals(ro.code, 1);
  assertMatch(ro.err, /answered 403: .*pressure.*not writable/);
  assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.5);

  const audit = (await call(`${t.api}/audit`)).body.entries as Record<string, unknown>[];
  assertEquals(audit.map((e) => [e.who, e.tag, e.newValue, e.result]), [
    ["local", "pressure", "-3", "WRITE_REJECTED"],
    ["local", "setpoint", "150", "WRITE_REJECTED"],
    ["local", "setpoint", 42.5, "ok"],
  ]);

  const read = await bifrost(["read", "--api", t.http.url, "plc", "pressure"]);
  assertEquals(read.code, 0, read.err);
  assertEquals(read.out.trim(), "1234");
  const usage = await bifrost(["write", "--api", t.http.url, "plc"]);
  assertEquals(usage.code, 2);
  assertMatch(usage.err, /Missing the device and tag names/);
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const free = `http://127.0.0.1:${l.addr.port}`;
  l.close();
  const down = await bifrost(["write", "--api", free, "plc", "mode", "1"]);
  assertEquals(down.code, 1);
  assertEquals(
    down.err.trim(),
    `No gateway answers at ${free}: connection refused (is \`bifrost run\` running? see --api)`,
  );
});

Deno.test("bifrost write --api sends its token (--token or BIFROST_TOKEN); the audit names it", async () => {
  const tokensEnv = JSON.stringify({
    tokens: [{ id: "shift-lead", sha256: hex("lead-secret"), scopes: ["write"] }],
  });
  await using t = await startTestGateway({ tokensEnv });
  const anonymous = await bifrost(["write", "--api", t.http.url, "plc", "mode", "3"]);
  assertEquals(anonymous.code, 1);
  assertMatch(anonymous.err, /answered 401: Missing API token/);
  const w = await bifrost(["write", "--api", t.http.url, "plc", "mode", "3"], {
    BIFROST_TOKEN: "lead-secret",
  });
  assertEquals(w.code, 0, w.err);
  assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 3);
  const flag = await bifrost([
    "write",
    "--api",
    t.http.url,
    "--token",
    "lead-secret",
    "plc",
    "mode",
    "4",
  ]);
  assertEquals(flag.code, 0, flag.err);
  const audit = await call(`${t.api}/audit`, { token: "lead-secret" });
  assertEquals(audit.status, 403, "the audit needs admin");
  assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 4);
});
