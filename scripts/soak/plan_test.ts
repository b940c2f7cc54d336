import { assert, assertEquals } from "../../tests/_assert.ts";
import { FAULTS } from "./args.ts";
import { FAULT_DURATIONS, faultPlan, LEAD_IN_S, MAX_CYCLE_S, TAIL_S } from "./plan.ts";

Deno.test("faultPlan runs every fault of a short run once, staggered, before the tail", () => {
  const faults = ["restart", "blackhole", "malformed", "broker", "throw", "timeout"] as const;
  const plan = faultPlan(faults, 180, 7);
  assertEquals(plan.map((e) => e.fault), [...faults]);
  const gaps = plan.slice(1).map((e, i) => e.at - plan[i]!.at);
  assert(gaps.every((g) => Math.abs(g - gaps[0]!) < 1e-9), `even stagger: ${gaps}`);
  assertEquals(plan[0]!.at, LEAD_IN_S);
  for (const e of plan) {
    assert(e.at + e.duration <= 180 - TAIL_S, `${e.fault} ends before the tail`);
    assert(e.duration >= FAULT_DURATIONS[e.fault][0], `${e.fault} lasts its minimum`);
  }
});

Deno.test("faultPlan brings each fault back every cycle of a long run", () => {
  const plan = faultPlan(FAULTS, 3600, 1);
  for (const f of FAULTS) {
    const at = plan.filter((e) => e.fault === f).map((e) => e.at);
    assert(at.length >= 14, `${f} runs ${at.length} times in an hour`);
    assert(at.slice(1).every((t, i) => t - at[i]! === MAX_CYCLE_S), `${f} every cycle`);
  }
  assertEquals(plan.map((e) => e.at), plan.map((e) => e.at).sort((a, b) => a - b));
});

Deno.test("faultPlan is the same for the same seed and empty without faults or time", () => {
  assertEquals(faultPlan(FAULTS, 600, 3), faultPlan(FAULTS, 600, 3));
  assertEquals(faultPlan([], 600, 3), []);
  assertEquals(faultPlan(FAULTS, 30, 3), []);
});
