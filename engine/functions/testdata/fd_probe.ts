/**
 * @module
 * Run by `isolation_test.ts` in a process of its own (file descriptors are per process, and
 * test files share one): makes the hostile function write bytes that are no frame `ROUNDS`
 * times, each ending its process, and prints `{ before, after, malformed }`: this process's
 * open file descriptors after the first replacement and after the last.
 */

import { fileURLToPath } from "node:url";
import { systemClock } from "../../clock.ts";
import { nullLogger } from "../../log.ts";
import { Batch } from "../../record.ts";
import { FunctionHost } from "../host.ts";

const ROUNDS = Number(Deno.args[0] ?? 10);
const fds = () => [...Deno.readDirSync("/proc/self/fd")].length;
const batch = (value: string) =>
  Batch.from([{
    device: "plc",
    tag: "t",
    value,
    quality: "good",
    sourceTs: 1,
    gatewayTs: 1,
    seq: 1,
  }]);

const host = new FunctionHost({
  step: "x",
  path: fileURLToPath(new URL("./hostile.ts", import.meta.url)),
  params: {},
  permissions: {},
  timeoutMs: 5000,
  log: nullLogger,
  clock: systemClock,
  countError: () => {},
});
await host.start();
/** One replacement: garbage ends the process, then a batch runs in a new one. */
async function round(): Promise<void> {
  const seen = host.malformed;
  await host.process(batch("garbage"));
  for (let i = 0; i < 200 && host.malformed === seen; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  for (let i = 0; i < 200; i++) {
    if ((await host.process(batch("ok"))).get(0).quality === "good") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no new process answered");
}
await round();
const before = fds();
for (let i = 1; i < ROUNDS; i++) await round();
// Let the last child's pipes close.
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ before, after: fds(), malformed: host.malformed }));
await host.close();
