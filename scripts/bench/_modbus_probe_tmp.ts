import { phaseFor, runSchedule, ScheduleStats } from "../../engine/runtime/scheduler.ts";
import { systemClock } from "../../engine/clock.ts";
const ac = new AbortController();
const sts: ScheduleStats[] = [];
const early: number[] = [];
const ps = [];
for (let i = 0; i < 50; i++) {
  const st = new ScheduleStats(); sts.push(st);
  ps.push(runSchedule({ everyMs: 1000, phaseMs: phaseFor(`p${String(i).padStart(4,"0")}`, 250) }, systemClock, ac.signal, async () => { await new Promise((r) => setTimeout(r, 3)); }, st));
}
// measure early wakeups of setTimeout directly
for (let i = 0; i < 200; i++) { const w = 3.7 + Math.random(); const t = performance.now(); await new Promise((r) => setTimeout(r, w)); const d = performance.now() - t; if (d < w) early.push(w - d); }
await new Promise((r) => setTimeout(r, 5000));
ac.abort(); await Promise.all(ps);
console.log("runs", sts.reduce((n, s) => n + s.runs, 0), "skipped", sts.reduce((n, s) => n + s.skipped, 0), "samples", sts.reduce((n, s) => n + s.lateness().length, 0));
console.log("early setTimeout wakeups", early.length, "of 200, max early ms", Math.max(0, ...early).toFixed(3));
