import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import { formatIssue, type YamlSource } from "./positions.ts";
import { testSources } from "./_test_sources.ts";
import { validateFlowSchema } from "./validate.ts";

function check(
  text: string,
  substituted = new Map<string, string>(),
): { lines: string[]; data: unknown } {
  const lineCounter = new LineCounter();
  const src: YamlSource = {
    file: "f.yaml",
    text,
    doc: parseDocument(text, { lineCounter }),
    lineCounter,
  };
  const data = src.doc.toJS();
  return { lines: validateFlowSchema(src, data, testSources, substituted).map(formatIssue), data };
}

const DEVICE = "devices:\n  plc:\n    driver: fake-tcp\n";

Deno.test("validateFlowSchema() names an unknown field and suggests the right one", () => {
  const { lines } = check(DEVICE + "    hots: a\n    tags: {}\n");
  assert.deepEqual(lines, [
    'f.yaml:2:3 error: device "plc" is missing required field "host"',
    'f.yaml:4:5 error: unknown field "hots" in device "plc" (did you mean "host"?)',
  ]);
});

Deno.test("validateFlowSchema() reports a wrong type with the value seen", () => {
  const { lines } = check(DEVICE + "    host: a\n    port: abc\n    tags: {}\n");
  assert.deepEqual(lines, ['f.yaml:5:11 error: "port" must be an integer, got "abc"']);
});

Deno.test("validateFlowSchema() shows an environment reference, not its value", () => {
  const text = DEVICE + "    host: a\n    port: s3cret\n    tags: {}\n";
  const { lines } = check(text, new Map([["/devices/plc/port", "${PORT}"]]));
  assert.deepEqual(lines, [
    'f.yaml:5:11 error: "port" must be an integer, got the value of ${PORT}',
  ]);
});

Deno.test("validateFlowSchema() suggests the closest driver when the driver is unknown", () => {
  const { lines } = check("devices:\n  plc:\n    driver: fake-tpc\n    tags: {}\n");
  assert.deepEqual(lines, [
    'f.yaml:3:13 error: unknown driver "fake-tpc" (did you mean "fake-tcp"?)',
  ]);
});

Deno.test("validateFlowSchema() folds alternatives into one message", () => {
  const text =
    "polls:\n  p:\n    device: plc\n    tags: all\n  q:\n    device: plc\n    tags: [a]\n    every: 1s\n    cron: '* * * * * *'\nsteps:\n  s: { use: scale, from: 5 }\n";
  assert.deepEqual(check(text).lines, [
    'f.yaml:2:3 error: poll "p" needs "every", "cron" or "subscribe"',
    'f.yaml:4:11 error: "tags" must be "*" or a list, got "all"',
    'f.yaml:5:3 error: poll "q" has both "every" and "cron": use only one',
    'f.yaml:11:26 error: "from" must be a string or a list, got 5',
  ]);
});

Deno.test("validateFlowSchema() reports the inner error of the alternative that applies", () => {
  const { lines } = check("steps:\n  s: { use: scale, from: [a, 'b c'] }\n");
  assert.deepEqual(lines, [
    'f.yaml:2:30 error: "from[1]" must be a name (names start with a letter or "_" and use only letters, digits, "_", "." and "-"), got "b c"',
  ]);
});

Deno.test("validateFlowSchema() reports invalid names and unknown sections", () => {
  const { lines } = check(
    DEVICE.replace("plc", "my plc") + "    host: a\n    tags: {}\ndevice: {}\n",
  );
  assert.deepEqual(lines, [
    'f.yaml:2:3 error: invalid device name "my plc": names start with a letter or "_" and use only letters, digits, "_", "." and "-"',
    'f.yaml:6:1 error: unknown section "device" (did you mean "devices"?)',
  ]);
});

Deno.test("validateFlowSchema() applies defaults in place", () => {
  const { lines, data } = check(DEVICE + "    host: a\n    tags:\n      t: { address: HR1 }\n");
  assert.deepEqual(lines, []);
  assert.deepEqual((data as { devices: unknown }).devices, {
    plc: {
      driver: "fake-tcp",
      host: "a",
      port: 502,
      timeout: "1s",
      tags: { t: { address: "HR1", type: "int16", writable: false } },
    },
  });
});

Deno.test("validateFlowSchema() suggests a close enum value and checks bounds", () => {
  const text = DEVICE +
    "    host: a\n    port: 70000\n    tags:\n      t: { address: HR1, type: flaot32 }\nsinks:\n  c: { use: console, from: x, format: jsn }\n";
  assert.deepEqual(check(text).lines, [
    'f.yaml:5:11 error: "port" must be at most 65535, got 70000',
    'f.yaml:7:32 error: "type" must be "int16" or "float32", got "flaot32" (did you mean "float32"?)',
    'f.yaml:9:39 error: "format" must be "text" or "json", got "jsn" (did you mean "json"?)',
  ]);
});

Deno.test("validateFlowSchema() explains an empty registry", () => {
  const lineCounter = new LineCounter();
  const text = "sinks:\n  out: { use: console, from: x }\n";
  const src: YamlSource = {
    file: "f.yaml",
    text,
    doc: parseDocument(text, { lineCounter }),
    lineCounter,
  };
  const issues = validateFlowSchema(src, src.doc.toJS(), { ...testSources, sinks: [] });
  assert.deepEqual(issues.map(formatIssue), [
    'f.yaml:2:3 error: sink "out" cannot be used: no sink types are registered',
  ]);
});

Deno.test("validateFlowSchema() lists the drivers when nothing is close", () => {
  const { lines } = check("devices:\n  plc:\n    driver: opcua\n    tags: {}\n");
  assert.deepEqual(lines, [
    'f.yaml:3:13 error: unknown driver "opcua" (expected one of: fake-tcp)',
  ]);
});

Deno.test("an error on each of 10,000 tags is reported for each, with its line", async () => {
  // Each bad tag is a composite (oneOf) error: folding scanned every error per composite, and
  // locating scanned the tags map per issue. 4,000 bad tags took minutes; now a second or two.
  const { loadFlows } = await import("../../app/registries.ts");
  const dir = await Deno.makeTempDir();
  try {
    const tags = Array.from(
      { length: 10_000 },
      (_, i) => `      t${i}: { address: HR${i}, type: ${i % 2 ? "int17" : "int16"} }`,
    );
    const text = `devices:\n  plc:\n    driver: modbus-tcp\n    host: h\n    tags:\n${
      tags.join("\n")
    }\n`;
    await Deno.writeTextFile(`${dir}/a.yaml`, text);
    // Its time (linear in the tags) is measured by `deno task bench:validate`, not here.
    const r = await loadFlows(dir);
    assert.equal(r.errors.length, 5_000);
    assert.equal(r.errors[0]!.line, 7);
    assert.equal(r.errors.at(-1)!.line, 10_005);
    assert.match(r.errors[0]!.message, /^"type" must be "bool", "int16", .* got "int17"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
