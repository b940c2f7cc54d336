/**
 * @module
 * The command line's driver tools and its answers to bad input, run as a subprocess:
 * `read|write|browse <url>` by scheme, `discover|sim <name>` by name, the help listing what
 * the installed drivers offer, and one line plus the usage (exit 2) for every bad argument.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { bifrost } from "./_cli.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";

Deno.test("every command answers an unknown option with one line and its usage, exit 2", async () => {
  const cases = [
    ["run", "flows/", "--bogus"],
    ["check", "flows/", "--bogus"],
    ["plan", "flows/", "--bogus"],
    ["read", "modbus://127.0.0.1/1/HR0", "--bogus"],
    ["write", "modbus://127.0.0.1/1/HR0", "1", "--bogus"],
    ["browse", "modbus://127.0.0.1", "--bogus"],
    ["discover", "modbus", "--host", "127.0.0.1", "--bogus", "1"],
    ["sim", "modbus", "--bogus", "1"],
    ["read", "modbus://127.0.0.1/1/HR0", "--timeout"],
    ["browse", "modbus://127.0.0.1", "--depth", "deep"],
    ["schema", "extra"],
  ];
  const results = await Promise.all(cases.map((c) => bifrost(c)));
  for (const [i, r] of results.entries()) {
    const what = cases[i]!.join(" ");
    assertEquals(r.code, 2, `${what}: ${r.err}`);
    const lines = r.err.trim().split("\n");
    assert(!/\bat \S+:\d+:\d+/.test(r.err), `${what} printed a stack trace: ${r.err}`);
    assert(
      /^(Unknown option|Option|Cannot|Unexpected argument)/.test(lines[0]!),
      `${what}: ${r.err}`,
    );
    assert(/^Usage: bifrost /.test(lines[1] ?? ""), `${what}: ${r.err}`);
  }
});

Deno.test("bifrost read of a refused connection fails at once with one line", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const r = await bifrost(["read", `modbus://127.0.0.1:${port}/1/HR0`]);
  assertEquals(r.code, 1);
  assertEquals(r.err.trim().split("\n").length, 1, r.err);
  assertMatch(r.err, /Cannot connect to 127\.0\.0\.1:\d+: Connection refused/);
  // The engine's backoff would retry until --timeout (5 s): a one-shot read does not.
  assert(r.ms < 4000, `took ${r.ms} ms`);
});

Deno.test("URLs and names no installed driver handles get one line naming those that exist", async () => {
  const [scheme, sim, discover, browse] = await Promise.all([
    bifrost(["read", "s7://127.0.0.1/DB1.DBW0"]),
    bifrost(["sim", "knx"]),
    bifrost(["discover", "eip"]),
    bifrost(["browse", "modbus-rtu:///dev/ttyUSB0"]),
  ]);
  assertEquals(scheme.code, 1);
  assertMatch(scheme.err, /no installed driver handles s7:\/\/; supported are modbus:\/\//);
  assertEquals(sim.code, 1);
  assertMatch(
    sim.err,
    /^Unknown driver "knx": drivers with a simulator are modbus, ethernet-ip, opcua, bacnet or netem\n$/,
  );
  assertEquals(discover.code, 1);
  assertMatch(
    discover.err,
    /^Unknown driver "eip": drivers with discover are modbus, ethernet-ip, opcua or bacnet\n$/,
  );
  assertEquals(browse.code, 1);
  assertMatch(browse.err, /^Cannot browse "modbus-rtu:\/\/\/dev\/ttyUSB0": browsing works over/);
});

Deno.test("bifrost --help lists what the installed drivers offer", async () => {
  const r = await bifrost(["--help"]);
  assertEquals(r.code, 0);
  assertMatch(r.out, /browse <url> \[--depth 2\]/);
  assertMatch(r.out, /modbus \(drivers modbus-tcp, modbus-rtu, modbus-rtu-tcp\)/);
  assertMatch(r.out, /URLs: +modbus:\/\/host:502/);
  assertMatch(r.out, /offers: +browse, discover modbus, sim modbus/);
});

Deno.test("bifrost browse writes a flow that bifrost check accepts, with and without a candidate", async () => {
  await using sim = await startModbusSimulator({
    units: {
      1: { HR0: { type: "float32", value: 21.5 }, HR10: { value: 1234 }, C3: { value: true } },
    },
  });
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "new.yaml");
    const url = `modbus://127.0.0.1:${sim.port}?units=1-3&registers=0-99`;
    const r = await bifrost(["browse", url, "--out", out]);
    assertEquals(r.code, 0, r.err);
    assertMatch(r.out, /^Wrote .*new\.yaml: 1 device\(s\), 1 tag\(s\), \d+ commented candidate/);
    const yaml = await Deno.readTextFile(out);
    assertMatch(yaml, /^ {6}hr0: \{ address: HR0, type: float32 \}$/m);
    assertMatch(yaml, /^ {6}# hr10: \{ address: HR10, type: uint16 \} {2}# 1234 \(0x04D2\)$/m);
    const asIs = await bifrost(["check", dir]);
    assertEquals(asIs.code, 0, asIs.out + asIs.err);
    // Uncomment every candidate and the poll: still a valid flow.
    const uncommented = yaml.split("\n").map((l) =>
      l.replace(/^( *)# (\w+: \{ address)/, "$1$2").replace(/^# (polls:| {2})/, "$1")
    );
    await Deno.writeTextFile(out, uncommented.join("\n"));
    const edited = await bifrost(["check", dir]);
    assertEquals(edited.code, 0, edited.out + edited.err + (await Deno.readTextFile(out)));
    const again = await bifrost(["browse", url, "--out", out]);
    assertEquals(again.code, 1);
    assertMatch(
      again.err,
      /Cannot write .*new\.yaml: the file exists \(use --force to replace it\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
