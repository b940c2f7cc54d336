/**
 * @module
 * Subscribed polls end to end through the gateway, against the test push driver and its
 * in-process server: pushed values get what polled values get, every subscribed tag is bad
 * with the reason while the device is down, the engine subscribes again after a reconnect and
 * never twice at once, and stopping the gateway closes the subscription.
 */

import { assert, assertEquals, waitFor } from "../../tests/_assert.ts";
import { ManualClock } from "../clock.ts";
import { BifrostError } from "../errors.ts";
import { FlowTag } from "../flow/tag.ts";
import type { DeviceEntry, FlowSet, PollConfig } from "../flow/types.ts";
import { nullLogger } from "../log.ts";
import type { DataRecord } from "../record.ts";
import { pushDriver, PushServer, pushServers } from "./_push_driver_test_util.ts";
import { Gateway } from "./gateway.ts";

const origin = { file: "f.yaml", line: 1, column: 1 };
const T0 = 1_700_000_000_000;

/** A gateway with one push device and one subscribed poll of every tag, and what it emits. */
function setup(
  name: string,
  tags: Record<string, Record<string, unknown>>,
  schedule: Pick<PollConfig, "subscribe" | "everyMs"> = { subscribe: { samplingMs: 100 } },
) {
  const server = new PushServer();
  pushServers.set(name, server);
  const device: DeviceEntry = {
    name: "press",
    driver: "test-push",
    config: { server: name },
    tags: new Map(
      Object.entries(tags).map(([t, c]) => [t, new FlowTag(t, c)]),
    ),
    origin,
  };
  const poll: PollConfig = {
    name: "live",
    device: "press",
    tags: "*",
    ...schedule,
    origin,
  };
  const flows: FlowSet = {
    dir: ".",
    files: ["f.yaml"],
    devices: new Map([["press", device]]),
    polls: new Map([["live", poll]]),
    steps: new Map(),
    sinks: new Map(),
  };
  const clock = new ManualClock(T0);
  const gw = new Gateway(flows, {
    sources: { drivers: [pushDriver], steps: [], sinks: [] },
    clock,
    log: nullLogger,
  });
  const seen: (DataRecord & { node: string })[] = [];
  gw.tap((node, batch) => {
    for (const r of batch) seen.push({ ...r, node });
  });
  const cleanup = async () => {
    await gw.stop();
    pushServers.delete(name);
  };
  return { server, gw, clock, seen, cleanup };
}

Deno.test("subscribe: pushed values reach the graph as the poll's records: sequence numbers, timestamps, scaling", async () => {
  const { server, gw, clock, seen, cleanup } = setup("values", {
    temp: { address: "t", type: "float", scale: { gain: 0.5 }, writable: true },
    run: { address: "r", type: "bool" },
  });
  try {
    server.values.set("t", 40);
    await gw.start();
    // The first values of a subscription are the current ones.
    await waitFor(() => seen.length === 1, 5000, "the initial value");
    assertEquals(seen[0]!.node, "live");
    assertEquals(seen[0]!.tag, "temp");
    assertEquals(seen[0]!.value, 20);
    assertEquals(seen[0]!.quality, "good");
    assertEquals(seen[0]!.gatewayTs, T0);
    await clock.advance(1000);
    server.set("r", true);
    server.set("t", 50);
    await waitFor(() => seen.length === 3, 5000, "two pushed values");
    // One push notification's values make one batch; numbers go on from the first batch.
    assertEquals(
      seen.slice(1).map((r) => [r.tag, r.value, r.quality, r.sourceTs, r.gatewayTs]),
      [["run", true, "good", T0 + 1000, T0 + 1000], ["temp", 25, "good", T0 + 1000, T0 + 1000]],
    );
    assertEquals(seen.map((r) => r.seq - seen[0]!.seq), [0, 1, 2]);
    assertEquals(gw.stats().subscriptions.live, { pushes: 3, batches: 2 });
    assertEquals(gw.health().press!.subscriptions, 1);
    // A subscribed tag is written like any other: through the device, scaling inverted.
    await gw.write("press", "temp", 1.25);
    assertEquals(server.values.get("t"), 2.5);
  } finally {
    await cleanup();
  }
});

Deno.test("subscribe: tags are bad with the reason while the device is down, subscribed again once after it is back", async () => {
  const { server, gw, clock, seen, cleanup } = setup("outage", {
    temp: { address: "t", type: "float" },
    level: { address: "l", type: "int" },
  });
  try {
    await gw.start();
    await waitFor(() => server.live === 1, 5000, "the subscription");
    server.set("t", 1.5);
    await waitFor(() => seen.length === 1, 5000, "a value");
    server.down();
    await waitFor(() => seen.length === 3, 5000, "both tags bad");
    for (const r of seen.slice(1)) {
      assertEquals(r.quality, "bad");
      assertEquals(r.value, null);
      assertEquals(
        r.reason,
        'Cannot read "press": device not connected (the push server closed the connection)',
      );
    }
    assertEquals(seen.slice(1).map((r) => r.tag).sort(), ["level", "temp"]);
    // The reconnect at once fails (server still down): no second bad batch for one outage.
    await waitFor(() => gw.health().press!.state === "backoff", 5000, "backoff");
    assertEquals(seen.length, 3);
    assertEquals(server.live, 0);
    server.up();
    server.values.set("l", 7);
    await clock.advance(60_000);
    await waitFor(() => server.live === 1, 5000, "the subscription again");
    await waitFor(() => seen.length === 5, 5000, "current values after the reconnect");
    assertEquals(
      seen.slice(3).map((r) => [r.tag, r.value, r.quality]).sort(),
      [["level", 7, "good"], ["temp", 1.5, "good"]],
    );
    server.set("t", 2.5);
    await waitFor(() => seen.length === 6, 5000, "a pushed value");
    assertEquals(seen[5]!.value, 2.5);
    assertEquals(server.subscribes, 2);
    assertEquals(server.peakLive, 1);
    // Strictly increasing across the outage.
    for (let i = 1; i < seen.length; i++) assert(seen[i]!.seq > seen[i - 1]!.seq);
  } finally {
    await cleanup();
  }
});

