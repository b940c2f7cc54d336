/** @module Tests of the ISA-18.2 state machine and the alarm step. */

import assert from "node:assert/strict";
import { Batch, type DataRecord, ManualClock, type Value } from "../../engine/plugin.ts";
import { type AlarmConfig, createAlarm, validateAlarm } from "./mod.ts";
import { AlarmState as S, transition } from "./states.ts";

Deno.test("ISA-18.2 transitions: the full cycle with acknowledgement before and after clearing", () => {
  assert.equal(transition(S.NORM, "activate", true), S.UNACK);
  assert.equal(transition(S.UNACK, "acknowledge", true), S.ACKED);
  assert.equal(transition(S.ACKED, "clear", false), S.NORM);
  assert.equal(transition(S.UNACK, "clear", false), S.RTNUN);
  assert.equal(transition(S.RTNUN, "acknowledge", false), S.NORM);
  assert.equal(transition(S.RTNUN, "activate", true), S.UNACK);
  assert.equal(transition(S.NORM, "acknowledge", false), S.NORM);
  assert.equal(transition(S.ACKED, "activate", true), S.ACKED);
});

Deno.test("ISA-18.2 transitions: shelved and suppressed alarms ignore the process until released", () => {
  assert.equal(transition(S.UNACK, "shelve", true), S.SHLVD);
  assert.equal(transition(S.SHLVD, "activate", true), S.SHLVD);
  assert.equal(transition(S.SHLVD, "clear", false), S.SHLVD);
  assert.equal(transition(S.SHLVD, "unshelve", true), S.UNACK);
  assert.equal(transition(S.SHLVD, "unshelve", false), S.NORM);
  assert.equal(transition(S.ACKED, "suppress", true), S.DSUPR);
  assert.equal(transition(S.DSUPR, "shelve", true), S.DSUPR);
  assert.equal(transition(S.DSUPR, "unsuppress", false), S.NORM);
  assert.equal(transition(S.DSUPR, "unsuppress", true), S.UNACK);
});

const rec = (tag: string, ts: number, value: Value, extra: Partial<DataRecord> = {}) =>
  ({
    device: "plc",
    tag,
    value,
    quality: "good",
    sourceTs: ts,
    gatewayTs: ts,
    seq: 1,
    ...extra,
  }) as DataRecord;

/** Feeds values of `tag` one a second; returns the states emitted, as `t=state`. */
function states(config: AlarmConfig, values: number[], tag = "temp"): string[] {
  const step = createAlarm(config, { clock: new ManualClock(0) });
  const out: string[] = [];
  values.forEach((v, i) => {
    for (const r of step.process(Batch.from([rec(tag, i * 1000, v)])).toArray()) {
      out.push(`${r.sourceTs / 1000}=${(r.value as { state: string }).state}`);
    }
  });
  return out;
}

Deno.test("alarm high with hysteresis clears only below limit minus deadband", () => {
  const cfg: AlarmConfig = { rules: [{ tags: ["temp"], type: "high", limit: 80, deadband: 2 }] };
  // 81 activates; 79 is inside the deadband (holds); 77.9 clears, unacknowledged.
  assert.deepEqual(states(cfg, [70, 81, 79, 80.5, 77.9, 70]), ["1=UNACK", "4=RTNUN"]);
});

Deno.test("alarm on-delay needs the condition held that long; off-delay likewise", () => {
  const cfg: AlarmConfig = {
    rules: [{ tags: ["temp"], type: "high", limit: 80, onDelay: "2s", offDelay: "1s" }],
  };
  // Above at 1 s, dips at 2 s (timer restarts), above from 3 s: active at 5 s; clear from 6 s: at 7 s.
  assert.deepEqual(states(cfg, [0, 90, 0, 90, 90, 90, 0, 0, 0]), ["5=UNACK", "7=RTNUN"]);
});

Deno.test("alarm low, rate of change and deviation conditions", () => {
  assert.deepEqual(
    states({ rules: [{ type: "low", limit: 10, deadband: 1 }] }, [20, 9, 10.5, 11.5]),
    ["1=UNACK", "3=RTNUN"],
  );
  // Change per second: 0, 5, 20, 1.
  assert.deepEqual(
    states({ rules: [{ type: "rate", limit: 10 }] }, [0, 0, 5, 25, 26]),
    ["3=UNACK", "4=RTNUN"],
  );
  const step = createAlarm({
    rules: [{ tags: ["pv"], type: "deviation", reference: "sp", limit: 5 }],
  });
  const out = step.process(Batch.from([rec("sp", 0, 50), rec("pv", 0, 52), rec("pv", 1000, 56)]));
  assert.deepEqual(out.toArray().map((r) => (r.value as { state: string }).state), ["UNACK"]);
});

