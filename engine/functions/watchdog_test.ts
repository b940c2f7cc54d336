/**
 * @module
 * Tests of the watchdog's decisions, fed readings as numbers.
 */

import assert from "node:assert/strict";
import { PROCESS_OVERHEAD_MB, Watchdog } from "./watchdog.ts";

Deno.test("a process over its limit plus the runtime's footprint is over its memory", () => {
  const w = new Watchdog(64, 1000);
  assert.equal(w.observe({ rssMb: 64 + PROCESS_OVERHEAD_MB, cpuMs: 0 }, true, 100), undefined);
  assert.equal(w.observe({ rssMb: 65 + PROCESS_OVERHEAD_MB, cpuMs: 0 }, true, 100), "memory");
});

Deno.test("CPU time between batches beyond one time limit ends the process", () => {
  const w = new Watchdog(64, 300);
  let cpu = 0;
  assert.equal(w.observe({ rssMb: 50, cpuMs: cpu }, false, 100), undefined);
  // A spinning thread: 100 ms of CPU every 100 ms.
  const verdicts = [];
  for (let i = 0; i < 5; i++) {
    verdicts.push(w.observe({ rssMb: 50, cpuMs: cpu += 100 }, false, 100));
  }
  assert.deepEqual(verdicts, [undefined, undefined, undefined, "busy", "busy"]);
});

Deno.test("a batch's own CPU time and light timers between batches are not charged", () => {
  const w = new Watchdog(64, 300);
  let cpu = 0;
  w.observe({ rssMb: 50, cpuMs: cpu }, false, 100);
  for (let i = 0; i < 50; i++) {
    assert.equal(w.observe({ rssMb: 50, cpuMs: cpu += 100 }, true, 100), undefined);
  }
  for (let i = 0; i < 1000; i++) {
    assert.equal(w.observe({ rssMb: 50, cpuMs: cpu += 5 }, false, 100), undefined);
  }
  assert.equal(w.charged, 0);
  w.observe({ rssMb: 50, cpuMs: cpu += 100 }, false, 100);
  assert.equal(w.charged, 90);
  w.batch();
  assert.equal(w.charged, 0);
});
