import assert from "node:assert/strict";
import {
  flowsProblems,
  historyToCsv,
  historyToJson,
  NotifyOnce,
  perfRows,
  problems,
  sparkline,
} from "./perf.ts";
import type { DeviceInfo, History, Stats } from "./gateway.ts";

const dev = (o: Partial<DeviceInfo>): DeviceInfo => ({
  name: "plc",
  driver: "modbus-tcp",
  state: "connected",
  since: 0,
  answering: true,
  reads: 5,
  readErrors: 0,
  timeouts: 0,
  connectFailures: 0,
  tags: 2,
  ...o,
});

const stats = (errors: number): Stats => ({
  polls: { fast: { runs: 10, skipped: 2, p99LateMs: 3.5 } },
  subscriptions: {},
  steps: {},
  sinks: { uns: { use: "mqtt", counters: { depth: 1500, oldestAgeMs: 4200, errors, dropped: 1 } } },
});

Deno.test("perfRows() shows latency, errors, lateness and backlogs, flagging trouble", () => {
  const rows = perfRows(
    [dev({ latencyMs: 2.25 }), dev({ name: "meter", state: "backoff" })],
    stats(0),
  );
  assert.deepEqual(rows.map((r) => [r.group, r.name, r.text, r.warn]), [
    ["devices", "plc", "connected, 2.3 ms, 5 reads, 0 errors, 0 timeouts", false],
    ["devices", "meter", "backoff, no read yet, 5 reads, 0 errors, 0 timeouts", true],
    ["polls", "fast", "10 runs, 2 skipped, p99 late 3.5 ms", true],
    ["sinks", "uns", "mqtt: backlog 1500, oldest 4.2 s, 0 errors, 1 dropped", true],
  ]);
});

Deno.test("problems() with NotifyOnce tell each problem once, again after it cleared", () => {
  const once = new NotifyOnce();
  const down = [dev({ state: "backoff", lastError: "connection refused" })];
  const first = once.fresh(problems("gw", down, stats(1), stats(0)));
  assert.deepEqual(first.map((p) => p.message), [
    'gw: device "plc" is down: connection refused',
    'gw: sink "uns" (mqtt) is failing: 1 failed write(s)',
  ]);
  // Still down, sink failing more: nothing new to say.
  assert.deepEqual(
    once.fresh(problems("gw", down, stats(2), stats(1)))
      .filter((p) => !p.key.includes("sink")),
    [],
  );
  // Back up, then down again: told again.
  assert.deepEqual(once.fresh(problems("gw", [dev({})], stats(2), stats(2))), []);
  assert.equal(once.fresh(problems("gw", down, stats(2), stats(2))).length, 1);
});

Deno.test("historyToCsv() and historyToJson() export every point", () => {
  const h: History = {
    device: "plc",
    tag: 'name, "quoted"',
    sink: "history",
    from: 0,
    to: 2000,
    downsampled: true,
    records: 40,
    truncated: false,
    points: [
      { ts: 0, value: 1.5, min: 1, max: 2, count: 20, quality: "good" },
      { ts: 1000, value: "9007199254740993", count: 1, quality: "bad" },
    ],
  };
  assert.equal(
    historyToCsv(h),
    "time,ts,device,tag,value,min,max,count,quality\n" +
      '1970-01-01T00:00:00.000Z,0,plc,"name, ""quoted""",1.5,1,2,20,good\n' +
      '1970-01-01T00:00:01.000Z,1000,plc,"name, ""quoted""",9007199254740993,,,1,bad\n',
  );
  assert.deepEqual(JSON.parse(historyToJson(h)), h);
});

Deno.test("sparkline() scales values to eight levels", () => {
  assert.equal(sparkline([0, 7, 14]), "▁▅█");
  assert.equal(sparkline([5, 5]), "▄▄");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline(Array.from({ length: 100 }, (_, i) => i), 10).length, 10);
});

Deno.test("flowsProblems() reports rejected flows once per set of errors", () => {
  const base = {
    revision: "r1",
    dir: "flows",
    files: ["a.yaml"],
    devices: 1,
    polls: 1,
    steps: 0,
    sinks: 0,
  };
  assert.deepEqual(flowsProblems("gw", { ...base, valid: true, errors: [] }), []);
  const errors = ["a.yaml:3:5 error: unknown field", "a.yaml:4:1 error: x", "c", "d"];
  const [p] = flowsProblems("gw", { ...base, valid: false, errors });
  assert.equal(
    p?.message,
    "gw: flows rejected: a.yaml:3:5 error: unknown field; a.yaml:4:1 error: x; c (+1 more)",
  );
  const once = new NotifyOnce();
  assert.equal(once.fresh([p!]).length, 1);
  assert.equal(once.fresh(flowsProblems("gw", { ...base, valid: false, errors })).length, 0);
});
