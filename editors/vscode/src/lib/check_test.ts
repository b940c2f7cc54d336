import assert from "node:assert/strict";
import { join } from "node:path";
import {
  byFile,
  type CheckIssue,
  didYouMeanFix,
  flowDirOf,
  parseCheckJson,
  parsePlan,
  placeIssue,
  planTitle,
} from "./check.ts";
import { plantFlow, ROOT } from "../../test/_gateway.ts";

async function bifrost(...args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "app/cli/main.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return new TextDecoder().decode(out.stdout);
}

const TYPOS = plantFlow(5020)
  .replace("    host: 127.0.0.1", "    hots: 127.0.0.1")
  .replace("tags: [level, pump]", "tags: [level, pmup]")
  .replace("from: [fast, slow]", "from: [fast, 'slwo']");

Deno.test("issues of the real `bifrost check --json` land on the token, with did-you-mean fixes", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "plant.yaml");
  await Deno.writeTextFile(file, TYPOS);
  const issues = parseCheckJson(await bifrost("check", dir, "--json"));
  await Deno.remove(dir, { recursive: true });
  assert.deepEqual([...byFile(issues).keys()], [file]);
  const lines = TYPOS.split("\n");
  const at = (i: CheckIssue) => {
    const p = placeIssue(TYPOS, i);
    return `${p.start.line}:${lines[p.start.line]!.slice(p.start.character, p.end.character)}`;
  };
  const hots = issues.find((i) => i.message.includes('"hots"'))!;
  assert.equal(at(hots), `${lines.findIndex((l) => l.includes("hots:"))}:hots`);
  const pmup = issues.find((i) => i.message.includes('"pmup"'))!;
  assert.equal(at(pmup), `${lines.findIndex((l) => l.includes("pmup"))}:pmup`);
  const slwo = issues.find((i) => i.message.includes('"slwo"'))!;
  assert.equal(at(slwo), `${lines.findIndex((l) => l.includes("slwo"))}:'slwo'`);

  const fixes = [hots, pmup, slwo].map((i) => didYouMeanFix(TYPOS, i));
  assert.deepEqual(fixes.map((f) => [f?.title, f?.text]), [
    ['Change "hots" to "host"', "host"],
    ['Change "pmup" to "pump"', "pump"],
    ['Change "slwo" to "slow"', "'slow'"],
  ]);
  // Applied, the fixes leave a flow that checks clean.
  const fixed = TYPOS.split("\n");
  for (const f of fixes) {
    const l = fixed[f!.start.line]!;
    fixed[f!.start.line] = l.slice(0, f!.start.character) + f!.text + l.slice(f!.end.character);
  }
  const dir2 = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir2, "plant.yaml"), fixed.join("\n"));
  const after = parseCheckJson(await bifrost("check", dir2, "--json"));
  await Deno.remove(dir2, { recursive: true });
  assert.deepEqual(after, []);
});

Deno.test("didYouMeanFix() offers nothing without a suggestion or when the token differs", () => {
  const text = "devices:\n  plc:\n    hots: x\n";
  const base = { file: "f", line: 3, column: 5, severity: "error" as const };
  assert.equal(didYouMeanFix(text, { ...base, message: 'unknown field "hots"' }), undefined);
  assert.equal(
    didYouMeanFix(text, { ...base, message: 'unknown field "other" (did you mean "host"?)' }),
    undefined,
  );
  // A line past the end of the text is clamped, not thrown.
  assert.deepEqual(placeIssue(text, { ...base, line: 99, column: 1, message: "m" }).start, {
    line: 3,
    character: 0,
  });
});

Deno.test("parseCheckJson() says what it got when the CLI answers something else", () => {
  assert.throws(() => parseCheckJson("Unknown command"), /did not answer JSON: Unknown command/);
  assert.throws(() => parseCheckJson("{}"), /without errors and warnings/);
});

Deno.test("parsePlan() reads the real `bifrost plan` per poll, for the CodeLens", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "plant.yaml"), plantFlow(5020));
  const plans = parsePlan(await bifrost("plan", dir));
  await Deno.remove(dir, { recursive: true });
  assert.deepEqual([...plans.keys()], ["fast", "slow"]);
  const fast = plans.get("fast")!;
  assert.equal(fast.summary, "2 request(s), plc, every 200 ms");
  assert.deepEqual(fast.requests, [
    "FC3 HR0..HR1 (2 regs) unit 1: level",
    "FC1 C0 (1 bit) unit 1: pump",
  ]);
  assert.equal(
    planTitle(fast),
    "2 request(s): FC3 HR0..HR1 (2 regs) unit 1: level; FC1 C0 (1 bit) unit 1: pump",
  );
  assert.equal(
    planTitle({ poll: "p", summary: "", requests: ["a", "b", "c", "d"] }),
    "4 request(s): a; b; +2 more",
  );
});

Deno.test("flowDirOf() finds the flows folder above a file, else its folder", () => {
  assert.equal(flowDirOf("/repo/flows/area1/boiler.yaml"), "/repo/flows");
  assert.equal(flowDirOf("/repo/plant/boiler.yaml"), "/repo/plant");
  assert.equal(flowDirOf("C:\\repo\\flows\\a.yaml"), "C:\\repo\\flows");
});
