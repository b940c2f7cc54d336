/**
 * @module
 * Helpers of the driver conformance cases: the device config of the suite,
 * a connected simulator and driver pair, bounded waits and reads through both read paths.
 */

import { systemClock } from "../../engine/clock.ts";
import type { DeviceConfig, Driver, ReadPlan, TagResult } from "../../engine/driver.ts";
import { nullLogger } from "../../engine/log.ts";
import { assert, assertEquals } from "../_assert.ts";
import type { ConformanceSimulator, DriverConformanceOptions } from "./_driver_types.ts";

/** A driver context that logs nothing. */
export const ctx = { log: nullLogger, clock: systemClock };

/** Rejects with a clear message when `p` takes longer than `ms` (a hang is a failure). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A simulator and a driver connected to it, both closed by `await using`. The driver's
 * timeout is `timeoutMs` (default {@linkcode relaxedTimeoutMs}); `attempts` connects are
 * tried (only the "timeout" case, whose strict timeout a loaded machine may miss on connect,
 * tries more than one).
 */
export async function connectedPair(
  o: DriverConformanceOptions,
  timeoutMs = relaxedTimeoutMs(o),
  attempts = 1,
): Promise<{ sim: ConformanceSimulator; driver: Driver } & AsyncDisposable> {
  const sim = await o.startSimulator();
  for (const t of o.tags) sim.setValue(t.tag, t.value);
  const driver = o.module.create(
    conformanceDevice(o, sim.connection, "conformance-device", timeoutMs),
    ctx,
  );
  for (let attempt = 1;; attempt++) {
    try {
      await within(hangMs(o, timeoutMs), "connect()", driver.connect(signal(o)));
      break;
    } catch (e) {
      await driver.close().catch(() => {});
      if (attempt < attempts) continue;
      await sim.close();
      throw e;
    }
  }
  return {
    sim,
    driver,
    async [Symbol.asyncDispose]() {
      await driver.close();
      await sim.close();
    },
  };
}

/**
 * The driver timeout of every case but the two that check time bounds ("timeout", "restart
 * and recovery"), ms: ten times {@linkcode DriverConformanceOptions.timeoutMs}, at least 5 s.
 * A case that checks what a driver does must not fail because a loaded machine (test files
 * run in parallel on two cores, a first request that compiles its code path) answered a
 * loopback request later than a tight timeout; a driver that never answers still fails.
 */
export function relaxedTimeoutMs(o: DriverConformanceOptions): number {
  return Math.max(5_000, o.timeoutMs * 10);
}

/**
 * How long one call to a driver whose timeout is `timeoutMs` may take before the suite calls
 * it hung, ms (a plan of several requests may take several timeouts).
 */
export function hangMs(o: DriverConformanceOptions, timeoutMs = relaxedTimeoutMs(o)): number {
  return timeoutMs * 4 + slack(o);
}

/** The slack on time bounds, ms. */
export function slack(o: DriverConformanceOptions): number {
  return o.slackMs ?? 500;
}

/** A signal that ends a call that outlived every bound of the suite. */
export function signal(o: DriverConformanceOptions): AbortSignal {
  return AbortSignal.timeout(hangMs(o) + 5_000);
}

/** A result as a test shows it: the value, or `bad CODE: message`. */
export const show = (r: TagResult | undefined): unknown =>
  r === undefined
    ? "no result"
    : r.ok
    ? (r.uncertain === undefined ? r.value : { value: r.value, uncertain: r.uncertain })
    : `bad ${r.error.code}: ${r.error.message}`;

/** Reads `plan` through `read()` and, when the driver has it, `readInto()`; both must agree. */
export async function readBoth(
  o: DriverConformanceOptions,
  driver: Driver,
  plan: ReadPlan,
): Promise<TagResult[]> {
  const rs = await within(hangMs(o), "read()", driver.read(plan, signal(o)));
  assertEquals(rs.length, plan.tags.length, "read() returns one result per tag of the plan");
  if (driver.readInto) {
    const got: (TagResult | undefined)[] = new Array(plan.tags.length);
    await within(
      hangMs(o),
      "readInto()",
      driver.readInto(plan, signal(o), {
        value: (i, value, sourceTs, uncertain) => {
          assert(typeof sourceTs === "number" && sourceTs > 0, "readInto() gives a timestamp");
          got[i] = uncertain === undefined ? { ok: true, value } : { ok: true, value, uncertain };
        },
        fail: (i, error) => void (got[i] = { ok: false, error }),
      }),
    );
    assertEquals(got.map(show), rs.map(show), "readInto() reports what read() returns");
  }
  return rs;
}

/** The device config of the suite for `connection`, with a driver timeout of `timeoutMs`. */
export function conformanceDevice(
  o: DriverConformanceOptions,
  connection: Record<string, unknown>,
  name = "conformance-device",
  timeoutMs = relaxedTimeoutMs(o),
): DeviceConfig {
  const tags = [...o.tags.map((t) => t.tag), ...(o.readOnlyTag ? [o.readOnlyTag] : [])];
  return {
    name,
    driver: o.module.name,
    config: o.device(connection, timeoutMs),
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}
