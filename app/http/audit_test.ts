/**
 * @module
 * The audit log keeps writes with who, old and new value and result, newest first, and
 * prunes by age and row count.
 */

import { join } from "node:path";
import { assertEquals } from "../../tests/_assert.ts";
import { ManualClock } from "../../engine/clock.ts";
import { AuditLog } from "./audit.ts";

Deno.test("the audit log lists writes newest first, bigints as text, by device and tag", async () => {
  const dir = await Deno.makeTempDir();
  const log = new AuditLog(join(dir, "audit.db"), { clock: new ManualClock(1000) });
  try {
    log.record({ who: "op", device: "plc", tag: "sp", oldValue: 1, newValue: 2, result: "ok" });
    log.record({
      who: "op",
      device: "plc",
      tag: "big",
      oldValue: undefined,
      newValue: 2n ** 60n,
      result: "WRITE_REJECTED",
      message: "no",
    });
    const all = log.list();
    assertEquals(all.map((e) => [e.tag, e.newValue, e.oldValue, e.result]), [
      ["big", "1152921504606846976", undefined, "WRITE_REJECTED"],
      ["sp", 2, 1, "ok"],
    ]);
    assertEquals(all[0]!.message, "no");
    assertEquals(log.list({ tag: "sp" }).length, 1);
    assertEquals(all[1]!.ts, 1000);
  } finally {
    log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the audit log drops entries past its age and keeps at most maxRows", async () => {
  const dir = await Deno.makeTempDir();
  const clock = new ManualClock(0);
  const log = new AuditLog(join(dir, "audit.db"), { clock, maxAgeMs: 10_000, maxRows: 150 });
  try {
    const w = { who: "op", device: "plc", tag: "sp", oldValue: 0, newValue: 1, result: "ok" };
    for (let i = 0; i < 50; i++) log.record(w);
    await clock.advance(20_000);
    // The 100th write prunes: the 50 old ones are past their age.
    for (let i = 0; i < 50; i++) log.record(w);
    assertEquals(log.list({ limit: 1000 }).length, 50);
    for (let i = 0; i < 250; i++) log.record(w);
    log.prune();
    assertEquals(log.list({ limit: 1000 }).length, 150);
  } finally {
    log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