Deno.test("subscribe: a device down at start reports its subscribed tags bad, then subscribes once it is up", async () => {
  const { server, gw, clock, seen, cleanup } = setup("late", {
    temp: { address: "t", type: "float" },
  });
  try {
    server.down();
    server.values.set("t", 3);
    await gw.start();
    await waitFor(() => seen.length === 1, 5000, "the tag bad");
    assertEquals(seen[0]!.quality, "bad");
    assertEquals(
      seen[0]!.reason,
      'Cannot read "press": device not connected (Cannot connect to the push server: it is down)',
    );
    server.up();
    await clock.advance(60_000);
    await waitFor(() => seen.length === 2, 5000, "the value");
    assertEquals([seen[1]!.value, seen[1]!.quality], [3, "good"]);
    assertEquals(server.subscribes, 1);
  } finally {
    await cleanup();
  }
});

Deno.test("subscribe: a subscribe the device refuses marks the tags bad with its reason and is retried", async () => {
  const { server, gw, clock, seen, cleanup } = setup("refused", {
    temp: { address: "t", type: "float" },
  });
  try {
    server.refuseNext = new BifrostError(
      "DEVICE_EXCEPTION",
      "Cannot subscribe t: too many monitored items",
      { details: { protocol: "test", code: 1, name: "TOO_MANY" } },
    );
    server.values.set("t", 4);
    await gw.start();
    await waitFor(() => seen.length === 1, 5000, "the tag bad");
    assertEquals(seen[0]!.reason, "Cannot subscribe t: too many monitored items");
    assertEquals(gw.health().press!.state, "connected");
    await clock.advance(60_000);
    await waitFor(() => seen.length === 2, 5000, "the value");
    assertEquals([seen[1]!.value, seen[1]!.quality], [4, "good"]);
    assertEquals(server.peakLive, 1);
  } finally {
    await cleanup();
  }
});

Deno.test("subscribe: stopping the gateway closes the subscription and the connection", async () => {
  const { server, gw, seen, cleanup } = setup("stop", { temp: { address: "t", type: "float" } });
  let stopped = false;
  try {
    await gw.start();
    await waitFor(() => server.live === 1, 5000, "the subscription");
    await gw.stop();
    stopped = true;
    assertEquals(server.live, 0);
    assertEquals(server.connections, 0);
    assertEquals(gw.health().press!.subscriptions, 0);
    const before = seen.length;
    server.set("t", 9);
    await Promise.resolve();
    assertEquals(seen.length, before);
  } finally {
    if (!stopped) await cleanup();
    else pushServers.delete("stop");
  }
});

Deno.test("subscribe: a subscription whose close never finishes does not stop the reconnect", async () => {
  const { server, gw, clock, seen, cleanup } = setup("hang", {
    temp: { address: "t", type: "float" },
  });
  try {
    server.values.set("t", 5);
    await gw.start();
    await waitFor(() => seen.length === 1, 5000, "the value");
    server.hangClose = true;
    server.down();
    // Only the close's time limit (5 s of the clock) lets the device go on.
    for (let i = 0; i < 20 && seen.length < 2; i++) await clock.advance(1000);
    assertEquals([seen[1]?.quality, seen.length], ["bad", 2]);
    server.hangClose = false;
    server.up();
    for (let i = 0; i < 60 && seen.length < 3; i++) await clock.advance(1000);
    assertEquals([seen[2]?.value, seen[2]?.quality], [5, "good"]);
    assertEquals(server.live, 1);
  } finally {
    await cleanup();
  }
});

Deno.test("subscribe and poll: a value the device vouches for only in part is uncertain with the reason, then good again", async () => {
  for (const schedule of [{ subscribe: { samplingMs: 100 } }, { everyMs: 100 }]) {
    const { server, gw, clock, seen, cleanup } = setup(`uncertain-${Object.keys(schedule)[0]}`, {
      temp: { address: "t", type: "float", scale: { gain: 2 } },
    }, schedule);
    try {
      server.values.set("t", 10);
      server.uncertain.set("t", "UncertainLastUsableValue");
      await gw.start();
      const settle = async (n: number, what: string) => {
        for (let i = 0; i < 50 && seen.length < n; i++) await clock.advance(100);
        await waitFor(() => seen.length >= n, 5000, what);
      };
      await settle(1, "the uncertain value");
      assertEquals([seen[0]!.value, seen[0]!.quality, seen[0]!.reason], [
        20,
        "uncertain",
        "UncertainLastUsableValue",
      ]);
      server.uncertain.delete("t");
      const before = seen.length;
      server.set("t", 11);
      await settle(before + 1, "the good value");
      const last = seen.at(-1)!;
      assertEquals([last.value, last.quality, last.reason], [22, "good", undefined]);
      // Read on demand: the same, through TagResult.
      server.uncertain.set("t", "UncertainSensorNotAccurate");
      const [r] = await gw.devices.get("press")!.read(
        gw.devices.get("press")!.plan([...gw.flows.devices.get("press")!.tags.values()]),
      );
      assert(r?.ok, JSON.stringify(r));
      assertEquals([r.value, r.uncertain], [11, "UncertainSensorNotAccurate"]);
    } finally {
      await cleanup();
    }
  }
});
