/**
 * Run by `sender_test.ts` with `--v8-flags=--expose-gc`: a sender whose broker refuses every
 * connect, each refusal carrying 1 MB of heap. Prints what stays on the heap after 200
 * attempts and a full GC: a failed attempt must not outlive its retry.
 */
import { Sender } from "../sender.ts";
import { systemClock } from "../../../engine/clock.ts";
import { nullLogger } from "../../../engine/log.ts";
import type { SenderOptions } from "../sender_types.ts";

declare const gc: () => void;

let attempts = 0;
const connect = () => {
  attempts++;
  const e = new Error("connection refused") as Error & { ballast?: number[] };
  e.ballast = new Array(1 << 17).fill(attempts);
  return Promise.reject(e);
};
const sender = new Sender({
  name: "retention",
  target: "mqtt://127.0.0.1:1",
  queue: { depth: () => 0, headId: 0, db: { isOpen: true } } as unknown as SenderOptions["queue"],
  connect,
  topic: () => "t",
  maxInFlight: 1,
  replayRate: 0,
  reconnectMinMs: 1,
  reconnectMaxMs: 1,
  clock: systemClock,
  log: nullLogger,
});
sender.start();
while (attempts < 200) await new Promise((r) => setTimeout(r, 5));
gc();
gc();
const heapMB = Deno.memoryUsage().heapUsed / 2 ** 20;
await sender.stop(0);
console.log(JSON.stringify({ attempts, heapMB }));
