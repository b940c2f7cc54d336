import { assert, assertEquals } from "../../tests/_assert.ts";
import { ManualClock, systemClock } from "../clock.ts";
import { phaseFor, runSchedule, ScheduleStats } from "./scheduler.ts";
import { TimerEntry, TimerQueue, timerQueueFor } from "./timer_queue.ts";

/** An entry that repeats every `every` ms and logs when it fired. */
class Every extends TimerEntry {
  constructor(
    readonly name: string,
    readonly every: number,
    readonly log: [string, number][],
    public deadline: number,
  ) {
    super();
  }
  due(now: number): number {
    this.log.push([this.name, now]);
    assertEquals(now, this.deadline, `${this.name} fired off its deadline`);
    this.deadline += this.every;
    return this.deadline;
  }
}

Deno.test("TimerQueue fires entries of different intervals in deadline order", async () => {
  const clock = new ManualClock(0);
  const q = new TimerQueue(clock);
  const log: [string, number][] = [];
  const intervals = [30, 70, 110, 7, 250];
  for (const every of intervals) q.insert(new Every(`e${every}`, every, log, every), every);
  await clock.advance(1000);
  const expected: [string, number][] = [];
  for (const every of intervals) {
    for (let t = every; t <= 1000; t += every) expected.push([`e${every}`, t]);
  }
  // Deadline order; equal deadlines in the order they were queued.
  expected.sort((a, b) =>
    a[1] - b[1] || intervals.indexOf(+a[0].slice(1)) - intervals.indexOf(+b[0].slice(1))
  );
  assertEquals(log, expected);
  assertEquals(q.size, intervals.length);
});

Deno.test("TimerQueue re-arms its timer when an earlier deadline is inserted", async () => {
  const clock = new ManualClock(0);
  const q = new TimerQueue(clock);
  const log: [string, number][] = [];
  q.insert(new Every("late", 1000, log, 1000), 1000);
  await clock.advance(10);
  q.insert(new Every("early", 1000, log, 50), 50);
  assertEquals(q.peek(), 50);
  await clock.advance(990);
  assertEquals(log, [["early", 50], ["late", 1000]]);
});

Deno.test("TimerQueue re-arms a real timer for an earlier deadline and disarms when empty", async () => {
  const q = new TimerQueue(systemClock);
  let fired = "";
  let woke!: () => void;
  const wake = new Promise<void>((r) => woke = r);
  class Once extends TimerEntry {
    constructor(readonly name: string) {
      super();
    }
    due(): number {
      fired += this.name;
      woke();
      return Infinity;
    }
  }
  const far = new Once("far");
  q.insert(far, systemClock.monotonic() + 60_000);
  q.insert(new Once("near"), systemClock.monotonic() + 5);
  await wake; // would take a minute without the re-arm
  assertEquals(fired, "near");
  assertEquals(q.size, 1);
  assert(q.remove(far));
  assertEquals(q.remove(far), false);
  assertEquals(q.size, 0);
  assertEquals(q.armed, false); // no timer left behind (the test sanitizer would also fail)
});

Deno.test("TimerQueue keeps heap order through removals", async () => {
  const clock = new ManualClock(0);
  const q = new TimerQueue(clock);
  const log: [string, number][] = [];
  let x = 7;
  const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) % 10_000;
  const entries = Array.from({ length: 300 }, (_, i) => {
    const d = rand() + 1;
    const e = new Every(`n${i}`, 100_000, log, d);
    q.insert(e, d);
    return e;
  });
  for (let i = 0; i < entries.length; i += 3) assert(q.remove(entries[i]!));
  assertEquals(q.size, 200);
  await clock.advance(10_001);
  const times = log.map(([, t]) => t);
  assertEquals(times, [...times].sort((a, b) => a - b));
  assertEquals(log.length, 200);
  assert(log.every(([n]) => +n.slice(1) % 3 !== 0), "a removed entry fired");
});

Deno.test("runSchedule() leaves the queue and stops firing when aborted", async () => {
  const clock = new ManualClock(0);
  const q = timerQueueFor(clock);
  const keep = new AbortController();
  const stop = new AbortController();
  let kept = 0, stopped = 0;
  const a = runSchedule({ everyMs: 100 }, clock, keep.signal, () => (kept++, Promise.resolve()));
  const b = runSchedule({ everyMs: 100 }, clock, stop.signal, () => (stopped++, Promise.resolve()));
  assertEquals(q.size, 2);
  await clock.advance(250);
  stop.abort();
  await b;
  assertEquals(q.size, 1);
  await clock.advance(300);
  assertEquals([kept, stopped], [6, 3]);
  keep.abort();
  await a;
  assertEquals(q.size, 0);
  assertEquals(q.armed, false);
});

