import { assert, assertEquals, assertRejects } from "../../tests/_assert.ts";
import { type Clock, ManualClock } from "../clock.ts";
import { percentile, phaseFor, runSchedule, ScheduleStats, ScheduleStop } from "./scheduler.ts";
import { timerQueueFor } from "./timer_queue.ts";

/** Lets settled promise chains run, as a real event loop would between timers. */
const settle = () => new Promise((r) => setTimeout(r, 0));

/** A manual clock whose timers wake up late by a pseudo-random 0-7 ms, like a busy event loop. */
function lateClock(inner: ManualClock): Clock {
  let x = 12345;
  return {
    now: () => inner.now(),
    monotonic: () => inner.monotonic(),
    sleep: (ms, signal) => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return inner.sleep(ms + (x % 8), signal);
    },
  };
}

Deno.test("runSchedule() keeps an hour of 1 s polls on the grid despite late timers", async () => {
  const inner = new ManualClock(1_000_000);
  const clock = lateClock(inner);
  const ac = new AbortController();
  const deadlines: number[] = [];
  const stats = new ScheduleStats();
  const done = runSchedule({ everyMs: 1000 }, clock, ac.signal, (d) => {
    deadlines.push(d);
    return Promise.resolve();
  }, stats);
  for (let i = 0; i < 3_600; i++) await inner.advance(1000);
  ac.abort();
  await inner.advance(2000);
  await done;
  // Every deadline sits exactly on the start + k * 1 s grid: no accumulated lateness.
  deadlines.forEach((d, k) => assertEquals(d, 1_000_000 + k * 1000));
  // Late wake-ups never cost a whole tick, so every tick of the hour ran.
  assert(deadlines.length >= 3_600, `ran ${deadlines.length} of 3600`);
  assertEquals(stats.skipped, 0);
  assert(stats.maxLateMs <= 7);
  // Every deadline's lateness is in the metrics histogram, all of it within 10 ms.
  const h = stats.latenessHistogram;
  assertEquals(h.count, deadlines.length);
  assertEquals(h.cumulative()[[...h.bounds].indexOf(10)], deadlines.length);
});

Deno.test("runSchedule() skips and counts a tick while the previous poll is still running", async () => {
  const clock = new ManualClock(0);
  const ac = new AbortController();
  let release!: () => void;
  let calls = 0;
  const stats = new ScheduleStats();
  const done = runSchedule({ everyMs: 100 }, clock, ac.signal, () => {
    calls++;
    return new Promise<void>((r) => release = r);
  }, stats);
  await clock.advance(0);
  assertEquals(calls, 1);
  await clock.advance(350); // ticks at 100, 200, 300 find the poll still running
  assertEquals(calls, 1);
  assertEquals(stats.skipped, 3);
  release();
  await settle();
  await clock.advance(100); // tick at 400 runs
  assertEquals(calls, 2);
  release();
  ac.abort();
  await done;
});

Deno.test("runSchedule() counts ticks the timer slept through as skipped", async () => {
  const inner = new ManualClock(0);
  let first = true;
  const clock: Clock = {
    now: () => inner.now(),
    monotonic: () => inner.monotonic(),
    // One wake-up 350 ms late, as after a long GC pause.
    sleep: (ms, s) => {
      const extra = first && ms > 0 ? 350 : 0;
      if (ms > 0) first = false;
      return inner.sleep(ms + extra, s);
    },
  };
  const ac = new AbortController();
  const stats = new ScheduleStats();
  const deadlines: number[] = [];
  const done = runSchedule({ everyMs: 100 }, clock, ac.signal, (d) => {
    deadlines.push(d);
    return Promise.resolve();
  }, stats);
  await settle();
  await inner.advance(1000);
  ac.abort();
  await done;
  assertEquals(stats.skipped, 3);
  assertEquals(deadlines.slice(0, 3), [0, 100, 500]);
});

Deno.test("runSchedule() follows a 6-field cron with seconds", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  const ac = new AbortController();
  const at: number[] = [];
  const done = runSchedule({ cron: "*/2 * * * * *" }, clock, ac.signal, (d) => {
    at.push(d);
    return Promise.resolve();
  });
  for (let i = 0; i < 10; i++) await clock.advance(500);
  ac.abort();
  await done;
  assertEquals(at.map((t) => new Date(t).getUTCSeconds()), [2, 4]);
});

