/**
 * @module
 * `POST /api/v1/check` against a real gateway: the same issues `bifrost check --json` gives
 * (line, column, did-you-mean) for the files as sent, function files beside the flows checked,
 * bad paths and bodies refused with the field named, a `read` token enough, and no temporary
 * directory left behind.
 */

import { assert, assertEquals, assertMatch } from "../../tests/_assert.ts";
import { hashToken } from "./auth.ts";
import { call, startTestGateway } from "./_test_gateway.ts";
import { checkedPath, suggestionOf } from "./routes_check.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

const TOKENS = JSON.stringify({
  tokens: [{ id: "viewer", sha256: hex("view-secret"), scopes: ["read"] }],
});

const FLOW = `devices:
  plc:
    driver: modbus-tcp
    hots: 127.0.0.1
    tags:
      t1: { address: HR0, type: int16 }
polls:
  p: { device: plc, tags: [t2], every: 1s }
`;

async function checkDirs(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(Deno.env.get("TMPDIR") ?? "/tmp")) {
    if (e.name.startsWith("bifrost-check-")) out.push(e.name);
  }
  return out;
}

Deno.test("POST /check answers bifrost check's issues at their line and column, with did-you-mean", async () => {
  await using t = await startTestGateway({ tokensEnv: TOKENS });
  const before = await checkDirs();
  const denied = await call(`${t.api}/check`, { body: { files: { "a.yaml": FLOW } } });
  assertEquals(denied.status, 401);
  const r = await call(`${t.api}/check`, {
    body: { files: { "boiler.yaml": FLOW } },
    token: "view-secret",
  });
  assertEquals(r.status, 200, JSON.stringify(r.body));
  assertEquals(r.body.ok, false);
  const brief = r.body.errors.map((i: Record<string, unknown>) => [
    i.file,
    i.line,
    i.column,
    i.severity,
    i.suggestion ?? null,
  ]);
  assertEquals(brief, [
    ["boiler.yaml", 2, 3, "error", null],
    ["boiler.yaml", 4, 5, "error", "host"],
    ["boiler.yaml", 8, 28, "error", "t1"],
  ]);
  assertMatch(
    r.body.errors[1].message,
    /unknown field "hots" in device "plc" \(did you mean "host"\?\)/,
  );
  assertEquals(r.body.errors[1].path, "/devices/plc/hots");
  assertEquals(r.body.warnings.length, 1);
  assertMatch(r.body.warnings[0].message, /poll "p" is not read by any step or sink/);
  // Nothing of the temporary directory shows, and nothing of it stays.
  assert(!JSON.stringify(r.body).includes("bifrost-check-"), JSON.stringify(r.body));
  assertEquals(await checkDirs(), before);
});

Deno.test("POST /check reads the function files sent beside the flows, across files", async () => {
  await using t = await startTestGateway();
  const flow = `devices:
  plc: { driver: modbus-tcp, host: 127.0.0.1, tags: { t1: { address: HR0, type: int16 } } }
polls:
  p: { device: plc, tags: [t1], every: 1s }
steps:
  scaled: { use: function, from: p, file: ../functions/scale.ts }
  missing: { use: function, from: p, file: functions/nope.ts }
`;
  const sinks = "sinks:\n  out: { use: console, from: [scaled, missing, scaledd] }\n";
  const fn = "export default function (records: unknown[]): unknown[] {\n  return records;\n}\n";
  const r = await call(`${t.api}/check`, {
    body: { files: { "a.yaml": flow, "b.yml": sinks, "../functions/scale.ts": fn } },
  });
  assertEquals(r.status, 200, JSON.stringify(r.body));
  const errors = r.body.errors as { file: string; line: number; message: string }[];
  assertEquals(
    errors.map((e) => [e.file, e.line]),
    [["a.yaml", 7], ["b.yml", 2]],
    JSON.stringify(errors),
  );
  assertMatch(errors[0]!.message, /Function file "functions\/nope.ts" does not exist/);
  assertMatch(errors[1]!.message, /scaledd/);
  assert(!JSON.stringify(r.body).includes("bifrost-check-"), JSON.stringify(r.body));

  const ok = await call(`${t.api}/check`, {
    body: {
      files: {
        "a.yaml": flow.replace(/ {2}missing.*\n/, ""),
        "b.yml": sinks.replace(", missing, scaledd", ""),
        "../functions/scale.ts": fn,
      },
    },
  });
  assertEquals([ok.status, ok.body.ok, ok.body.errors], [200, true, []]);
});

