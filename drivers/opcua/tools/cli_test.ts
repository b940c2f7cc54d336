/**
 * @module
 * The OPC UA tools through the `bifrost` command line, as a technician runs them against the
 * simulator: `read`/`write` of `opc.tcp://` URLs with the NodeId after `#`, `browse` writing
 * a flow that `check` accepts, `discover opcua` through FindServers, and the trust store
 * commands.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { bifrost } from "../../../tests/_cli.ts";
import { startOpcuaSimulator } from "../simulator/server.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-cli-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));

Deno.test("bifrost read and write opc.tcp:// URLs, the NodeId after #, options in the query", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  // Generous connect time-outs: the CLI loads node-opcua and makes its certificate on a loaded
  // machine (the default 5 s was seen to run out in the parallel suite).
  const url = (node: string, q = "") => `${sim.endpoint}?pki=${pki}&timeout=30s${q}#${node}`;
  let r = await bifrost(["read", url("ns=1;s=Demo.Setpoint"), "--timeout", "30s"]);
  assertEquals([r.code, r.out.trim().split("\n").at(-1)], [0, "20"], r.err);
  r = await bifrost(["write", url("ns=1;s=Demo.Setpoint"), "21.5", "--timeout", "30s"]);
  assertEquals(r.code, 0, r.err);
  assertEquals(sim.getValue("Demo.Setpoint"), 21.5);
  r = await bifrost([
    "read",
    `${sim.endpoint}#/Objects/Demo/Setpoint?type=Double&timeout=30s&pki=${pki}`,
    "--timeout",
    "30s",
  ]);
  assertEquals([r.code, r.out.trim().split("\n").at(-1)], [0, "21.5"], r.err);
  r = await bifrost(["read", url("ns=1;s=Demo.Static.Int32Array"), "--timeout", "30s"]);
  assertEquals(r.out.trim().split("\n").at(-1), "[1,2,3,4]", r.err);
  r = await bifrost(["write", url("ns=1;s=Demo.ReadOnly"), "1", "--timeout", "30s"]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /not writable/);
  r = await bifrost(["read", url("ns=1;s=Nope"), "--timeout", "30s"]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /BadNodeIdUnknown \(0x80340000\)/);
  r = await bifrost(["read", `${sim.endpoint}?security=Loud#ns=1;s=x`, "--timeout", "30s"]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /Cannot parse OPC UA URL .*security must be None, Sign, SignAndEncrypt/);
});

Deno.test("bifrost browse opc.tcp:// writes a flow that bifrost check accepts", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "plc.yaml");
    const r = await bifrost([
      "browse",
      `${sim.endpoint}?pki=${pki}&timeout=30s`,
      "--depth",
      "3",
      "--out",
      file,
    ]);
    assertEquals(r.code, 0, r.err);
    const text = await Deno.readTextFile(file);
    assertMatch(text, /driver: opcua/);
    assertMatch(
      text,
      /Demo.Static.Double: \{ address: "?ns=1;s=Demo.Static.Double"?, type: Double, writable: true \}/,
    );
    assertMatch(
      text,
      /Demo.Static.Int64Array: \{ address: "?ns=1;s=Demo.Static.Int64Array"?, type: "Int64\[\]", writable: true \}/,
    );
    assertMatch(text, /Demo.ReadOnly: \{ address: "?ns=1;s=Demo.ReadOnly"?, type: Double \}/);
    await Deno.writeTextFile(file, text.replace(/^# (polls:| {2}| {4})/gm, "$1"));
    const c = await bifrost(["check", dir]);
    assertEquals(c.code, 0, c.out + c.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bifrost discover opcua lists the server and its endpoints through FindServers", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const r = await bifrost(["discover", "opcua", sim.endpoint, "--timeout", "30s"]);
  assertEquals(r.code, 0, r.err);
  assertMatch(r.out, /opc\.tcp:\/\//);
  assertMatch(r.out, /SignAndEncrypt Basic256Sha256/);
  assertMatch(
    r.out,
    /Bifrost OPC UA simulator[^]*None None users: UserName, Certificate, Anonymous/,
  );
  const none = await bifrost(["discover", "opcua", "opc.tcp://127.0.0.1:1", "--timeout", "2s"]);
  assertEquals(none.code, 1);
  assertMatch(none.err, /Cannot discover OPC UA servers at opc\.tcp:\/\/127\.0\.0\.1:1/);
});

Deno.test("bifrost opcua list|trust|reject manage the trust store; unknown subcommands say what exists", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let r = await bifrost(["opcua", "list", "--pki", dir]);
    assertEquals(r.code, 0, r.err);
    assertMatch(r.out, /No server certificate/);
    r = await bifrost(["opcua", "trust", "abcdef", "--pki", dir]);
    assertEquals(r.code, 1);
    assertMatch(r.err, /No rejected certificate .* has thumbprint abcdef/);
    r = await bifrost(["opcua", "frobnicate"]);
    assertEquals(r.code, 2);
    assertMatch(r.err, /Unknown command "frobnicate" of opcua: known are list, trust, reject/);
    const help = await bifrost(["--help"]);
    assert(help.out.includes("opcua list|trust|reject"), help.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
