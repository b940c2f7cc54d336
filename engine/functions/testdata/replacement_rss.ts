/**
 * @module
 * Run by `isolation_test.ts` in a process of its own, so that its RSS is this host's alone
 * (under `deno test --parallel` other test files share the test process): 3 warm-up
 * replacements of a timed-out function process, then 15 measured. Prints
 * `{ "grownMB": n }` on stdout.
 */

import { fileURLToPath } from "node:url";
import { systemClock } from "../../clock.ts";
import { nullLogger } from "../../log.ts";
import { Batch } from "../../record.ts";
import { FunctionHost } from "../host.ts";

const host = new FunctionHost({
  step: "x",
  path: fileURLToPath(new URL("./hostile.ts", import.meta.url)),
  params: {},
  permissions: {},
  timeoutMs: 300,
  log: nullLogger,
  clock: systemClock,
  countError: () => {},
});
await host.start();
const run = (value: string) =>
  host.process(Batch.from([{
    device: "plc",
    tag: "t0",
    value,
    quality: "good" as const,
    sourceTs: 1000,
    gatewayTs: 2000,
    seq: 0,
  }]));
const cycle = async () => {
  // A fresh process (after a back-off on a loaded machine) takes 8 MB of state, then times
  // out and is killed.
  let r = await run("hoard");
  for (let i = 0; i < 100 && r.get(0).quality !== "good"; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await run("hoard");
  }
  const spun = await run("spin");
  if (!/timed out after 300 ms/.test(spun.get(0).reason ?? "")) {
    throw new Error(`spin did not time out: ${JSON.stringify(spun.get(0))}`);
  }
};
const gc = (globalThis as { gc?: () => void }).gc;
for (let i = 0; i < 3; i++) await cycle();
gc?.();
const before = Deno.memoryUsage().rss;
for (let i = 0; i < 15; i++) await cycle();
gc?.();
const grownMB = (Deno.memoryUsage().rss - before) / 2 ** 20;
await host.close();
console.log(JSON.stringify({ grownMB }));
