/**
 * @module
 * The subscribe cases of the driver conformance suite, for drivers that can push (their
 * module has `subscribeSpec`):
 * - `subscribe()` called directly pushes a changed value to the sink by the tag's index;
 * - a `subscribe:` poll run by the engine's `Gateway`, as a flow runs it, gives records with
 *   increasing sequence numbers, every tag bad with the reason while the device is off, and
 *   exactly one new subscription once it is back (never two at once), all closed when the
 *   gateway stops.
 *
 * Subscriptions are counted by wrapping the module's drivers ({@linkcode countingModule}),
 * so that a simulator need not count them. Waits are generous (a loaded machine, the engine's
 * reconnect backoff): these cases check what happens, not how fast.
 */

import { Value as TypeboxValue } from "@sinclair/typebox/value";
import type { DriverModule, TagConfig } from "../../engine/driver.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import { nullLogger } from "../../engine/log.ts";
import type { DataRecord, Value } from "../../engine/record.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";
import { assert, assertEquals } from "../_assert.ts";
import {
  conformanceDevice,
  connectedPair,
  hangMs,
  relaxedTimeoutMs,
  within,
} from "./_driver_helpers.ts";
import type { DriverCase, DriverConformanceOptions } from "./_driver_types.ts";

const noPush = (o: DriverConformanceOptions) =>
  o.module.subscribeSpec === undefined ? "the driver cannot push" : undefined;

/** The suite's `subscribe:` options with the spec's defaults filled in, as the loader does. */
function subscribeOptions(o: DriverConformanceOptions): Record<string, unknown> {
  const options = structuredClone(o.subscribeOptions ?? {});
  return TypeboxValue.Default(o.module.subscribeSpec!, options) as Record<string, unknown>;
}

/** How long a case waits for something the device or the engine must do, ms. */
const patience = (o: DriverConformanceOptions) => relaxedTimeoutMs(o) * 2 + 15_000;

/** Waits until `done()` holds, checking every 20 ms, at most `ms`; `last()` explains a miss. */
async function until(ms: number, what: string, done: () => boolean, last: () => unknown) {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; got ${show(last())}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const show = (v: unknown) =>
  JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x as unknown);

function sameValue(a: Value, b: Value): boolean {
  try {
    assertEquals(a, b);
    return true;
  } catch {
    return false;
  }
}

/** `subscribe()`: pushed values reach the sink by tag index until the subscription closes. */
export const subscribeCase: DriverCase = {
  name: "subscribe",
  does: "subscribe() pushes a changed value to the sink by the tag's index, and closes",
  skip: noPush,
  async run(o) {
    await using pair = await connectedPair(o);
    const driver = pair.driver;
    assert(driver.subscribe, "a module with subscribeSpec has drivers with subscribe()");
    const plan = driver.plan(o.tags.map((t) => t.tag));
    const seen: Value[][] = plan.tags.map(() => []);
    const stop = new AbortController();
    const subscription = await within(
      hangMs(o),
      "subscribe()",
      driver.subscribe(
        plan,
        {
          value: (i, v, ts) => {
            assert(typeof ts === "number" && ts > 0, "a pushed value has a timestamp");
            seen[i]!.push(v);
          },
          fail: (i, e) => void seen[i]!.push(`bad ${e.code}`),
        },
        stop.signal,
        subscribeOptions(o),
      ),
    );
    try {
      pair.sim.setValue(o.tags[0]!.tag, o.writeValue);
      await until(
        patience(o),
        `a pushed ${show(o.writeValue)}`,
        () => seen[0]!.some((v) => sameValue(v, o.writeValue)),
        () => seen,
      );
    } finally {
      await subscription.close();
      stop.abort();
    }
  },
};

/** Subscriptions made and live, over every driver a module created. */
export interface SubscribeCounts {
  /** Subscriptions handed out (resolved `subscribe()` calls). */
  subscribes: number;
  /** Handed out and not closed yet. */
  live: number;
  /** The most live at once. */
  peak: number;
}

/** `module` whose drivers count their subscriptions in `counts`. */
export function countingModule(module: DriverModule, counts: SubscribeCounts): DriverModule {
  return {
    ...module,
    create(device, ctx) {
      const driver = module.create(device, ctx);
      const subscribe = driver.subscribe?.bind(driver);
      if (!subscribe) return driver;
      driver.subscribe = async (plan, sink, signal, options) => {
        const sub = await subscribe(plan, sink, signal, options);
        counts.subscribes++;
        counts.peak = Math.max(counts.peak, ++counts.live);
        let open = true;
        return {
          close() {
            if (open) counts.live--;
            open = false;
            return sub.close();
          },
        };
      };
      return driver;
    },
  };
}

