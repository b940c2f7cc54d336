import { assertEquals } from "../../tests/_assert.ts";
import type { LossReport } from "./accounting.ts";
import { failures, formatElapsed, MIN_SLOPE_WINDOW_S, type Verdict } from "./report.ts";

const loss = (lost: number): LossReport => ({
  produced: 100,
  delivered: 100 - lost,
  lost,
  duplicates: 3,
  unexpected: 0,
  missing: [],
});

const verdict = (v: Partial<Verdict>): Verdict => ({
  minutes: 60,
  alive: true,
  gatewayProblem: undefined,
  mqtt: loss(0),
  history: loss(0),
  slopeMbPerHour: 1.5,
  slopeWindowS: 2400,
  maxSlope: 8,
  ...v,
});

Deno.test("failures passes a run with nothing lost, the gateway alive and a flat RSS", () => {
  assertEquals(failures(verdict({})), []);
});

Deno.test("failures names every reason a run fails", () => {
  assertEquals(
    failures(verdict({
      alive: false,
      gatewayProblem: "it exited at +16s with code 1",
      mqtt: loss(2),
      history: undefined,
      slopeMbPerHour: 12.5,
    })),
    [
      "gateway not alive: it exited at +16s with code 1",
      "2 records lost on the MQTT path",
      "no history accounting",
      "RSS slope 12.50 MB/h over the bound 8 MB/h",
    ],
  );
});

Deno.test("failures judges the RSS slope only on 10 minutes of samples or more", () => {
  const short = verdict({ slopeMbPerHour: 900, slopeWindowS: MIN_SLOPE_WINDOW_S - 1 });
  assertEquals(failures(short), []);
  assertEquals(failures(verdict({ slopeMbPerHour: undefined })), [
    "RSS slope not measured (too few samples)",
  ]);
});

Deno.test("formatElapsed writes hours, minutes and seconds", () => {
  assertEquals([formatElapsed(12), formatElapsed(245), formatElapsed(3723)], [
    "12s",
    "4m05s",
    "1h02m03s",
  ]);
});
