import assert from "node:assert/strict";
import { loadFiles } from "./_test_sources.ts";

const DEVICE = `devices:
  plc:
    driver: fake-tcp
    host: 127.0.0.1
    tags:
      temp1: { address: HR0 }
      temp2: { address: HR2 }
      pressure: { address: HR4 }
`;

function flow(rest: string): Record<string, string> {
  return { "devices.yaml": DEVICE, "flow.yaml": rest };
}

Deno.test("names are global: a duplicate names both places", async () => {
  const r = await loadFiles(
    flow(
      "polls:\n  plc: { device: plc, tags: '*', every: 1s }\n  p2: { device: plc, tags: '*', every: 1s }\nsinks:\n  c: { use: console, from: p2 }\n",
    ),
  );
  assert.deepEqual(r.lines, [
    `flow.yaml:2:3 error: duplicate name "plc": poll here, device at ${r.dir}/devices.yaml:2:3 (names are shared by devices, polls, steps and sinks)`,
  ]);
});

Deno.test("polls must name an existing device and its tags", async () => {
  const r = await loadFiles(flow(`polls:
  a: { device: plcc, tags: [temp1], every: 1s }
  b: { device: plc, tags: [tmep1, pressure, bogus], every: 1s }
sinks:
  c: { use: console, from: [a, b] }
`));
  assert.deepEqual(r.lines, [
    'flow.yaml:2:16 error: unknown device "plcc" in poll "a" (did you mean "plc"?)',
    'flow.yaml:3:28 error: unknown tag "tmep1" on device "plc" (did you mean "temp1"?)',
    'flow.yaml:3:45 error: unknown tag "bogus" on device "plc"',
  ]);
});

Deno.test("intervals: at least 10ms, and no shorter than the driver can sustain", async () => {
  const r = await loadFiles(flow(`polls:
  a: { device: plc, tags: [temp1], every: 5ms }
  b: { device: plc, tags: "*", every: 50ms }
  c: { device: plc, tags: "*", every: 60ms }
sinks:
  s: { use: console, from: plc }
`));
  assert.deepEqual(r.lines, [
    'flow.yaml:2:43 error: "every" must be at least 10ms, got "5ms"',
    'flow.yaml:3:39 error: device "plc" cannot sustain polling 3 tags every 50ms: it needs at least 60ms',
  ]);
});

Deno.test("cron expressions need 6 valid fields", async () => {
  const r = await loadFiles(flow(`polls:
  a: { device: plc, tags: "*", cron: "*/5 * * * *" }
  b: { device: plc, tags: "*", cron: "*/5 * * 99 * *" }
  c: { device: plc, tags: "*", cron: "0 */5 * * * *" }
sinks:
  s: { use: console, from: plc }
`));
  assert.equal(r.lines.length, 2);
  assert.equal(
    r.lines[0],
    'flow.yaml:2:38 error: invalid cron "*/5 * * * *": expected 6 fields (second minute hour day month weekday), got 5',
  );
  assert.match(r.lines[1]!, /^flow\.yaml:3:38 error: invalid cron "\*\/5 \* \* 99 \* \*": /);
});

Deno.test("from: sources must exist, must not be sinks, and must not form cycles", async () => {
  const r = await loadFiles(flow(`polls:
  fast: { device: plc, tags: "*", every: 1s }
steps:
  a: { use: scale, from: [fast, c] }
  b: { use: scale, from: a }
  c: { use: scale, from: [b, fats] }
  d: { use: scale, from: out }
  e: { use: scale, from: e }
sinks:
  out: { use: console, from: [c, d] }
  out2: { use: console, from: out }
`));
  assert.deepEqual(r.lines, [
    "flow.yaml:4:33 error: cycle in steps: a -> b -> c -> a",
    'flow.yaml:6:30 error: unknown source "fats" in "from" of step "c" (did you mean "fast"?)',
    'flow.yaml:7:26 error: step "d" cannot read from sink "out": sinks have no output',
    "flow.yaml:8:26 error: cycle in steps: e -> e",
    'flow.yaml:11:31 error: sink "out2" cannot read from sink "out": sinks have no output',
  ]);
});

Deno.test("unused polls and devices without polls are warnings", async () => {
  const r = await loadFiles({
    ...flow(`polls:
  fast: { device: plc, tags: "*", every: 1s }
  idle: { device: other, tags: "*", every: 1s }
sinks:
  s: { use: console, from: [plc, other2] }
`),
    "more.yaml":
      "devices:\n  other: { driver: fake-tcp, host: x, tags: { t: { address: HR9 } } }\n" +
      "  other2: { driver: fake-tcp, host: x, tags: {} }\n",
  });
  assert.deepEqual(r.lines, [
    'flow.yaml:3:3 warning: poll "idle" is not read by any step or sink',
    'flow.yaml:5:34 warning: device "other2" has no polls, so sink "s" gets nothing from it',
  ]);
  assert.ok(r.flows);
});

Deno.test("driver and step checks are located in the source", async () => {
  const r = await loadFiles({
    "devices.yaml": DEVICE.replace("HR2", "HR0"),
    "flow.yaml": `polls:
  fast: { device: plc, tags: "*", every: 1s }
steps:
  f: { use: function, from: fast, file: functions/missing.ts }
  g: { use: function, from: f, file: functions/there.ts }
sinks:
  s: { use: console, from: g }
`,
    "functions/there.ts": "export default () => {};\n",
  });
  assert.deepEqual(r.lines, [
    'devices.yaml:7:25 error: tag "temp2" overlaps tag "temp1" at HR0',
    'flow.yaml:4:41 error: function file "functions/missing.ts" does not exist',
  ]);
  const skipped = await loadFiles({
    "devices.yaml": DEVICE,
    "flow.yaml": `polls:
  fast: { device: plc, tags: "*", every: 1s }
steps:
  f: { use: function, from: fast, file: functions/missing.ts }
`,
  }, { checkFunctions: false });
  assert.deepEqual(skipped.lines, []);
});

Deno.test("a trigger needs a function and http or cron; an empty triggers section is fine", async () => {
  const r = await loadFiles(flow("triggers:\n  hook: {}\n"));
  assert.deepEqual(r.lines, [
    'flow.yaml:2:3 error: trigger "hook" is missing required field "function"',
    'flow.yaml:2:3 error: trigger "hook" needs "http" or "cron"',
  ]);
  assert.deepEqual((await loadFiles(flow("triggers: {}\n"))).lines, []);
});