type Seen = DataRecord & { node: string };

/** A `subscribe:` poll through the gateway: values, an outage, one re-subscription. */
export const subscribedPollCase: DriverCase = {
  name: "subscribed poll",
  does:
    "a subscribe: poll run by the Gateway gives sequenced records, every tag bad while the device is off, and subscribes once again after the reconnect",
  skip: noPush,
  async run(o) {
    const sim = await o.startSimulator();
    for (const t of o.tags) sim.setValue(t.tag, t.value);
    const counts: SubscribeCounts = { subscribes: 0, live: 0, peak: 0 };
    const module = countingModule(o.module, counts);
    const base = conformanceDevice(o, sim.connection);
    // Kinds resolved as the flow loader resolves them.
    const tags = new Map<string, TagConfig>(
      [...base.tags].map(([n, t]) => [n, { ...t, kind: o.module.valueKind(t) }]),
    );
    const origin = { file: "conformance.yaml", line: 1, column: 1 };
    const names = o.tags.map((t) => t.tag.name);
    const flows: FlowSet = {
      dir: ".",
      files: [origin.file],
      devices: new Map([[base.name, { ...base, tags, origin }]]),
      polls: new Map([["live", {
        name: "live",
        device: base.name,
        tags: names,
        subscribe: subscribeOptions(o),
        origin,
      }]]),
      steps: new Map(),
      sinks: new Map(),
    };
    const gw = new Gateway(flows, {
      sources: { drivers: [module], steps: [], sinks: [] },
      log: nullLogger,
    });
    const seen: Seen[] = [];
    gw.tap((node, batch) => {
      for (const r of batch) seen.push({ ...r, node });
    });
    const wait = patience(o);
    const first = o.tags[0]!;
    const good = (from: number, v: Value) => () =>
      seen.slice(from).some((r) =>
        r.tag === first.tag.name && r.quality === "good" && sameValue(r.value, v)
      );
    let stopped = false;
    try {
      await gw.start();
      await until(wait, "the subscription", () => counts.live === 1, () => counts);
      sim.setValue(first.tag, o.writeValue);
      await until(wait, `a pushed ${show(o.writeValue)}`, good(0, o.writeValue), () => seen);
      for (const r of seen) {
        assertEquals([r.node, r.device], ["live", base.name], "records of the poll and device");
        assert(names.includes(r.tag), `"${r.tag}" is a tag of the poll`);
        assert(r.gatewayTs > 0 && r.sourceTs > 0, `"${r.tag}" has timestamps: ${show(r)}`);
      }

      // The device goes off: every tag bad with the reason, once the engine sees the loss.
      const before = seen.length;
      await sim.stop();
      const badSince = () =>
        new Set(seen.slice(before).filter((r) => r.quality === "bad").map((r) => r.tag));
      await until(
        wait,
        "every tag bad after the device went off (a push driver reports a lost connection through ctx.connectionLost or a NOT_CONNECTED sink.fail)",
        () => names.every((n) => badSince().has(n)),
        () => seen.slice(before),
      );
      for (const r of seen.slice(before).filter((r) => r.quality === "bad")) {
        assertEquals(r.value, null, `a bad "${r.tag}" has no value`);
        assert(r.reason && r.reason.length > 10, `a bad "${r.tag}" says why: ${show(r)}`);
      }
      assert(gw.health()[base.name]!.state !== "connected", "the device is not connected");
      assertEquals(counts.live, 0, "the subscription of the lost connection is closed");

      // Back on: one new subscription, and values flow again.
      await sim.start();
      await until(wait, "the subscription again", () => counts.live === 1, () => counts);
      const after = seen.length;
      sim.setValue(first.tag, first.value);
      await until(
        wait,
        `a pushed ${show(first.value)}`,
        good(after, first.value),
        () => seen.slice(after),
      );
      assertEquals(counts.subscribes, 2, "subscribed once more after the reconnect");
      assertEquals(counts.peak, 1, "never two subscriptions of the poll at once");
      for (let i = 1; i < seen.length; i++) {
        assert(Number.isInteger(seen[i]!.seq), `a record has a sequence number: ${show(seen[i])}`);
        assert(seen[i]!.seq > seen[i - 1]!.seq, `sequence numbers increase: ${show(seen)}`);
      }

      await gw.stop();
      stopped = true;
      assertEquals(counts.live, 0, "stopping the gateway closes the subscription");
    } finally {
      if (!stopped) await gw.stop();
      await sim.close();
    }
  },
};
