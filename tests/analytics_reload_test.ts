/**
 * @module
 * Hot reload and the state of the analytics steps, end to end: a gateway polls the Modbus
 * simulator every 100 ms over real TCP into two windows (open for an hour: their panes fill
 * across the reload) and an alarm step (one alarm unacknowledged, one acknowledged through
 * the step's command). A new revision changes an unrelated step's gain and two windows'
 * aggregates. The unchanged window and alarm step keep their instance and state (the window's
 * count goes on from where it was; the alarms stay UNACK and ACKED with their first change
 * time); the changed window starts fresh, and the changed one declared `persist: true` takes
 * the snapshot its predecessor wrote on close.
 */

import { join } from "node:path";
import { assert, assertEquals, waitFor } from "./_assert.ts";
import { loadFlows } from "../engine/flow/mod.ts";
import { registries } from "../app/registries.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import type { WindowStep } from "../steps/window/mod.ts";
import type { AlarmStep } from "../steps/alarm/mod.ts";
import { P, PANE_FIELDS } from "../steps/window/panes.ts";

function flowYaml(port: number, gain: number, changedAggs: string): string {
  return `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    tags:
      a: { address: HR0, type: int16 }
      b: { address: HR1, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 100ms }
steps:
  sc: { use: scale, from: fast, tags: [a], gain: ${gain} }
  kept-window: { use: window, from: fast, tags: [a], size: 1h, aggregates: [count, p95] }
  changed-window: { use: window, from: fast, tags: [a], size: 1h, aggregates: ${changedAggs} }
  restored-window:
    use: window
    from: fast
    tags: [a]
    size: 1h
    persist: true
    aggregates: ${changedAggs}
  alarms:
    use: alarm
    from: fast
    rules:
      - { name: hi, tags: [a], type: high, limit: 80 }
      - { name: lo, tags: [b], type: low, limit: 10 }
sinks:
  history:
    use: sqlite
    from: [sc, kept-window, changed-window, restored-window, alarms]
    path: PATH
`;
}

/** Records in the open panes of a window (its state, not its counters). */
function paneCount(w: WindowStep): number {
  const panes = w.snapshot().arrays.panes as Float64Array;
  let n = 0;
  for (let o = 0; o < panes.length; o += PANE_FIELDS) {
    if (Number.isFinite(panes[o + P.id]!)) n += panes[o + P.n]!;
  }
  return n;
}

Deno.test("a reload keeps the state of unchanged analytics steps; a changed one starts fresh", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 90 }, HR1: { type: "int16", value: 7 } } },
  });
  const dir = await Deno.makeTempDir({ prefix: "bifrost-analytics-reload-" });
  const write = (gain: number, aggs: string) =>
    Deno.writeTextFile(
      join(dir, "flow.yaml"),
      flowYaml(sim.port, gain, aggs).replace("PATH", join(dir, "h.db")),
    );
  const load = async () => {
    const r = await loadFlows(dir, { env: {}, sources: registries });
    assertEquals(r.errors.map((e) => e.message), []);
    return r.flows!;
  };
  await write(2, "[count]");
  const gw = new Gateway(await load(), { sources: registries, dataDir: join(dir, "data") });
  const step = <T>(name: string) => gw.consumers.get(name)!.step as unknown as T;
  await gw.start();
  try {
    await waitFor(() => (gw.stats().polls.fast?.runs ?? 0) >= 5, 10_000, "five polls");
    const kept = step<WindowStep>("kept-window");
    const changed = step<WindowStep>("changed-window");
    const persisted = step<WindowStep>("restored-window");
    const alarms = step<AlarmStep>("alarms");
    await waitFor(() => alarms.list().length === 2, 10_000, "both alarms raised");
    const lo = alarms.list().find((a) => a.alarm === "lo")!;
    assertEquals(alarms.command(lo.id, "acknowledge", undefined, "test")?.state, "ACKED");
    await waitFor(() => paneCount(changed) >= 5, 10_000, "the changed window filling");
    const before = new Map(alarms.list().map((a) => [a.alarm, a]));
    assertEquals(before.get("hi")!.state, "UNACK");
    assertEquals(before.get("lo")!.state, "ACKED");
    const keptBefore = paneCount(kept);
    const changedBefore = paneCount(changed);
    const persistedBefore = paneCount(persisted);
    assert(keptBefore >= 5, `kept window holds ${keptBefore} records`);

    await write(3, "[count, max]");
    const d = await gw.apply(await load());
    assertEquals(d.steps.changed.sort(), ["changed-window", "restored-window", "sc"]);
    assertEquals(d.steps.kept.sort(), ["alarms", "kept-window"]);

    // Unchanged: the same instances, their state intact and growing.
    assert(step<WindowStep>("kept-window") === kept, "the kept window is the same instance");
    assert(step<AlarmStep>("alarms") === alarms, "the alarm step is the same instance");
    assert(paneCount(kept) >= keptBefore, "the kept window lost nothing");
    const after = new Map(alarms.list().map((a) => [a.alarm, a]));
    assertEquals(after.get("hi")!.state, "UNACK");
    assertEquals(after.get("lo")!.state, "ACKED", "the acknowledgement survived");
    assertEquals(after.get("hi")!.changedAt, before.get("hi")!.changedAt);
    assertEquals(after.get("lo")!.changedAt, before.get("lo")!.changedAt);

    // Changed with `persist: true`: a new instance that took its predecessor's snapshot (new
    // aggregates keep the windows' state).
    const restored = step<WindowStep>("restored-window");
    assert(restored !== persisted, "the persisted window was replaced");
    assert(
      paneCount(restored) >= persistedBefore,
      `the persisted window restored its state (${paneCount(restored)} vs ${persistedBefore})`,
    );
    // Changed without: a new instance, empty at first.
    const fresh = step<WindowStep>("changed-window");
    assert(fresh !== changed, "the changed window was replaced");
    const freshAtStart = paneCount(fresh);
    assert(
      freshAtStart < changedBefore,
      `the changed window starts fresh (${freshAtStart} vs ${changedBefore} before)`,
    );
    const polled = gw.stats().polls.fast!.runs;
    await waitFor(() => gw.stats().polls.fast!.runs >= polled + 5, 10_000, "polls after reload");
    await waitFor(() => paneCount(fresh) >= 5, 10_000, "the new window filling");
    // Every poll's `a` after the reload reached both windows: the kept one counts on.
    const grown = paneCount(kept) - keptBefore;
    assert(grown >= 5, `the kept window went on counting (+${grown})`);
    assert(
      paneCount(kept) >= keptBefore + paneCount(fresh) - 2,
      `kept ${paneCount(kept)} = before ${keptBefore} + since the reload (fresh ${
        paneCount(fresh)
      })`,
    );
  } finally {
    await gw.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
