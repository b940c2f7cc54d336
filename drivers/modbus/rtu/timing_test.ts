/**
 * @module
 * Tests of the RTU silences against the Modbus serial line spec.
 */

import assert from "node:assert/strict";
import {
  charTimeMs,
  DEFAULT_TURNAROUND_MS,
  isBroadcast,
  remainingSilenceMs,
  rtuTimings,
  silenceAfterRequestMs,
  transmitTimeMs,
} from "./timing.ts";

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

Deno.test("rtuTimings() computes t1.5 and t3.5 from 11-bit characters up to 19200 baud", () => {
  const t = rtuTimings(9600);
  near(t.charMs, 11000 / 9600);
  near(t.t15Ms, 1.5 * 11000 / 9600);
  near(t.t35Ms, 3.5 * 11000 / 9600);
  near(rtuTimings(19200).t35Ms, 3.5 * 11000 / 19200);
  near(rtuTimings(1200).t35Ms, 3.5 * 11000 / 1200);
});

Deno.test("rtuTimings() fixes t1.5 = 0.75 ms and t3.5 = 1.75 ms above 19200 baud", () => {
  for (const baud of [38400, 57600, 115200]) {
    const t = rtuTimings(baud);
    assert.equal(t.t15Ms, 0.75);
    assert.equal(t.t35Ms, 1.75);
    near(t.charMs, 11000 / baud);
  }
});

Deno.test("charTimeMs() rejects impossible baud rates", () => {
  assert.throws(() => charTimeMs(0), /baud rate 0/);
  assert.throws(() => rtuTimings(-9600), RangeError);
  near(transmitTimeMs(9600, 8), 8 * 11000 / 9600);
});

Deno.test("broadcasts wait the turnaround delay, addressed requests their response", () => {
  assert.ok(isBroadcast(0));
  assert.ok(!isBroadcast(1));
  assert.equal(silenceAfterRequestMs(0), DEFAULT_TURNAROUND_MS);
  assert.equal(silenceAfterRequestMs(0, 250), 250);
  assert.equal(silenceAfterRequestMs(17), undefined);
});

Deno.test("remainingSilenceMs() waits only for what is left of t3.5", () => {
  assert.equal(remainingSilenceMs(4, 100, 101), 3);
  assert.equal(remainingSilenceMs(4, 100, 104), 0);
  assert.equal(remainingSilenceMs(4, 100, 200), 0);
});