Deno.test("alarm records carry priority, value, limit and flow with the batch", () => {
  const step = createAlarm({
    rules: [{
      name: "hi",
      tags: ["temp"],
      type: "high",
      limit: 80,
      priority: "critical",
      message: "Boiler hot",
    }],
  }, { clock: new ManualClock(42) });
  const r = step.process(Batch.from([rec("temp", 7, 85)])).get(0);
  assert.equal(r.device, "plc");
  assert.equal(r.tag, "temp.hi");
  assert.equal(r.sourceTs, 7);
  assert.deepEqual(r.value, {
    state: "UNACK",
    active: true,
    acknowledged: false,
    type: "high",
    priority: "critical",
    value: 85,
    limit: 80,
    message: "Boiler hot",
  });
});

Deno.test("alarm acknowledge and shelve commands change state; shelving expires on the clock", async () => {
  const clock = new ManualClock(0);
  const step = createAlarm({ rules: [{ tags: ["temp"], type: "high", limit: 80 }] }, { clock });
  step.process(Batch.from([rec("temp", 0, 90)]));
  assert.equal(step.list()[0]!.state, "UNACK");
  assert.equal(step.command("plc/temp/high", "acknowledge")!.state, "ACKED");
  assert.equal(step.command("plc/nope/high", "acknowledge"), undefined);
  // The acknowledgement's record goes out with the next batch.
  const next = step.process(new Batch()).toArray();
  assert.deepEqual(
    next.map((r) => [(r.value as { state: string }).state, (r.value as { by: string }).by]),
    [["ACKED", "operator"]],
  );
  assert.equal(step.command("plc/temp/high", "shelve", 60_000)!.state, "SHLVD");
  step.process(Batch.from([rec("temp", 1000, 70), rec("temp", 2000, 95)]));
  assert.equal(step.list()[0]!.state, "SHLVD");
  await clock.advance(60_000);
  const out = step.process(new Batch()).toArray();
  // Still active when released: back to unacknowledged.
  assert.equal((out.at(-1)!.value as { state: string }).state, "UNACK");
});

Deno.test("alarm suppressed by design while its expression is true", () => {
  const step = createAlarm({
    rules: [{ tags: ["temp"], type: "high", limit: 80, suppressWhen: "running == 0" }],
  });
  const st = (b: DataRecord[]) =>
    step.process(Batch.from(b)).toArray().map((r) => (r.value as { state: string }).state);
  assert.deepEqual(st([rec("running", 0, 1), rec("temp", 0, 90)]), ["UNACK"]);
  assert.deepEqual(st([rec("running", 1000, 0), rec("temp", 1000, 95)]), ["DSUPR"]);
  assert.deepEqual(st([rec("temp", 2000, 60)]), []);
  assert.deepEqual(st([rec("running", 3000, 1), rec("temp", 3000, 60)]), ["NORM"]);
});

Deno.test("alarm leaves its state alone on bad inputs", () => {
  const step = createAlarm({ rules: [{ type: "high", limit: 80 }] });
  step.process(Batch.from([rec("temp", 0, 90)]));
  const out = step.process(Batch.from([rec("temp", 1000, 0, { quality: "bad" })]));
  assert.equal(out.length, 0);
  assert.equal(step.list()[0]!.state, "UNACK");
  assert.equal(step.stats().bad, 1);
});

Deno.test("alarm validate catches deviation without reference and bad suppressWhen", () => {
  const issues = validateAlarm({
    rules: [
      { type: "deviation", limit: 1 },
      { type: "high", limit: 1, reference: "x" },
      { name: "s", type: "high", limit: 1, suppressWhen: "a + " },
    ],
  });
  assert.deepEqual(issues.map((i) => [i.path.join("/"), i.offset]), [
    ["rules/0/type", undefined],
    ["rules/1/reference", undefined],
    ["rules/2/suppressWhen", 4],
  ]);
});

Deno.test("alarm persist: acknowledged and shelved states survive a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-alarm-" });
  try {
    const config: AlarmConfig = {
      rules: [{ tags: ["temp", "temp2"], type: "high", limit: 80 }],
      persist: true,
    };
    const clock = new ManualClock(0);
    const a = createAlarm(config, { name: "alarms", dataDir: dir, clock });
    await a.start!();
    a.process(Batch.from([rec("temp", 0, 90), rec("temp2", 0, 95)]));
    a.command("plc/temp/high", "acknowledge");
    a.command("plc/temp2/high", "shelve", 60_000);
    await a.close!();
    const b = createAlarm(config, { name: "alarms", dataDir: dir, clock });
    await b.start!();
    assert.deepEqual(b.list().map((x) => `${x.id}=${x.state}`), [
      "plc/temp/high=ACKED",
      "plc/temp2/high=SHLVD",
    ]);
    // Still active: no new UNACK record for temp after the restart; clearing goes to NORM.
    const out = b.process(Batch.from([rec("temp", 1000, 90), rec("temp", 2000, 10)])).toArray();
    assert.deepEqual(out.map((r) => (r.value as { state: string }).state), ["NORM"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