Deno.test("runSchedule() fires 1,000 phased schedules on one clock once per interval", async () => {
  const clock = new ManualClock(5_000_000);
  const ac = new AbortController();
  const n = 1000;
  const at: number[][] = Array.from({ length: n }, () => []);
  const stats = Array.from({ length: n }, () => new ScheduleStats());
  const done = at.map((log, i) =>
    runSchedule(
      { everyMs: 1000, phaseMs: phaseFor(`poll-${i}`, 1000) },
      clock,
      ac.signal,
      (d) => (log.push(d), Promise.resolve()),
      stats[i],
    )
  );
  assertEquals(timerQueueFor(clock).size, n);
  await clock.advance(10_000);
  ac.abort();
  await Promise.all(done);
  assertEquals(timerQueueFor(clock).size, 0);
  for (let i = 0; i < n; i++) {
    const phase = phaseFor(`poll-${i}`, 1000);
    // At once, then every second on the phased grid up to the 10 s mark.
    const expected = [5_000_000];
    for (let t = 5_000_000 + phase + 1000; t <= 5_010_000; t += 1000) expected.push(t);
    assertEquals(at[i], phase === 0 ? gridFrom(5_000_000) : expected, `poll-${i}`);
    assertEquals(stats[i]!.skipped, 0);
    assertEquals(stats[i]!.maxLateMs, 0);
  }
});

/** Deadlines of an unphased 1 s schedule started at `t0`, over 10 s. */
function gridFrom(t0: number): number[] {
  return Array.from({ length: 11 }, (_, k) => t0 + k * 1000);
}

Deno.test("TimerQueue on the system clock fires entries within their early window together", async () => {
  const q = timerQueueFor(systemClock);
  const fired: Record<string, number> = {};
  class Once extends TimerEntry {
    constructor(readonly name: string, early: number) {
      super();
      this.early = early;
    }
    due(now: number): number {
      fired[this.name] = now;
      return Infinity;
    }
  }
  const t0 = systemClock.monotonic();
  q.insert(new Once("a", 5), t0 + 50);
  q.insert(new Once("b", 5), t0 + 54); // within its window when a fires: goes with it
  q.insert(new Once("c", 5), t0 + 300); // 250 ms later: a wake-up of its own
  while (Object.keys(fired).length < 3) await new Promise((r) => setTimeout(r, 10));
  assert(fired.a! >= t0 + 50 - 5, "a at most its window early");
  assert(Math.abs(fired.b! - fired.a!) < 1, `b fired with a (${fired.b! - fired.a!} ms apart)`);
  assert(fired.b! >= t0 + 54 - 5, "b at most its window early");
  // Its own wake-up, unless a loaded machine woke the queue for a after c was due too.
  if (fired.a! < t0 + 300 - 5) assert(fired.c! - fired.a! > 10, "c not with a and b");
  assert(fired.c! >= t0 + 300 - 5, "c at most its window early");
});

Deno.test("a deadline 30 days away is reached through timers under 2^31-1 ms, on time", () => {
  // Stand-ins for the system clock's timer and time: the queue's native path must never ask
  // setTimeout for more than it can hold (it would print TimeoutOverflowWarning and fire at 1 ms).
  const realSetTimeout = globalThis.setTimeout;
  const realClearTimeout = globalThis.clearTimeout;
  const realMonotonic = systemClock.monotonic;
  let now = 1_000;
  let pending: { fn: () => void; at: number } | undefined;
  const delays: number[] = [];
  globalThis.setTimeout = ((fn: () => void, ms: number) => {
    delays.push(ms);
    pending = { fn, at: now + ms };
    return 1;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = (() => pending = undefined) as unknown as typeof clearTimeout;
  systemClock.monotonic = () => now;
  try {
    const queue = new TimerQueue(systemClock);
    const fired: number[] = [];
    const DAY = 86_400_000;
    const entry = new (class extends TimerEntry {
      due(t: number): number {
        fired.push(t);
        return t + 30 * DAY;
      }
    })();
    queue.insert(entry, now + 30 * DAY);
    for (let i = 0; i < 20 && fired.length < 2; i++) {
      const p = pending!;
      pending = undefined;
      now = p.at;
      p.fn();
    }
    assertEquals(fired, [1_000 + 30 * DAY, 1_000 + 60 * DAY]);
    assert(delays.every((d) => d >= 0 && d <= 2 ** 31 - 1), `delays: ${delays}`);
    queue.remove(entry);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
    systemClock.monotonic = realMonotonic;
  }
});

Deno.test("every: 30d and a yearly cron on the system clock print no TimeoutOverflowWarning", async () => {
  // A child process: the warning goes to stderr, and the old behaviour fired the 30-day poll
  // after 1 ms, again and again.
  const script = `
    import { systemClock } from "${new URL("../clock.ts", import.meta.url)}";
    import { runSchedule } from "${new URL("./scheduler.ts", import.meta.url)}";
    const ac = new AbortController();
    let runs = 0;
    const polls = [
      runSchedule({ everyMs: 30 * 86_400_000, phaseMs: 1 }, systemClock, ac.signal, async () => { runs++; }),
      runSchedule({ cron: "0 0 0 1 1 *" }, systemClock, ac.signal, async () => { runs++; }),
      systemClock.sleep(40 * 86_400_000, ac.signal).catch(() => {}),
    ];
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    await Promise.all(polls);
    console.log("runs " + runs);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(stderr, "");
  // The interval poll runs once at start (its grid begins there), then not for 30 days.
  assertEquals(new TextDecoder().decode(out.stdout).trim(), "runs 1");
});
