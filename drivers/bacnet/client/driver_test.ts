/**
 * @module
 * Driver features against the simulator: devices behind a router (DNET/DADR), segmented
 * ReadPropertyMultiple replies reassembled, a device without segmentation read in several
 * requests, BBMD registration renewed, priorities and relinquish, faulted and out-of-service
 * points, confirmed COV, and re-subscription after a restart announced by I-Am.
 */

import {
  nullLogger,
  type ReadSink,
  systemClock,
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import { assert, assertEquals, assertMatch, waitFor } from "../../../tests/_assert.ts";
import { bacnet } from "../mod.ts";
import { generatedDevice, startSite } from "../simulator/config.ts";
import type { BacnetDriver } from "./driver.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

const ctx = { log: nullLogger, clock: systemClock };
const tag = (name: string, address: string, config: Record<string, unknown> = {}): TagConfig => ({
  name,
  address,
  type: "",
  writable: true,
  config: { address, ...config },
});

function driverFor(config: Record<string, unknown>, tags: TagConfig[] = []): BacnetDriver {
  return bacnet.create(
    {
      name: "dev",
      driver: "bacnet",
      config: { localPort: 0, timeout: "2s", ...config },
      tags: new Map(tags.map((t) => [t.name, t])),
    },
    ctx,
  ) as BacnetDriver;
}

const show = (r: TagResult) => r.ok ? r.value : `bad: ${r.error.message}`;

Deno.test("devices behind a router are found by Who-Is on the network and read through DNET/DADR", async () => {
  await using site = await startSite({
    router: { network: 7 },
    devices: [generatedDevice(2001, 10), generatedDevice(2002, 10)],
  });
  const sim = site.endpoints[0]!;
  // By network (the I-Am carries SNET/SADR), and by a fixed network and MAC.
  for (const config of [{ network: 7 }, { network: 7, mac: "02" }]) {
    const d = driverFor({ device: 2002, host: "127.0.0.1", port: sim.port, ...config });
    await d.connect(AbortSignal.timeout(5000));
    try {
      assertMatch(d.session!.where(), /\/7:02$/);
      const rs = await d.read(
        d.plan([tag("a", "analog-input:1"), tag("n", "device:2002/object-name")]),
        AbortSignal.timeout(5000),
      );
      assertEquals(rs.map(show), [20, "Device 2002"]);
    } finally {
      await d.close();
    }
  }
});

Deno.test("a reply longer than the max APDU comes segmented and is reassembled; no segmentation means more requests", async () => {
  await using site = await startSite({
    devices: [
      { ...generatedDevice(3001, 60), maxApdu: 206 },
      { ...generatedDevice(3002, 60), maxApdu: 206, segmentation: "none" },
    ],
  });
  const tags = Array.from(
    { length: 12 },
    (_, i) => tag(`t${i}`, `analog-input:${[1, 2, 3, 4, 5, 6][i % 6]! + Math.floor(i / 6) * 10}`),
  );
  for (const [i, instance] of [3001, 3002].entries()) {
    const d = driverFor({ device: instance, host: "127.0.0.1", port: site.endpoints[i]!.port });
    await d.connect(AbortSignal.timeout(5000));
    try {
      const plan = d.plan(tags);
      const rs = await d.read(plan, AbortSignal.timeout(5000));
      assert(rs.every((r) => r.ok), JSON.stringify(rs.filter((r) => !r.ok).map(show)));
      const requests = d.session!.requests;
      if (instance === 3001) assertEquals(requests, 1, "one segmented request");
      else assert(requests >= 2, `several requests without segmentation, got ${requests}`);
    } finally {
      await d.close();
    }
  }
});

Deno.test("a foreign device registers with the BBMD and renews before the time-to-live ends", async () => {
  await using site = await startSite({ devices: [generatedDevice(4001, 2)] });
  const sim = site.endpoints[0]!;
  const d = driverFor({
    device: 4001,
    bbmd: `127.0.0.1:${sim.port}`,
    bbmdTtl: "2s",
    broadcast: "127.0.0.1",
    port: sim.port,
  });
  await d.connect(AbortSignal.timeout(5000));
  try {
    assertEquals(sim.registrations.length, 1);
    assertEquals(sim.registrations[0]!.ttl, 2);
    await waitFor(() => sim.registrations.length >= 2, 5000, "a renewal");
    const gap = sim.registrations[1]!.at - sim.registrations[0]!.at;
    assert(gap < 2000, `renewed after ${gap} ms, before the 2 s time-to-live`);
  } finally {
    await d.close();
  }
});

Deno.test("writes with a priority command the output; null relinquishes it", async () => {
  await using site = await startSite({
    devices: [{ instance: 5001, objects: [{ address: "analog-output:1", value: 10 }] }],
  });
  const d = driverFor({ device: 5001, host: "127.0.0.1", port: site.endpoints[0]!.port });
  await d.connect(AbortSignal.timeout(5000));
  try {
    const p8 = tag("out", "analog-output:1", { priority: 8 });
    const p16 = tag("out16", "analog-output:1", { priority: 16 });
    const read = async (t: TagConfig) =>
      (await d.read(d.plan([t]), AbortSignal.timeout(5000))).map(show)[0];
    await d.write(p16, 30, AbortSignal.timeout(5000));
    await d.write(p8, 72.5, AbortSignal.timeout(5000));
    assertEquals(await read(p8), 72.5);
    assertEquals(await read(tag("slot8", "analog-output:1/priority-array[8]")), 72.5);
    await d.write(p8, null, AbortSignal.timeout(5000));
    assertEquals(await read(p8), 30, "priority 16 rules once 8 is relinquished");
    const e = await d.write(tag("ro", "analog-input:9"), 1, AbortSignal.timeout(5000)).catch((e) =>
      e
    );
    assertMatch(String(e.message), /object\/unknown-object/);
  } finally {
    await d.close();
  }
});

Deno.test("a faulted point is bad with its reliability, an out-of-service one uncertain with its value and the reason", async () => {
  await using site = await startSite({
    devices: [{
      instance: 6001,
      objects: [
        { address: "analog-input:1", value: 5, reliability: "over-range" },
        { address: "analog-input:2", value: 6, outOfService: true },
        { address: "analog-input:3", value: 7 },
      ],
    }],
  });
  const d = driverFor({ device: 6001, host: "127.0.0.1", port: site.endpoints[0]!.port });
  await d.connect(AbortSignal.timeout(5000));
  try {
    const rs = await d.read(
      d.plan([
        tag("a", "ai:1"),
        tag("b", "ai:2"),
        tag("c", "ai:3"),
        tag("x", "ai:3/units"),
      ]),
      AbortSignal.timeout(5000),
    );
    assertMatch(
      String(show(rs[0]!)),
      /Fault on analog-input:1\/present-value.*reliability over-range/,
    );
    const oos = rs[1]!;
    assert(oos.ok, String(show(oos)));
    assertEquals([oos.value, oos.uncertain], [
      6,
      "out-of-service: the present value is not the process value",
    ]);
    assertEquals(show(rs[2]!), 7);
    assertEquals(show(rs[3]!), 95);
  } finally {
    await d.close();
  }
  // outOfService: bad makes it bad with the reason.
  const strict = driverFor({
    device: 6001,
    host: "127.0.0.1",
    port: site.endpoints[0]!.port,
    outOfService: "bad",
  });
  await strict.connect(AbortSignal.timeout(5000));
  try {
    const [r] = await strict.read(strict.plan([tag("b", "ai:2")]), AbortSignal.timeout(5000));
    assertMatch(String(show(r!)), /out of service: present value 6/);
  } finally {
    await strict.close();
  }
});

Deno.test("confirmed COV pushes changes past the increment, falls back to polling, and re-subscribes after a restart", async () => {
  await using site = await startSite({
    devices: [{
      instance: 7001,
      objects: [
        { address: "analog-input:1", value: 20, covIncrement: 0.5 },
        { address: "analog-input:2", value: 1, noCov: true },
      ],
    }],
  });
  const { sim } = site.find(7001);
  const d = driverFor({ device: 7001, host: "127.0.0.1", port: sim.port });
  await d.connect(AbortSignal.timeout(5000));
  const seen: [number, Value][] = [];
  const sink: ReadSink = {
    value: (i, v) => void seen.push([i, v]),
    fail: (i, e) => void seen.push([i, e.code]),
  };
  const plan = d.plan([tag("cov", "analog-input:1"), tag("polled", "analog-input:2")]);
  const sub = await d.subscribe(plan, sink, new AbortController().signal, {
    confirmed: true,
    lifetime: "60s",
    fallbackEvery: "200ms",
    checkEvery: "1s",
  });
  try {
    await waitFor(
      () => seen.some(([i, v]) => i === 0 && v === 20),
      5000,
      "the initial notification",
    );
    await waitFor(() => seen.some(([i, v]) => i === 1 && v === 1), 5000, "the polled value");
    const ai1 = { type: 0, instance: 1 };
    sim.setValue(7001, ai1, 20.2); // below the COV increment: no notification
    sim.setValue(7001, ai1, 21);
    await waitFor(() => seen.some(([i, v]) => i === 0 && v === 21), 5000, "a pushed 21");
    assert(!seen.some(([, v]) => v === 20.2), "no notification below the COV increment");
    assertEquals(sim.device(7001).subs.size, 1);
    sim.restart(7001); // forgets subscriptions, announces I-Am
    await waitFor(() => sim.device(7001).subs.size === 1, 5000, "the re-subscription");
    sim.setValue(7001, ai1, 23);
    await waitFor(
      () => seen.some(([i, v]) => i === 0 && v === 23),
      5000,
      "a pushed 23 after the restart",
    );
  } finally {
    await sub.close();
    await d.close();
  }
  assertEquals(sim.device(7001).subs.size, 0, "closing cancels the subscription on the device");
});
