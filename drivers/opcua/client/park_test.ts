/**
 * @module
 * Parked subscriptions: the relay buffers while parked and hands over in order, re-sends the
 * last value of a tag that did not change (never an event), passes a republished sample once;
 * the park gives a subscription back only for the same plan, connection and options, and
 * deletes what is not taken back.
 */

import { assertEquals } from "../../../tests/_assert.ts";
import { BifrostError, type ReadPlan, type Value } from "../../../engine/plugin.ts";
import { type Parkable, Relay, SubscriptionPark } from "./park.ts";

function collector() {
  const got: [number, Value][] = [];
  return {
    got,
    sink: {
      value: (i: number, v: Value) => void got.push([i, v]),
      fail: (i: number, e: BifrostError) => void got.push([i, `bad: ${e.message}`]),
    },
  };
}

Deno.test("Relay buffers while parked, then hands over what came, then unchanged tags' last values", () => {
  const a = collector();
  const r = new Relay(a.sink, new Set([2]), 4);
  r.value(0, 1, 1000);
  r.value(1, 10, 1000);
  r.value(2, { event: 1 }, 1000);
  r.detach();
  r.value(0, 2, 2000);
  r.value(0, 2, 2000); // republished: the same sample again
  r.fail(3, new BifrostError("DEVICE_EXCEPTION", "gone"));
  r.value(0, 3, 3000);
  const b = collector();
  r.attach(b.sink);
  r.value(1, 11, 4000);
  r.value(1, 11, 4000);
  assertEquals(a.got, [[0, 1], [1, 10], [2, { event: 1 }]]);
  assertEquals(b.got, [[1, 10], [0, 2], [3, "bad: gone"], [0, 3], [1, 11]]);
});

Deno.test("SubscriptionPark gives back by plan, connection and options, and deletes the rest", async () => {
  const park = new SubscriptionPark();
  const conn = {};
  const terminated: string[] = [];
  const kept = (name: string, options: Record<string, unknown>): Parkable => ({
    conn,
    options: JSON.stringify(options),
    relay: new Relay(collector().sink, new Set(), 0),
    closed: false,
    terminate: () => (terminated.push(name), Promise.resolve()),
    close: () => Promise.resolve(),
  });
  const p1 = { tags: [] } as unknown as ReadPlan;
  const p2 = { tags: [] } as unknown as ReadPlan;
  const p3 = { tags: [] } as unknown as ReadPlan;
  park.put(p1, kept("one", { publishingInterval: "1s" }));
  park.put(p2, kept("two", {}));
  park.put(p3, kept("three", {}));
  assertEquals(park.take(p1, conn, { publishingInterval: "2s" }), undefined, "other options");
  assertEquals(park.take(p2, {}, {}), undefined, "another connection");
  assertEquals(park.take(p2, conn, {})?.options, "{}");
  assertEquals(park.take(p2, conn, {}), undefined, "taken once");
  park.put(p3, kept("three again", {}));
  assertEquals(terminated, ["three"], "a plan parked twice keeps the newest");
  await park.sweep();
  assertEquals(terminated.sort(), ["one", "three", "three again"]);
  assertEquals(park.size, 0);
});
