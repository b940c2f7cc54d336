/**
 * @module
 * The check on save over a gateway: where it runs (gateway or command line), what is sent
 * (flow files and the function files they name) and how the answer lands on the files; and,
 * against a real gateway process, that the gateway's answer is the command line's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CheckIssue, parseCheckJson } from "./check.ts";
import {
  type CheckReader,
  chooseCheckRoute,
  collectCheckFiles,
  fallsBackToCli,
  functionFiles,
  functionKey,
  issuesFromGateway,
  joinPath,
} from "./check_source.ts";
import { GatewayClient, GatewayError } from "./gateway.ts";
import { plantFlow, ROOT, startGatewayProcess } from "../../test/_gateway.ts";

Deno.test("chooseCheckRoute(): the first connected gateway, a named one, or the command line", () => {
  const gws = [
    { name: "a", state: "unreachable" },
    { name: "b", state: "connected" },
    { name: "c", state: "connected" },
  ];
  assert.deepEqual(chooseCheckRoute("auto", gws), {
    kind: "gateway",
    name: "b",
  });
  assert.deepEqual(chooseCheckRoute("", gws), { kind: "gateway", name: "b" });
  assert.deepEqual(chooseCheckRoute("c", gws), { kind: "gateway", name: "c" });
  assert.deepEqual(chooseCheckRoute("cli", gws), {
    kind: "cli",
    why: "bifrost.checkWith is cli",
  });
  assert.deepEqual(chooseCheckRoute("a", gws), {
    kind: "cli",
    why: 'gateway "a" is unreachable',
  });
  assert.deepEqual(chooseCheckRoute("z", gws), {
    kind: "cli",
    why: 'no gateway named "z" (bifrost.checkWith)',
  });
  assert.deepEqual(chooseCheckRoute("auto", [gws[0]!]), {
    kind: "cli",
    why: "no gateway connected",
  });
  assert.deepEqual(chooseCheckRoute("auto", []), {
    kind: "cli",
    why: "no gateway configured",
  });
});

Deno.test("fallsBackToCli(): unreachable, no route, too large, busy or broken; not refusals", () => {
  assert.deepEqual([0, 404, 413, 500, 503].map(fallsBackToCli), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 403].map(fallsBackToCli), [false, false, false]);
});

Deno.test("functionFiles(), functionKey() and joinPath()", () => {
  const flow = `steps:
  a: { use: function, from: p, file: functions/a.ts }
  b: { use: scale, from: p }
triggers:
  t: { use: function, file: "../functions/t.ts" }
sinks: { s: { use: file, file: out.txt } }
`;
  assert.deepEqual(functionFiles(flow), [
    "functions/a.ts",
    "../functions/t.ts",
  ]);
  assert.deepEqual(functionFiles("steps: [1, 2"), []);
  assert.equal(functionKey("./functions\\a.ts"), "functions/a.ts");
  assert.equal(functionKey("../../f/x.ts"), "../../f/x.ts");
  assert.equal(functionKey("/abs/x.ts"), undefined);
  assert.equal(functionKey("a/../../x.ts"), undefined);
  assert.equal(functionKey("../../../../../x.ts"), undefined);
  assert.equal(joinPath("/w/flows", "../functions/t.ts"), "/w/functions/t.ts");
  assert.equal(joinPath("C:\\w\\flows", "a.yaml"), "C:\\w\\flows\\a.yaml");
});

const diskReader: CheckReader = {
  async list(dir) {
    const out = [];
    for await (const e of Deno.readDir(dir)) if (e.isFile) out.push(e.name);
    return out;
  },
  read: (p) => Deno.readTextFile(p).catch(() => undefined),
};

Deno.test("collectCheckFiles() sends the flow files and the function files that exist", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "flows", "nested"), { recursive: true });
    await Deno.mkdir(join(dir, "functions"));
    await Deno.writeTextFile(
      join(dir, "flows", "a.yaml"),
      "steps:\n  f: { use: function, from: p, file: ../functions/f.ts }\n  g: { use: function, from: p, file: nope.ts }\n",
    );
    await Deno.writeTextFile(join(dir, "flows", "b.yml"), "polls: {}\n");
    await Deno.writeTextFile(join(dir, "flows", "notes.md"), "x");
    await Deno.writeTextFile(join(dir, "flows", "nested", "c.yaml"), "x: 1\n");
    await Deno.writeTextFile(
      join(dir, "functions", "f.ts"),
      "export default () => [];\n",
    );
    const files = await collectCheckFiles(join(dir, "flows"), diskReader);
    assert.deepEqual(Object.keys(files), [
      "a.yaml",
      "b.yml",
      "../functions/f.ts",
    ]);
    assert.equal(files["../functions/f.ts"], "export default () => [];\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issuesFromGateway() puts each issue on its file in the flow directory", () => {
  const answer = {
    ok: false,
    errors: [{
      file: "a.yaml",
      line: 3,
      column: 5,
      path: "/x",
      severity: "error",
      message: "m",
    }],
    warnings: [{
      file: "../f/x.ts",
      line: 1,
      column: 1,
      severity: "warning",
      message: "w",
    }],
  };
  assert.deepEqual(issuesFromGateway("/w/flows", answer), [
    {
      file: "/w/flows/a.yaml",
      line: 3,
      column: 5,
      path: "/x",
      severity: "error",
      message: "m",
    },
    {
      file: "/w/f/x.ts",
      line: 1,
      column: 1,
      severity: "warning",
      message: "w",
    },
  ]);
  assert.throws(
    () => issuesFromGateway("/w", { error: {} }),
    /without errors and warnings/,
  );
});

Deno.test("a gateway's check answers what the command line answers, on the same lines", async () => {
  await using gw = await startGatewayProcess({
    token: "s3cret-token",
    scopes: ["read"],
  });
  const typos = plantFlow(5020)
    .replace("    host: 127.0.0.1", "    hots: 127.0.0.1")
    .replace("tags: [level, pump]", "tags: [level, pmup]");
  const flows = join(gw.dir, "edited", "flows");
  await Deno.mkdir(flows, { recursive: true });
  await Deno.writeTextFile(join(flows, "plant.yaml"), typos);
  const files = await collectCheckFiles(flows, diskReader);
  const c = new GatewayClient({ url: gw.url, token: "s3cret-token" });
  const fromGateway = issuesFromGateway(flows, await c.check(files));
  const cli = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, "app/cli/main.ts"),
      "check",
      flows,
      "--json",
    ],
    stdout: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const fromCli = parseCheckJson(new TextDecoder().decode(cli.stdout));
  const brief = (l: CheckIssue[]) => l.map((i) => `${i.file}:${i.line}:${i.column} ${i.message}`);
  assert.deepEqual(brief(fromGateway), brief(fromCli));
  assert.ok(
    fromGateway.some((i) =>
      i.line === 6 && i.column === 5 && /did you mean "host"/.test(i.message)
    ),
    brief(fromGateway).join("\n"),
  );
  // A wrong token is the user's to see, not a reason to fall back.
  const wrong = new GatewayClient({ url: gw.url, token: "nope" });
  await assert.rejects(wrong.check(files), (e: GatewayError) => {
    assert.equal(fallsBackToCli(e.status), false);
    return true;
  });
});
