/**
 * @module
 * The core cases of the driver conformance suite (see `driver.ts`). Each case gets the driver's
 * options, starts what it needs and closes it, whatever happens. Every wait is bounded by the
 * configured timeout: a driver that hangs fails its case with a message, it does not stall
 * the run.
 */

import { systemClock } from "../../engine/clock.ts";
import type { ReadPlan, TagResult } from "../../engine/driver.ts";
import { BifrostError, type ErrorCode } from "../../engine/errors.ts";
import { createLogger } from "../../engine/log.ts";
import { DeviceRuntime } from "../../engine/runtime/device.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import type { DriverCase } from "./_driver_types.ts";
import {
  conformanceDevice,
  connectedPair,
  ctx,
  hangMs,
  readBoth,
  show,
  signal,
  slack,
  within,
} from "./_driver_helpers.ts";

function assertCode(e: unknown, code: ErrorCode, what: string): BifrostError {
  assert(e instanceof BifrostError, `${what}: expected a BifrostError, got ${String(e)}`);
  assertEquals(e.code, code, `${what}: ${e.message}`);
  assert(e.message.length > 10, `${what}: the message says what failed: "${e.message}"`);
  return e;
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The "connect" case. */
export const connect: DriverCase = {
  name: "connect",
  does: "connect() then read() returns every tag's value",
  async run(o) {
    await using pair = await connectedPair(o);
    const plan = pair.driver.plan(o.tags.map((t) => t.tag));
    const rs = await readBoth(o, pair.driver, plan);
    assertEquals(rs.map(show), o.tags.map((t) => t.value));
  },
};

/** The "refused" case. */
export const refused: DriverCase = {
  name: "refused connection",
  does: "connect() fails with DEVICE_UNREACHABLE naming the device, before the timeout",
  async run(o) {
    const device = conformanceDevice(o, o.refused(), "refused-device");
    const driver = o.module.create(device, ctx);
    const started = performance.now();
    const e = await within(o.timeoutMs + slack(o), "connect()", caught(driver.connect(signal(o))));
    await driver.close();
    const err = assertCode(e, "DEVICE_UNREACHABLE", "connect() to nothing");
    const where = ["refused-device", ...Object.values(o.refused()).map(String)];
    assert(
      where.some((w) => err.message.includes(w)),
      `the message names the device or its address: "${err.message}"`,
    );
    assert(performance.now() - started <= o.timeoutMs + slack(o), "refused before the timeout");
  },
};

/** The "timeout" case. */
export const timeout: DriverCase = {
  name: "timeout",
  does: "a device that does not answer fails with TIMEOUT within the configured time",
  async run(o) {
    // The configured (tight) timeout: the bounds are what this case checks.
    await using pair = await connectedPair(o, o.timeoutMs, 3);
    // One tag, one request: a plan of n requests may take n timeouts.
    const plan = pair.driver.plan([o.tags[0]!.tag]);
    pair.sim.silence(true);
    const started = performance.now();
    const bound = o.timeoutMs + slack(o);
    let rs: TagResult[] | undefined;
    const e = await within(
      hangMs(o, o.timeoutMs),
      "read() of a silent device",
      caught(pair.driver.read(plan, signal(o)).then((r) => void (rs = r))),
    );
    const ms = performance.now() - started;
    if (e !== undefined) assertCode(e, "TIMEOUT", "read() of a silent device");
    else {
      for (const r of rs!) assert(!r.ok && r.error.code === "TIMEOUT", `got ${show(r)}`);
    }
    assert(ms <= bound, `timed out after ${ms.toFixed(0)} ms; configured ${o.timeoutMs} ms`);
    assert(ms >= o.timeoutMs * 0.8, `gave up after ${ms.toFixed(0)} ms, before the timeout`);
  },
};

/** The "write" case. */
export const write: DriverCase = {
  name: "write and read back",
  does: "write() reaches the device and read() gives the value back",
  async run(o) {
    await using pair = await connectedPair(o);
    const first = o.tags[0]!.tag;
    await within(
      hangMs(o),
      "write()",
      pair.driver.write(first, o.writeValue, signal(o)),
    );
    assertEquals(pair.sim.getValue(first), o.writeValue, "the device holds the written value");
    const rs = await readBoth(o, pair.driver, pair.driver.plan([first]));
    assertEquals(rs.map(show), [o.writeValue]);
  },
};

/** The "refuseWrite" case. */
export const refuseWrite: DriverCase = {
  name: "write refused",
  does: "a write to a non-writable tag is refused with WRITE_REJECTED",
  async run(o) {
    const sim = await o.startSimulator();
    for (const t of o.tags) sim.setValue(t.tag, t.value);
    const rt = new DeviceRuntime(conformanceDevice(o, sim.connection), o.module, ctx);
    rt.start();
    try {
      await within(hangMs(o), "the first connect", rt.whenConnected());
      const first = o.tags[0]!;
      const e = await caught(rt.write({ ...first.tag, writable: false }, o.writeValue));
      assertCode(e, "WRITE_REJECTED", "write() of a tag not marked writable");
      assertEquals(sim.getValue(first.tag), first.value, "the device value is untouched");
      if (o.readOnlyTag) {
        const ro = await caught(rt.driver.write(o.readOnlyTag, o.writeValue, signal(o)));
        assertCode(ro, "WRITE_REJECTED", `write() to read-only "${o.readOnlyTag.address}"`);
      }
    } finally {
      await rt.stop();
      await sim.close();
    }
  },
};

/** The "badQuality" case. */
export const badQuality: DriverCase = {
  name: "bad quality",
  does: "a failing tag is bad with its reason while the rest of the poll is read",
  async run(o) {
    await using pair = await connectedPair(o);
    const plan = pair.driver.plan(o.tags.map((t) => t.tag));
    const bad = o.tags.length - 1;
    pair.sim.failTag(o.tags[bad]!.tag);
    const rs = await readBoth(o, pair.driver, plan);
    for (const [i, r] of rs.entries()) {
      if (i !== bad) {
        assertEquals(show(r), o.tags[i]!.value, `tag ${o.tags[i]!.tag.name}`);
        continue;
      }
      assert(!r.ok, `the failing tag is bad, got ${show(r)}`);
      assert(r.error instanceof BifrostError, "a failing tag carries a BifrostError");
      assertMatch(r.error.message, /conformance-device/);
    }
  },
};

/** The "uncertainQuality" case. */
export const uncertainQuality: DriverCase = {
  name: "uncertain quality",
  does: "a value the device vouches for only in part keeps its value, uncertain with the reason",
  skip: (o) => o.uncertain ? undefined : "the protocol has no uncertain quality",
  async run(o) {
    await using pair = await connectedPair(o);
    assert(pair.sim.uncertainTag, "a driver with `uncertain` has a simulator with uncertainTag");
    const plan = pair.driver.plan(o.tags.map((t) => t.tag));
    const last = o.tags.length - 1;
    const undo = pair.sim.uncertainTag(o.tags[last]!.tag);
    const rs = await readBoth(o, pair.driver, plan);
    for (const [i, r] of rs.entries()) {
      assert(r.ok, `tag ${o.tags[i]!.tag.name} has its value, got ${show(r)}`);
      assertEquals(r.value, o.tags[i]!.value, `tag ${o.tags[i]!.tag.name}`);
      if (i !== last) assertEquals(r.uncertain, undefined, `tag ${o.tags[i]!.tag.name} is good`);
      else assertMatch(r.uncertain ?? "(good)", o.uncertain!.reason);
    }
    undo();
    const again = await readBoth(o, pair.driver, plan);
    const r = again[last]!;
    assert(r.ok && r.uncertain === undefined, `good again after the undo, got ${show(r)}`);
  },
};

/** The "planDescription" case. */
export const planDescription: DriverCase = {
  name: "plan description",
  does: "plan().describe() lists the requests and names every tag",
  run(o) {
    const driver = o.module.create(conformanceDevice(o, o.refused()), ctx);
    const tags = o.tags.map((t) => t.tag);
    const lines = driver.plan(tags).describe();
    assert(lines.length > 0, "describe() lists the plan's requests");
    for (const l of lines) assert(l.trim().length > 0, "no empty line");
    const text = lines.join("\n");
    for (const t of tags) assert(text.includes(t.name), `"${t.name}" is in: ${text}`);
  },
};

/** Reads until `done` holds for a read, at most `ms`; returns the last results. */
async function readUntil(
  rt: DeviceRuntime,
  plan: ReadPlan,
  done: (rs: TagResult[]) => boolean,
  ms: number,
  what: string,
): Promise<TagResult[]> {
  const end = performance.now() + ms;
  for (;;) {
    const rs = await rt.read(plan);
    if (done(rs)) return rs;
    if (performance.now() > end) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; last: ${rs.map(show)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The "restart" case. */
export const restart: DriverCase = {
  name: "restart and recovery",
  does: "DeviceRuntime logs one line for the loss, one for the recovery, and values flow again",
  async run(o) {
    const sim = await o.startSimulator();
    for (const t of o.tags) sim.setValue(t.tag, t.value);
    const lines: { level: string; msg: string }[] = [];
    const log = createLogger({
      level: "info",
      json: true,
      write: (l) => lines.push(JSON.parse(l)),
    });
    // The configured timeout: a serial line finds the device gone by timeouts.
    const device = conformanceDevice(o, sim.connection, "conformance-device", o.timeoutMs);
    const rt = new DeviceRuntime(device, o.module, {
      log,
      clock: systemClock,
      backoff: { baseMs: 20, maxMs: 100 },
      pollEveryMs: 100,
    });
    rt.start();
    try {
      const first = o.tags[0]!;
      const plan = rt.plan([first.tag]);
      const bound = o.timeoutMs * 10 + 5_000;
      await readUntil(rt, plan, (rs) => rs[0]!.ok, bound, "the first value");
      const before = lines.length;
      await sim.stop();
      await readUntil(rt, plan, () => rt.health().state !== "connected", bound, "the loss");
      await readUntil(rt, plan, (rs) => !rs[0]!.ok, bound, "a bad value while off");
      await sim.start();
      sim.setValue(first.tag, o.writeValue);
      await readUntil(rt, plan, (rs) => show(rs[0]) === o.writeValue, bound, "the new value");
      const after = lines.slice(before).map((l) => `${l.level}: ${l.msg}`);
      const losses = after.filter((l) => !l.startsWith("info"));
      const recoveries = after.filter((l) => l.startsWith("info"));
      assertEquals(losses.length, 1, `one line for the loss, got:\n${after.join("\n")}`);
      assertEquals(recoveries.length, 1, `one line for the recovery, got:\n${after.join("\n")}`);
      assertEquals(rt.health().state, "connected");
    } finally {
      await rt.stop();
      await sim.close();
    }
  },
};
