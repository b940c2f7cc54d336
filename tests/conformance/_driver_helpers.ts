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

/** A simulator and a driver connected to it, both closed by `await using`. */
export async function connectedPair(
  o: DriverConformanceOptions,
): Promise<{ sim: ConformanceSimulator; driver: Driver } & AsyncDisposable> {
  const sim = await o.startSimulator();
  for (const t of o.tags) sim.setValue(t.tag, t.value);
  const driver = o.module.create(conformanceDevice(o, sim.connection), ctx);
  try {
    await within(o.timeoutMs * 4 + slack(o), "connect()", driver.connect(signal(o)));
  } catch (e) {
    await driver.close().catch(() => {});
    await sim.close();
    throw e;
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

/** The slack on time bounds, ms. */
export function slack(o: DriverConformanceOptions): number {
  return o.slackMs ?? 500;
}

/** A signal that ends a call that outlived every bound of the suite. */
export function signal(o: DriverConformanceOptions): AbortSignal {
  return AbortSignal.timeout(o.timeoutMs * 10 + 5_000);
}

/** A result as a test shows it: the value, or `bad CODE: message`. */
export const show = (r: TagResult | undefined): unknown =>
  r === undefined ? "no result" : r.ok ? r.value : `bad ${r.error.code}: ${r.error.message}`;

/** Reads `plan` through `read()` and, when the driver has it, `readInto()`; both must agree. */
export async function readBoth(
  o: DriverConformanceOptions,
  driver: Driver,
  plan: ReadPlan,
): Promise<TagResult[]> {
  const rs = await within(o.timeoutMs * 4 + slack(o), "read()", driver.read(plan, signal(o)));
  assertEquals(rs.length, plan.tags.length, "read() returns one result per tag of the plan");
  if (driver.readInto) {
    const got: (TagResult | undefined)[] = new Array(plan.tags.length);
    await within(
      o.timeoutMs * 4 + slack(o),
      "readInto()",
      driver.readInto(plan, signal(o), {
        value: (i, value, sourceTs) => {
          assert(typeof sourceTs === "number" && sourceTs > 0, "readInto() gives a timestamp");
          got[i] = { ok: true, value };
        },
        fail: (i, error) => void (got[i] = { ok: false, error }),
      }),
    );
    assertEquals(got.map(show), rs.map(show), "readInto() reports what read() returns");
  }
  return rs;
}

/** The device config of the suite for `connection`. */
export function conformanceDevice(
  o: DriverConformanceOptions,
  connection: Record<string, unknown>,
  name = "conformance-device",
): DeviceConfig {
  const tags = [...o.tags.map((t) => t.tag), ...(o.readOnlyTag ? [o.readOnlyTag] : [])];
  return {
    name,
    driver: o.module.name,
    config: o.device(connection),
    tags: new Map(tags.map((t) => [t.name, t])),
  };
}
