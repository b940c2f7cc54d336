import assert from "node:assert/strict";
import { assertEquals } from "../../tests/_assert.ts";
import { FAULTS, parseFaults, parseSoakArgs } from "./args.ts";
import { bifrostTaskArgs } from "./gateway.ts";

Deno.test("parseSoakArgs defaults to an hour with every fault, reported every 5 minutes", () => {
  const a = parseSoakArgs(["--seed", "5"]);
  assertEquals([a.minutes, a.reportEveryMs, a.faults, a.cpu, a.seed, a.spinMs], [
    60,
    300_000,
    [...FAULTS],
    undefined,
    5,
    10_000,
  ]);
});

Deno.test("parseSoakArgs reads a short run with a fault selection and a pinned gateway", () => {
  const a = parseSoakArgs([
    "--minutes",
    "3",
    "--report-every",
    "1m",
    "--faults",
    "timeout,restart",
    "--cpu",
    "1",
    "--spin",
    "forever",
  ]);
  assertEquals([a.minutes, a.reportEveryMs, a.faults, a.cpu, a.spinMs], [
    3,
    60_000,
    ["restart", "timeout"],
    "1",
    0,
  ]);
  assertEquals(parseFaults("none"), []);
});

Deno.test("parseSoakArgs names the argument and the value it refuses", () => {
  const cases: [string[], RegExp][] = [
    [["--faults", "restart,meteor"], /Unknown fault "meteor" in --faults \(known: restart, /],
    [["--minutes", "0"], /Cannot use --minutes 0: expected a positive number/],
    [["--report-every", "soon"], /Cannot use --report-every soon: expected a duration/],
    [["--cpu", "all"], /Cannot use --cpu all: expected a CPU list/],
    [["--devices", "1.5"], /Cannot use --devices 1.5: expected a positive integer/],
    [["--spin", "5ms"], /Cannot use --spin 5ms/],
    [["--frobnicate"], /Cannot parse the soak's arguments/],
  ];
  for (const [args, message] of cases) assert.throws(() => parseSoakArgs(args), message);
});

Deno.test("bifrostTaskArgs takes the gateway's command from deno.json, wherever the entry is", () => {
  const json = (task: string) => JSON.stringify({ tasks: { bifrost: task } });
  assertEquals(bifrostTaskArgs(json("deno run -A --v8-flags=--x app/cli/main.ts")), [
    "run",
    "-A",
    "--v8-flags=--x",
    "app/cli/main.ts",
  ]);
  assert.throws(() => bifrostTaskArgs("{}"), /Cannot find the "bifrost" task in deno.json/);
  assert.throws(() => bifrostTaskArgs(json("npx deno run x.ts")), /needs a plain "deno …"/);
});
