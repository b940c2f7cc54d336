import assert from "node:assert/strict";
import { assertEquals } from "../../tests/_assert.ts";
import { ManualClock } from "../clock.ts";
import { BifrostError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { parseStatsEvery, startProcessStats } from "./process_stats.ts";

Deno.test("parseStatsEvery reads a duration and leaves the stats off when unset", () => {
  assertEquals(parseStatsEvery(undefined), undefined);
  assertEquals(parseStatsEvery(""), undefined);
  assertEquals(parseStatsEvery("60s"), 60_000);
  assertEquals(parseStatsEvery("250ms"), 250);
});

Deno.test("parseStatsEvery names the variable and the value it refuses", () => {
  for (const bad of ["often", "10ms", "0s", "-1s"]) {
    assert.throws(() => parseStatsEvery(bad), (e) => {
      assert(e instanceof BifrostError);
      assertEquals(e.code, "CONFIG_INVALID");
      assertEquals(
        e.message,
        `Cannot use BIFROST_STATS_EVERY="${bad}": expected a duration of at least 100ms, e.g. "60s"`,
      );
      return true;
    });
  }
});

Deno.test("startProcessStats logs one line per interval until stopped", async () => {
  const clock = new ManualClock(0);
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ json: true, write: (l) => lines.push(JSON.parse(l)) });
  let records = 0;
  const stats = startProcessStats({ everyMs: 1_000, log, clock, records: () => records });
  await clock.advance(999);
  assertEquals(lines.length, 0);
  records = 42;
  await clock.advance(1);
  await clock.advance(1_000);
  stats.stop();
  await clock.advance(5_000);
  assertEquals(lines.map((l) => [l.msg, l.records]), [["Process stats", 42], [
    "Process stats",
    42,
  ]]);
  const first = lines[0]!;
  for (const k of ["rss", "heapUsed", "heapTotal", "external"]) {
    assertEquals(typeof first[k] === "number" && (first[k] as number) > 0, true, k);
  }
});