Deno.test("POST /check refuses bad paths and bodies, naming the field", async () => {
  await using t = await startTestGateway();
  const cases: [unknown, number, RegExp][] = [
    [{ files: {} }, 400, /No files/],
    [{}, 400, /files/],
    [{ files: { "a.yaml": 3 } }, 400, /files/],
    [{ files: { "/etc/x.yaml": "" } }, 400, /Invalid file path "\/etc\/x.yaml".*relative/],
    [{ files: { "a/../../b.yaml": "" } }, 400, /'\.\.' only at its start/],
    [{ files: { "../../../../../x.ts": "", "a.yaml": "" } }, 400, /at most 4/],
    [{ files: { "notes.txt": "" } }, 400, /must be a flow file/],
    [{ files: { "functions/x.ts": "" } }, 400, /No flow file/],
  ];
  for (const [body, status, re] of cases) {
    const r = await call(`${t.api}/check`, { body });
    assertEquals(r.status, status, JSON.stringify([body, r.body]));
    assertMatch(r.body.error.message, re);
  }
  const big = await call(`${t.api}/check`, {
    body: { files: { "a.yaml": "#".repeat(1_100_000) } },
  });
  assertEquals(big.status, 413);
  const doc = await call(`${t.api}/openapi.json`);
  assertEquals(doc.body.paths["/api/v1/check"].post.description, "Needs scope `read`.");
});

Deno.test("checkedPath and suggestionOf", () => {
  assertEquals(checkedPath("./a.yaml"), { up: 0, segments: ["a.yaml"] });
  assertEquals(checkedPath("../../fn/x.ts"), { up: 2, segments: ["fn", "x.ts"] });
  assertEquals(suggestionOf('unknown tag "t2" (did you mean "t1"?)'), "t1");
  assertEquals(suggestionOf("no suggestion"), undefined);
});

Deno.test("POST /check leaks none of the gateway's environment: functions run without permissions", async () => {
  await using t = await startTestGateway();
  Deno.env.set("BIFROST_CHECK_LEAK", "s3cr3t-value-42");
  try {
    const flow = `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: \${BIFROST_CHECK_LEAK}
    tags: { t1: { address: HR0, type: int16 } }
polls:
  p: { device: plc, tags: [t1], every: 1s }
steps:
  probe: { use: function, from: p, file: functions/probe.ts }
sinks:
  out: { use: console, from: probe }
`;
    const probe = `const v = Deno.env.get("BIFROST_CHECK_LEAK");
throw new Error("leaked " + v);
export default function (r: unknown[]): unknown[] {
  return r;
}
`;
    const r = await call(`${t.api}/check`, {
      body: { files: { "a.yaml": flow, "functions/probe.ts": probe } },
    });
    assertEquals(r.status, 200, JSON.stringify(r.body));
    const text = JSON.stringify(r.body);
    assert(!text.includes("s3cr3t-value-42"), text);
    const messages = r.body.errors.map((e: { message: string }) => e.message).join("\n");
    // The port's error names the reference; the function could not read the variable.
    assertMatch(messages, /\$\{BIFROST_CHECK_LEAK\}/);
    assertMatch(messages, /NotCapable: Requires env access to "BIFROST_CHECK_LEAK"/);
  } finally {
    Deno.env.delete("BIFROST_CHECK_LEAK");
  }
});
