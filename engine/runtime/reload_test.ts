/**
 * @module
 * `diffFlows` sorts every name into added, removed, changed or kept: origins and `from:`
 * are not configuration, a changed device takes its polls with it, tags compare by value.
 */

import { assert, assertEquals } from "../../tests/_assert.ts";
import { FlowTag } from "../flow/tag.ts";
import type { DeviceEntry, FlowSet, Origin, PollConfig, StepConfig } from "../flow/types.ts";
import { describeDiff, diffFlows, sameValue } from "./reload.ts";

const at = (line: number): Origin => ({ file: "flows/a.yaml", line, column: 3 });

function device(name: string, port = 502, tags: Record<string, string> = { t: "HR0" }) {
  const d: DeviceEntry = {
    name,
    driver: "modbus-tcp",
    config: { host: "127.0.0.1", port },
    tags: new Map(
      Object.entries(tags).map(([n, a]) => [n, new FlowTag(n, { address: a })]),
    ),
    origin: at(1),
  };
  return d;
}

function poll(name: string, dev: string, everyMs = 1000, line = 10): PollConfig {
  return { name, device: dev, tags: "*", everyMs, origin: at(line) };
}

function step(name: string, from: string[], gain = 2): StepConfig {
  return { name, use: "scale", from, config: { gain }, origin: at(20) };
}

function flows(parts: {
  devices?: DeviceEntry[];
  polls?: PollConfig[];
  steps?: StepConfig[];
  sinks?: StepConfig[];
}): FlowSet {
  const byName = <T extends { name: string }>(xs: T[] = []) => new Map(xs.map((x) => [x.name, x]));
  return {
    dir: "flows",
    files: ["flows/a.yaml"],
    devices: byName(parts.devices),
    polls: byName(parts.polls),
    steps: byName(parts.steps),
    sinks: byName(parts.sinks),
  };
}

const base = () =>
  flows({
    devices: [device("plc"), device("old")],
    polls: [poll("fast", "plc"), poll("p-old", "old")],
    steps: [step("sc", ["fast"])],
    sinks: [{ ...step("out", ["sc"]), use: "console", config: {} }],
  });

Deno.test("diffFlows: an identical revision declared elsewhere changes nothing", () => {
  const b = base();
  const moved = base();
  moved.polls.set("fast", poll("fast", "plc", 1000, 99));
  const d = diffFlows(b, moved);
  assert(d.empty, describeDiff(d));
  assertEquals(d.polls.kept.sort(), ["fast", "p-old"]);
  assertEquals(describeDiff(d), "nothing changed");
});

Deno.test("diffFlows: sorts names into added, removed, changed and kept", () => {
  const next = flows({
    devices: [device("plc"), device("new")],
    polls: [poll("fast", "plc", 500), poll("p-new", "new")],
    steps: [step("sc", ["fast"], 3)],
    sinks: [{ ...step("out", ["sc", "p-new"]), use: "console", config: {} }],
  });
  const d = diffFlows(base(), next);
  assertEquals(d.devices, { added: ["new"], removed: ["old"], changed: [], kept: ["plc"] });
  assertEquals(d.polls, { added: ["p-new"], removed: ["p-old"], changed: ["fast"], kept: [] });
  assertEquals(d.steps, { added: [], removed: [], changed: ["sc"], kept: [] });
  // Only its `from:` differs: the sink stays, the graph is rewired.
  assertEquals(d.sinks, { added: [], removed: [], changed: [], kept: ["out"] });
  assert(d.rewired && !d.empty);
  assertEquals(
    describeDiff(d),
    "devices +new -old; polls +p-new -p-old ~fast; steps ~sc; graph rewired",
  );
});

Deno.test("diffFlows: a changed device restarts its polls, even unchanged ones", () => {
  const next = base();
  next.devices.set("plc", device("plc", 5020));
  const d = diffFlows(base(), next);
  assertEquals(d.devices.changed, ["plc"]);
  assertEquals(d.polls.changed, ["fast"]);
  assertEquals(d.polls.kept, ["p-old"]);
});

Deno.test("diffFlows: a tag's address, a new tag or a step's use count as changes", () => {
  const retag = base();
  retag.devices.set("plc", device("plc", 502, { t: "HR1" }));
  assertEquals(diffFlows(base(), retag).devices.changed, ["plc"]);
  const more = base();
  more.devices.set("plc", device("plc", 502, { t: "HR0", u: "HR1" }));
  assertEquals(diffFlows(base(), more).devices.changed, ["plc"]);
  const use = base();
  use.steps.set("sc", { ...step("sc", ["fast"]), use: "deadband" });
  assertEquals(diffFlows(base(), use).steps.changed, ["sc"]);
});

Deno.test("sameValue compares maps, arrays and nested objects by value", () => {
  assert(sameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  assert(!sameValue({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }));
  assert(!sameValue({ a: 1 }, { a: 1, b: undefined }));
  assert(!sameValue(new Map([["x", 1]]), new Map([["y", 1]])));
  assert(!sameValue([1], { 0: 1 }));
  assert(sameValue(NaN, NaN));
});

Deno.test("diffFlows: a function step whose code fingerprint changed is changed, with the same YAML", () => {
  const fn = (source: string): StepConfig => ({
    name: "fn",
    use: "function",
    from: ["p"],
    config: { file: "../functions/f.ts" },
    source,
    origin: at(30),
  });
  const base = { devices: [device("d")], polls: [poll("p", "d")] };
  const same = diffFlows(
    flows({ ...base, steps: [fn("aaaa")] }),
    flows({ ...base, steps: [fn("aaaa")] }),
  );
  assert(same.empty);
  const d = diffFlows(
    flows({ ...base, steps: [fn("aaaa")] }),
    flows({ ...base, steps: [fn("bbbb")] }),
  );
  assertEquals(d.steps.changed, ["fn"]);
  assertEquals(describeDiff(d), "steps ~fn");
});
