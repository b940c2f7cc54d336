/** @module Tests of the rename step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, type Value } from "../../engine/plugin.ts";
import { renameStep } from "./mod.ts";
import { createRename } from "./rename.ts";

const rec = (device: string, tag: string, value: Value = 1) =>
  ({ device, tag, value, quality: "good", sourceTs: 1, gatewayTs: 1, seq: 1 }) as DataRecord;
const keys = (b: Batch) => b.toArray().map((r) => `${r.device}/${r.tag}`);

Deno.test("rename maps exact tag names and leaves others", () => {
  const step = createRename({ map: { temp1: "supply-temp" } });
  const out = step.process(Batch.from([rec("plc", "temp1"), rec("plc", "temp2")])) as Batch;
  assert.deepEqual(keys(out), ["plc/supply-temp", "plc/temp2"]);
});

Deno.test("rename applies the pattern to unmapped names, then prefix and suffix to all", () => {
  const step = createRename({
    map: { temp1: "supply" },
    pattern: "^temp(\\d+)$",
    replace: "t-$1",
    prefix: "boiler.",
    suffix: "_c",
  });
  const b = Batch.from([rec("plc", "temp1"), rec("plc", "temp2"), rec("plc", "flow")]);
  const out = step.process(b) as Batch;
  assert.deepEqual(keys(out), ["plc/boiler.supply_c", "plc/boiler.t-2_c", "plc/boiler.flow_c"]);
  // Cached names give the same result on the next batch.
  const again = step.process(Batch.from([rec("plc", "temp2"), rec("plc", "temp1")])) as Batch;
  assert.deepEqual(keys(again), ["plc/boiler.t-2_c", "plc/boiler.supply_c"]);
});

Deno.test("rename routes selected records under another device", () => {
  const step = createRename({ device: "area-1", devices: ["press-*"], prefix: "p." });
  const b = Batch.from([rec("press-1", "force"), rec("boiler", "temp"), rec("press-2", "force")]);
  assert.deepEqual(keys(step.process(b) as Batch), [
    "area-1/p.force",
    "boiler/temp",
    "area-1/p.force",
  ]);
});

Deno.test("rename validate reports a pattern that does not compile", async () => {
  const issues = await renameStep.validate!({ pattern: "temp(", replace: "x" }, {
    flowDir: ".",
    file: "f",
  }) as { path: unknown[]; message: string }[];
  assert.equal(issues.length, 1);
  assert.deepEqual(issues[0]!.path, ["pattern"]);
  assert.match(issues[0]!.message, /^Cannot compile pattern "temp\(":/);
  assert.deepEqual(
    await renameStep.validate!({ pattern: "^t(.*)$" }, { flowDir: ".", file: "f" }),
    [],
  );
});

Deno.test("rename runs a catastrophic pattern on a long tag name in linear time", () => {
  // ^(a+)+$ backtracks exponentially on a JavaScript RegExp: 30 "a" and a "b" took tens of
  // seconds (and a longer name froze every device for good).
  const step = createRename({ pattern: "^(a+)+$", replace: "x" });
  const long = "a".repeat(30) + "b";
  // On a backtracking engine these calls would not return (the test would hang, not pass).
  const out = step.process(Batch.from([rec("plc", long), rec("plc", "aaaa")])) as Batch;
  assert.deepEqual(keys(out), [`plc/${long}`, "plc/x"]);
  const huge = "a".repeat(100_000) + "b";
  const hugeOut = step.process(Batch.from([rec("plc", huge)])) as Batch;
  assert.deepEqual(keys(hugeOut), [`plc/${huge}`]);
});

Deno.test("rename refuses backreferences and lookaround, naming the construct and its place", async () => {
  const all = async (pattern: string) =>
    (await renameStep.validate!({ pattern }, { flowDir: ".", file: "f.yaml" }) as {
      message: string;
    }[]).map((i) => i.message);
  const cases = ["(a)\\1", "^temp(?=\\d)", "(?<!x)y", "(?<n>a)\\k<n>", "[(?=]x", "a{2,1001}"];
  const found = new Map<string, string[]>();
  for (const c of cases) found.set(c, await all(c));
  const msg = (pattern: string) => found.get(pattern)!;
  assert.match(msg("(a)\\1")[0]!, /backreference "\\1" at character 4 is not supported/);
  assert.match(msg("^temp(?=\\d)")[0]!, /lookahead "\(\?=" at character 6 is not supported/);
  assert.match(msg("(?<!x)y")[0]!, /negative lookbehind "\(\?<!" at character 1/);
  assert.match(msg("(?<n>a)\\k<n>")[0]!, /named backreference "\\k<n>" at character 8/);
  assert.deepEqual(msg("[(?=]x"), [], "inside a class these are plain characters");
  assert.match(msg("a{2,1001}")[0]!, /Cannot compile pattern "a\{2,1001\}": .*repeat count/);
  assert.throws(() => createRename({ pattern: "(?=x)" }), /lookahead/);
});
