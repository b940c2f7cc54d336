import assert from "node:assert/strict";
import { relative } from "node:path";
import { configError, loadFlowsWith } from "./load.ts";
import { kindOf } from "../driver.ts";
import { formatIssue } from "./positions.ts";
import { loadFiles, testSources } from "./_test_sources.ts";

const DEVICES = `devices:
  plc:
    driver: fake-tcp
    host: \${PLC_HOST:-127.0.0.1}
    port: \${PLC_PORT}
    tags:
      temp1: { address: HR0, type: float32, unit: "°C", scale: { gain: 0.1 } }
      temp2: { address: HR2, writable: true }
    simulator:
      temp1: { generator: sine }
`;

const PIPELINE = `polls:
  fast: { device: plc, tags: [temp1], every: 500ms }
  slow: { device: plc, tags: "*", cron: "*/5 * * * * *" }
steps:
  f:
    use: scale
    from: fast
    gain: 1.8
sinks:
  out: { use: console, from: [f, slow], description: all }
`;

Deno.test("loadFlows() merges the files of a directory into one flow set", async () => {
  const r = await loadFiles({
    "a.yaml": DEVICES,
    "b.yml": PIPELINE,
    "notes.txt": "x",
    "sub/c.yaml": "x: [",
  }, {
    env: { PLC_PORT: "5020" },
  });
  assert.deepEqual(r.lines, []);
  const flows = r.flows!;
  assert.deepEqual(flows.files.map((f) => relative(r.dir, f)), ["a.yaml", "b.yml"]);
  const plc = flows.devices.get("plc")!;
  assert.deepEqual(plc.config, { host: "127.0.0.1", port: 5020, timeout: "1s" });
  assert.deepEqual(plc.origin, { file: `${r.dir}/a.yaml`, line: 2, column: 3 });
  assert.deepEqual(plc.simulator, { temp1: { generator: "sine" } });
  // FlowTag derives its named fields from `config`: compare its plain form.
  assert.deepEqual(JSON.parse(JSON.stringify(plc.tags.get("temp1"))), {
    name: "temp1",
    address: "HR0",
    type: "float32",
    unit: "°C",
    scale: { gain: 0.1, offset: 0 },
    writable: false,
    config: {
      address: "HR0",
      type: "float32",
      unit: "°C",
      scale: { gain: 0.1, offset: 0 },
      writable: false,
    },
  });
  assert.equal(plc.tags.get("temp2")!.type, "int16");
  // The driver's value kind, asked of it (not kept on the tag).
  assert.equal(kindOf(plc.tags.get("temp2")!, testSources.drivers[0]!), "integer");
  assert.equal(plc.tags.get("temp2")!.writable, true);
  assert.deepEqual(flows.polls.get("fast"), {
    name: "fast",
    device: "plc",
    tags: ["temp1"],
    everyMs: 500,
    origin: { file: `${r.dir}/b.yml`, line: 2, column: 3 },
  });
  assert.equal(flows.polls.get("slow")!.cron, "*/5 * * * * *");
  assert.equal(flows.polls.get("slow")!.tags, "*");
  assert.deepEqual(flows.steps.get("f")!.config, { gain: 1.8, offset: 0 });
  assert.deepEqual(flows.sinks.get("out")!.from, ["f", "slow"]);
  assert.deepEqual(flows.sinks.get("out")!.config, { format: "text" });
  assert.deepEqual(r.secrets, [], "a port is not a secret");
});

Deno.test("loadFlows() reports the errors of every layer and every file at once", async () => {
  const r = await loadFiles({
    "a.yaml": DEVICES.replace("host:", "hots:"),
    "b.yaml": "polls:\n  fast: { device: plc, tags: [temp1], every: 1s\n",
    "c.yaml": "steps:\n  s: { use: scale, from: nope }\n",
  }, { env: {} });
  assert.equal(r.flows, undefined);
  assert.deepEqual(r.lines, [
    'a.yaml:2:3 error: device "plc" is missing required field "host"',
    'a.yaml:4:5 error: unknown field "hots" in device "plc" (did you mean "host"?)',
    'a.yaml:5:11 error: environment variable "PLC_PORT" is not set (write ${PLC_PORT:-default} to give a default)',
    "b.yaml:3:1 error: invalid YAML: flow map in block collection must be sufficiently indented and end with a }",
    'c.yaml:2:26 error: unknown source "nope" in "from" of step "s"',
  ]);
});

