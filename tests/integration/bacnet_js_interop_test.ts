/**
 * @module
 * Interop with an independent BACnet stack, npm `@bacnet-js/client` 3.3.2, both ways:
 * (a) our client (the `bifrost read` / `write` commands and the driver) against a device
 * served by that library; (b) that library as a client against our simulator. Every port is
 * a free one on 127.0.0.1.
 */

import B from "@bacnet-js/client";
import { readCommand, writeCommand } from "../../app/cli/read_write.ts";
import { nullLogger, type ReadSink, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { bacnet } from "../../drivers/bacnet/mod.ts";
import type { BacnetDriver } from "../../drivers/bacnet/client/driver.ts";
import { startSite } from "../../drivers/bacnet/simulator/config.ts";
import { assert, assertEquals, assertMatch, assertRejects, waitFor } from "../_assert.ts";
import { freeUdpPort, startBacnetJsDevice } from "./bacnet_js_peer.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

const Bacnet = B.default;

/** Runs a CLI command in process and returns its exit code and what it printed. */
async function cli(
  run: (args: string[]) => Promise<number>,
  args: string[],
): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  console.error = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    const code = await run(args);
    return { code, out: lines.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const tag = (name: string, address: string, config: Record<string, unknown> = {}): TagConfig => ({
  name,
  address,
  type: "",
  writable: true,
  config: { address, ...config },
});

function peerObjects() {
  return [
    { type: 0, instance: 1, name: "SupplyTemp", value: 14.5 },
    { type: 0, instance: 2, name: "ReturnTemp", value: 22.25 },
    {
      type: 1,
      instance: 1,
      name: "CoolingValve",
      value: 40,
      commandable: true,
      priority: Array(16).fill(null),
    },
    {
      type: 4,
      instance: 1,
      name: "FanCmd",
      value: 0,
      commandable: true,
      priority: Array(16).fill(null),
    },
  ];
}

Deno.test("interop (a): bifrost read and write (priority, relinquish) against a @bacnet-js/client device", async () => {
  await using dev = await startBacnetJsDevice(3101, peerObjects());
  const base = `bacnet://127.0.0.1:${dev.port}/3101`;
  const r = await cli(readCommand, [`${base}/analog-input:2`, "--timeout", "5s"]);
  assertEquals(r, { code: 0, out: "22.25" });
  const n = await cli(readCommand, [`${base}/device:3101/object-name`]);
  assertEquals(n, { code: 0, out: "bacnet-js 3101" });
  const w = await cli(writeCommand, [`${base}/analog-output:1`, "55.5", "--priority", "8"]);
  assertEquals(w.code, 0, w.out);
  assertEquals(dev.objects[2]!.priority![7], 55.5, "written at priority 8");
  assertEquals((await cli(readCommand, [`${base}/analog-output:1`])).out, "55.5");
  const p = await cli(readCommand, [`${base}/analog-output:1/priority-array[8]`]);
  assertEquals(p, { code: 0, out: "55.5" });
  const bo = await cli(writeCommand, [`${base}/binary-output:1`, "true", "--priority", "10"]);
  assertEquals(bo.code, 0, bo.out);
  assertEquals(dev.objects[3]!.priority![9], 1);
  assertEquals((await cli(readCommand, [`${base}/binary-output:1`])).out, "true");
  // An unknown object: the device's error class and code, named.
  const bad = await cli(readCommand, [`${base}/analog-input:99`]);
  assertEquals(bad.code, 1);
  assertMatch(bad.out, /object\/unknown-object \(BACnet error class 1, code 31\)/);
  assert(dev.served.whoIs! >= 1 && dev.served.readProperty! >= 1, JSON.stringify(dev.served));
});

Deno.test("interop (a): the driver reads with ReadPropertyMultiple, relinquishes, and gets COV from a @bacnet-js/client device", async () => {
  await using dev = await startBacnetJsDevice(3102, peerObjects());
  const d = bacnet.create(
    {
      name: "peer",
      driver: "bacnet",
      config: { device: 3102, host: "127.0.0.1", port: dev.port, localPort: 0, timeout: "4s" },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  ) as BacnetDriver;
  await d.connect(AbortSignal.timeout(5000));
  try {
    const tags = [
      tag("supply", "analog-input:1"),
      tag("ret", "analog-input:2"),
      tag("valve", "analog-output:1", { priority: 8 }),
      tag("fan", "binary-output:1"),
      tag("name", "analog-input:1/object-name"),
      tag("missing", "analog-input:42"),
      tag("noprop", "binary-output:1/units"),
    ];
    const rpm0 = dev.served.readPropertyMultiple ?? 0;
    const rs = await d.read(d.plan(tags), AbortSignal.timeout(5000));
    assert((dev.served.readPropertyMultiple ?? 0) > rpm0, "read with ReadPropertyMultiple");
    const show = rs.map((r) => r.ok ? r.value : r.error.message);
    assertEquals(show.slice(0, 5), [14.5, 22.25, 40, false, "SupplyTemp"]);
    assertMatch(String(show[5]), /unknown-object \(BACnet error class 1, code 31\)/);
    assertMatch(String(show[6]), /unknown-property \(BACnet error class 2, code 32\)/);
    // Write at priority 8, then relinquish it (null): the relinquish default comes back.
    await d.write(tags[2]!, 61.5, AbortSignal.timeout(5000));
    assertEquals(dev.objects[2]!.priority![7], 61.5);
    await d.write(tags[2]!, null, AbortSignal.timeout(5000));
    assertEquals(dev.objects[2]!.priority![7], null);
    const [valve] = await d.read(d.plan([tags[2]!]), AbortSignal.timeout(5000));
    assertEquals(valve!.ok && valve!.value, 40);
    // COV, unconfirmed then confirmed (the library retries a confirmed one until acknowledged).
    for (const confirmed of [false, true]) {
      const seen: [number, unknown][] = [];
      const sink: ReadSink = {
        value: (i, v) => void seen.push([i, v]),
        fail: (i, e) => void seen.push([i, e.code]),
      };
      const sub = await d.subscribe(
        d.plan([tags[0]!, tags[1]!]),
        sink,
        new AbortController().signal,
        { confirmed, lifetime: "120s", checkEvery: "5s" },
      );
      try {
        await waitFor(() => dev.subs.length === 2, 5000, "two subscriptions on the device");
        assert(dev.subs.every((s) => s.confirmed === confirmed));
        const now = dev.objects[0]!.value; // 14.5, then 15.5 from the first round
        await waitFor(() => seen.some(([i, v]) => i === 0 && v === now), 5000, "initial");
        const v = confirmed ? 16.5 : 15.5;
        await dev.setValue(0, 1, v);
        await waitFor(() => seen.some(([i, x]) => i === 0 && x === v), 5000, `pushed ${v}`);
      } finally {
        await sub.close();
      }
      await waitFor(() => dev.subs.length === 0, 5000, "subscriptions cancelled on close");
    }
  } finally {
    await d.close();
  }
});

Deno.test("interop (b): @bacnet-js/client as a client against our simulator", async () => {
  await using site = await startSite({
    devices: [{
      instance: 3201,
      name: "AHU-9",
      objects: [
        { address: "analog-input:1", name: "SupplyTemp", value: 14.5, covIncrement: 0.1 },
        { address: "analog-output:1", name: "Valve", value: 40 },
        { address: "binary-value:1", name: "Occupied", value: true },
      ],
    }],
  });
  const sim = site.endpoints[0]!;
  const client = new Bacnet({
    port: await freeUdpPort(),
    interface: "127.0.0.1",
    broadcastAddress: "127.0.0.1",
    apduTimeout: 3000,
  });
  client.on("error", () => {});
  await new Promise<void>((r) => client.on("listening", () => r()));
  const addr = { address: `127.0.0.1:${sim.port}` };
  try {
    // Who-Is / I-Am.
    const iAm = new Promise<{ deviceId: number; maxApdu: number; vendorId: number }>((r) =>
      client.on("iAm", (m) => r(m.payload))
    );
    client.whoIs(addr, { lowLimit: 3201, highLimit: 3201 });
    const i = await iAm;
    assertEquals([i.deviceId, i.maxApdu], [3201, 1476]);
    // ReadProperty.
    const rp = await client.readProperty(addr, { type: 0, instance: 1 }, 85);
    assertEquals(rp.values, [{ type: 4, value: 14.5 }]);
    const name = await client.readProperty(addr, { type: 8, instance: 3201 }, 77);
    assertEquals(name.values[0]!.value, "AHU-9");
    // ReadPropertyMultiple, with a per-property error inside the ACK.
    const rpm = await client.readPropertyMultiple(addr, [
      {
        objectId: { type: 0, instance: 1 },
        properties: [{ id: 85, index: 0xffffffff }, { id: 77, index: 0xffffffff }],
      },
      {
        objectId: { type: 5, instance: 1 },
        properties: [{ id: 85, index: 0xffffffff }, { id: 117, index: 0xffffffff }],
      },
    ]);
    const flat = rpm.values.flatMap((o) =>
      o.values.map((v) => [o.objectId.instance, v.id, (v.value[0] as { value: unknown }).value])
    );
    assertEquals(flat.slice(0, 3), [[1, 85, 14.5], [1, 77, "SupplyTemp"], [1, 85, 1]]);
    const err = flat[3]![2] as { errorClass: number; errorCode: number };
    assertEquals([err.errorClass, err.errorCode], [2, 32], "unknown-property inside the ACK");
    // WriteProperty with a priority, then relinquish (NULL at that priority).
    const ao = { type: 1, instance: 1 };
    await client.writeProperty(addr, ao, 85, [{ type: 4, value: 55.5 }], { priority: 8 });
    assertEquals((await client.readProperty(addr, ao, 85)).values[0]!.value, 55.5);
    const pa = await client.readProperty(addr, ao, 87);
    assertEquals(pa.values[7], { type: 4, value: 55.5 });
    await client.writeProperty(addr, ao, 85, [{ type: 0, value: null }], { priority: 8 });
    assertEquals((await client.readProperty(addr, ao, 85)).values[0]!.value, 40);
    // An unknown object: error class object (1), code unknown-object (31).
    await assertRejects(
      () => client.readProperty(addr, { type: 0, instance: 99 }, 85),
      /Class:1 - Code:31/,
    );
    // SubscribeCOV, unconfirmed and confirmed notifications (the library acknowledges none
    // by itself: the test does).
    const got: { confirmed: boolean; pid: number; pv: unknown }[] = [];
    const pvOf = (vs: { property: { id: number }; value: { value: unknown }[] }[]) =>
      vs.find((v) => v.property.id === 85)?.value[0]?.value;
    client.on("covNotifyUnconfirmed", (m) =>
      void got.push({
        confirmed: false,
        pid: m.payload.subscriberProcessId,
        pv: pvOf(m.payload.values as never),
      }));
    client.on("covNotify", (m) => {
      got.push({
        confirmed: true,
        pid: m.payload.subscriberProcessId,
        pv: pvOf(m.payload.values as never),
      });
      client.simpleAckResponse(m.header!.sender, m.service!, m.invokeId!);
    });
    const ai = { type: 0, instance: 1 };
    await client.subscribeCov(addr, ai, 7, false, false, 60);
    await client.subscribeCov(addr, ai, 8, false, true, 60);
    await waitFor(() => got.length >= 2, 5000, "the initial notifications");
    sim.setValue(3201, ai, 18.25);
    await waitFor(
      () => [7, 8].every((pid) => got.some((g) => g.pid === pid && g.pv === 18.25)),
      5000,
      "notifications of 18.25 to both subscribers",
    );
    assert(
      got.some((g) => g.pid === 7 && !g.confirmed) && got.some((g) => g.pid === 8 && g.confirmed),
    );
    // Cancel: no more notifications.
    await client.subscribeCov(addr, ai, 7, true, false, 0);
    await client.subscribeCov(addr, ai, 8, true, false, 0);
    assertEquals(sim.device(3201).subs.size, 0);
  } finally {
    client.close();
  }
});