Deno.test("percentile() and phaseFor() are stable", () => {
  assertEquals(percentile([5, 1, 3, 2, 4], 50), 3);
  assertEquals(percentile([], 99), 0);
  assertEquals(phaseFor("fast", 250), phaseFor("fast", 250));
  assert(phaseFor("fast", 250) < 250);
});

Deno.test("runSchedule() polls at once, then on the grid shifted by the phase", async () => {
  const clock = new ManualClock(0);
  const ac = new AbortController();
  const at: number[] = [];
  const done = runSchedule({ everyMs: 100, phaseMs: 30 }, clock, ac.signal, (d) => {
    at.push(d);
    return Promise.resolve();
  });
  await settle();
  await clock.advance(350);
  ac.abort();
  await done;
  assertEquals(at, [0, 130, 230, 330]);
});

Deno.test("runSchedule() aborted from inside its task resolves after that task settled", async () => {
  const clock = new ManualClock(0);
  const ac = new AbortController();
  let release!: () => void;
  let calls = 0;
  let settled = false;
  const done = runSchedule({ everyMs: 100 }, clock, ac.signal, () => {
    calls++;
    ac.abort();
    return new Promise<void>((r) => release = r).then(() => {
      settled = true;
    });
  });
  await settle();
  let stopped = false;
  done.then(() => stopped = true);
  await clock.advance(500);
  assertEquals([calls, stopped], [1, false]);
  release();
  await done;
  assert(settled);
  assertEquals(timerQueueFor(clock).size, 0);
});

Deno.test("runSchedule() rejects a non-positive interval and a task that throws at once", async () => {
  const clock = new ManualClock(0);
  const ac = new AbortController();
  const noop = () => Promise.resolve();
  const e = await assertRejects(() => runSchedule({ everyMs: 0 }, clock, ac.signal, noop), /0 ms/);
  assert(e instanceof RangeError);
  const boom = new Error("boom");
  const done = runSchedule({ everyMs: 100 }, clock, ac.signal, () => {
    throw boom;
  });
  assertEquals(await assertRejects(() => done, /boom/), boom);
  assertEquals(timerQueueFor(clock).size, 0);
});

Deno.test("runSchedule() on an aborted signal resolves without polling", async () => {
  const clock = new ManualClock(0);
  let calls = 0;
  await runSchedule({ everyMs: 100, phaseMs: 10 }, clock, AbortSignal.abort(), () => {
    calls++;
    return Promise.resolve();
  });
  assertEquals(calls, 0);
  assertEquals(timerQueueFor(clock).size, 0);
});

Deno.test("a ScheduleStop stops interval and cron schedules as an AbortSignal does, its listeners once", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  const every = new ScheduleStop();
  const cron = new ScheduleStop();
  const at: string[] = [];
  const a = runSchedule({ everyMs: 1000 }, clock, every, (d) => {
    at.push(`every ${new Date(d).getUTCSeconds()}`);
    return Promise.resolve();
  });
  const b = runSchedule({ cron: "*/2 * * * * *" }, clock, cron, (d) => {
    at.push(`cron ${new Date(d).getUTCSeconds()}`);
    return Promise.resolve();
  });
  await settle();
  for (let i = 0; i < 5; i++) await clock.advance(500);
  every.abort();
  every.abort(); // a second stop is nothing
  await a;
  for (let i = 0; i < 4; i++) await clock.advance(500);
  cron.abort(new Error("stopped"));
  await b;
  assertEquals(cron.reason instanceof Error, true);
  assertEquals(at, ["every 0", "every 1", "cron 2", "every 2", "cron 4"]);
  assertEquals(timerQueueFor(clock).size, 0);
  // Stopped before it starts: nothing runs.
  const late = new ScheduleStop();
  late.abort();
  let ran = false;
  await runSchedule({ everyMs: 100 }, clock, late, () => {
    ran = true;
    return Promise.resolve();
  });
  assertEquals(ran, false);
});