Deno.test("loadFlows() never prints a value taken from the environment", async () => {
  const r = await loadFiles({
    "a.yaml": DEVICES.replace("driver: fake-tcp", "driver: ${secret:DRIVER}"),
    "b.yaml": PIPELINE,
  }, { env: { PLC_PORT: "hunter22", DRIVER: "sekrit-driver" } });
  assert.deepEqual(r.lines, [
    "a.yaml:3:13 error: unknown driver ${secret:DRIVER} (expected one of: fake-tcp)",
  ]);
  const typed = await loadFiles({ "a.yaml": DEVICES, "b.yaml": PIPELINE }, {
    env: { PLC_PORT: "hunter22" },
  });
  assert.deepEqual(typed.lines, [
    'a.yaml:5:11 error: "port" must be an integer, got the value of ${PLC_PORT}',
  ]);
  // Only the variable marked secret is redacted from logs; none is printed in errors.
  assert.deepEqual(r.secrets.sort(), ["sekrit-driver"]);
});

Deno.test("loadFlows() reports duplicate keys as YAML errors", async () => {
  const r = await loadFiles({ "a.yaml": "polls:\n  p: {}\n  p: {}\n" });
  assert.deepEqual(r.lines, ['a.yaml:3:3 error: duplicate key "p" (keys must be unique)']);
});

Deno.test("loadFlows() reports a missing directory, and warns of an empty one", async () => {
  const missing = await loadFlowsWith("/nonexistent/flows", testSources);
  assert.match(
    formatIssue(missing.errors[0]!),
    /^\/nonexistent\/flows:1:1 error: cannot read flow directory/,
  );
  const empty = await loadFiles({ "x.txt": "" });
  assert.equal(empty.errors.length, 0);
  assert.match(
    empty.lines[0]!,
    /:1:1 warning: the flow directory is empty: no \*\.yaml or \*\.yml files/,
  );
  assert.equal(empty.flows?.devices.size, 0);
});

Deno.test("loadFlows() keeps the directory as given in file names", async () => {
  const dir = await Deno.makeTempDir({ dir: ".", prefix: "_flows_" });
  try {
    await Deno.writeTextFile(
      `${dir}/a.yaml`,
      "polls: { p: { device: nope, tags: '*', every: 1s } }\n",
    );
    const given = relative(Deno.cwd(), dir);
    const r = await loadFlowsWith(given, testSources);
    assert.deepEqual(r.errors.map(formatIssue), [
      `${given}/a.yaml:1:23 error: unknown device "nope" in poll "p"`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFlows() asks for one YAML document per file", async () => {
  const r = await loadFiles({ "a.yaml": "polls: {}\n---\nsinks: {}\n" });
  assert.deepEqual(r.lines, [
    'a.yaml:2:1 error: a flow file holds one YAML document: remove the "---" separator or split the file',
  ]);
});

Deno.test("configError() lists every error and locates the first", () => {
  const issue = {
    file: "flows/a.yaml",
    line: 3,
    column: 5,
    path: "/x",
    message: "bad",
    severity: "error" as const,
  };
  const e = configError("flows", [issue, { ...issue, line: 4 }]);
  assert.equal(e.code, "CONFIG_INVALID");
  assert.equal(
    e.message,
    'Cannot load flows from "flows": 2 errors\nflows/a.yaml:3:5 error: bad\nflows/a.yaml:4:5 error: bad',
  );
  assert.deepEqual(e.location, { file: "flows/a.yaml", line: 3, column: 5, path: "/x" });
});
