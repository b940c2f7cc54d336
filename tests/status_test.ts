/**
 * @module
 * `bifrost status` against a running gateway's API, and `bifrost run`'s refusals of an
 * HTTP setup it cannot serve (one line, exit code 1), run as a user does (subprocesses).
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { bifrost } from "./_cli.ts";
import { freePort } from "./fixtures/net.ts";
import { startTestGateway } from "../app/http/_test_gateway.ts";

Deno.test("bifrost status prints the devices, polls and sinks of a running gateway", async () => {
  await using t = await startTestGateway();
  const r = await bifrost(["status", "--url", t.http.url]);
  assertEquals(r.code, 0, r.err);
  assertMatch(r.out, /^DEVICE\s+DRIVER\s+STATE/m);
  assertMatch(r.out, /^plc\s+modbus-tcp\s+connected\s+\d+s\s+[\d.]+ms/m);
  assertMatch(r.out, /^fast\s+\d+\s+\d+\s+\d+ms$/m);
  assertMatch(r.out, /^history\s+sqlite\s+\d+/m);
  const j = await bifrost(["status", "--url", t.http.url, "--json"]);
  assertEquals(j.code, 0, j.err);
  const doc = JSON.parse(j.out);
  assertEquals([doc.devices[0].name, Object.keys(doc.polls), Object.keys(doc.sinks)], [
    "plc",
    ["fast"],
    ["history"],
  ]);
});

Deno.test("bifrost status says in one line that no gateway answers, exit 1", async () => {
  const port = await freePort();
  const r = await bifrost(["status", "--url", `http://127.0.0.1:${port}`]);
  assertEquals(r.code, 1);
  assertEquals(r.out, "");
  assertMatch(r.err.trim(), /^No gateway answers at http:\/\/127\.0\.0\.1:\d+: connection refused/);
  assertEquals(r.err.trim().split("\n").length, 1, r.err);
});

Deno.test("bifrost run refuses a non-loopback address without tokens and a port in use, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: 1
    tags:
      a: { address: HR0, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: 1s }
`,
    );
    const open = await bifrost(["run", dir, "--data-dir", dir, "--http", "0.0.0.0:0"]);
    assertEquals(open.code, 1, open.err);
    assertMatch(open.err, /Cannot serve the API on 0\.0\.0\.0:0 without API tokens/);
    assert(!/Gateway started/.test(open.err), open.err);
    const port = busy.addr.port;
    const taken = await bifrost(["run", dir, "--data-dir", dir, "--http", `127.0.0.1:${port}`]);
    assertEquals(taken.code, 1, taken.err);
    assertMatch(
      taken.err,
      new RegExp(`Cannot serve the API on 127\\.0\\.0\\.1:${port}: the address is in use`),
    );
    const bad = await bifrost(["run", dir, "--http", "nowhere"]);
    assertEquals(bad.code, 2);
    assertMatch(bad.err, /Cannot use --http "nowhere": expected HOST:PORT/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
