/**
 * @module
 * Subscriptions of the `opcua` driver: one OPC UA subscription per `subscribe:` poll, one
 * monitored item per tag (sampling interval, queue size, discard policy, data-change filter
 * with absolute or percent deadband), created in calls of at most the server's
 * MaxMonitoredItemsPerCall. The device's `maxMonitoredItems` is checked before anything is
 * asked of the server, so a flow that asks too much fails with the limit named.
 *
 * A subscription closed while the connection is lost is parked (`park.ts`) and taken back
 * by the next `subscribe()` of the same plan once node-opcua has restored the session.
 */

import { BifrostError, type ReadSink, type Subscription } from "../../../engine/plugin.ts";
import { subscribeOptions } from "../core/spec.ts";
import { severity, statusError } from "../core/status.ts";
import type { DriverHost } from "./host.ts";
import { monitorEvents } from "./events.ts";
import type { OpcuaPlan } from "./plan.ts";
import { type Parkable, Relay } from "./park.ts";
import type { ClientMonitoredItemGroup, ClientSubscription } from "node-opcua-client";

/** Subscribes every tag of `plan`; values go to `target` by the tag's index. */
export async function subscribePlan(
  d: DriverHost,
  plan: OpcuaPlan,
  target: ReadSink,
  signal: AbortSignal,
  raw: Record<string, unknown>,
): Promise<Subscription> {
  const c = d.live();
  const back = d.park.take(plan, c, raw);
  d.trace(back ? "Parked subscription taken back" : "Subscribing", { parked: d.park.size });
  if (back) {
    back.relay.attach(target);
    signal.addEventListener("abort", () => void back.close(), { once: true });
    return back;
  }
  const o = subscribeOptions(raw);
  const limit = d.fields.maxMonitoredItems;
  if (limit !== undefined && d.monitored + plan.tags.length > limit) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot subscribe ${plan.tags.length} tag(s) on "${d.device.name}": its session may hold at most ${limit} monitored items (maxMonitoredItems)${
        d.monitored ? `, ${d.monitored} are in use` : ""
      }; split the tags over more devices (sessions) or poll some of them`,
      { details: { protocol: "opcua", limit, asked: plan.tags.length + d.monitored } },
    );
  }
  const ids = await d.ids(c, plan);
  const lib = c.lib;
  const what = `Cannot subscribe on "${d.device.name}"`;
  const sub: ClientSubscription = await d.call(
    what,
    c.session.createSubscription2({
      requestedPublishingInterval: o.publishingIntervalMs,
      // The subscription outlives its session by a while (orphaned on the server, as Part 4
      // allows) so that a new session can take it over with TransferSubscriptions.
      requestedLifetimeCount: Math.max(
        60,
        Math.ceil(Math.max(d.fields.sessionTimeoutMs * 3, 60_000) / o.publishingIntervalMs),
      ),
      requestedMaxKeepAliveCount: 10,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    }),
  );
  let closed = false;
  const terminate = async () => {
    if (closed) return;
    closed = true;
    d.trace("Subscription deleted", { made, parking: d.parking() });
    d.monitored -= counted;
    await d.call(what, sub.terminate()).catch(() => {});
  };
  const relay = new Relay(target, eventSet(plan), plan.tags.length);
  // Parked only once made: one lost while its items were being created is deleted.
  let made = false;
  const kept: Parkable = {
    conn: c,
    options: JSON.stringify(raw),
    relay,
    terminate,
    get closed() {
      return closed;
    },
    async close() {
      if (closed) return;
      // Lost, not stopped: kept for the engine's next subscribe() after the resume.
      if (made && d.parking()) {
        d.trace("Subscription parked", {});
        return d.park.put(plan, kept);
      }
      await terminate();
    },
  };
  const close = () => kept.close();
  signal.addEventListener("abort", () => void close(), { once: true });
  const sink: ReadSink = relay;
  let counted = 0;
  const todo: number[] = [];
  const events: number[] = [];
  for (const [i, r] of ids.entries()) {
    if (r.ok && plan.tags[i]!.type === "Event") events.push(i);
    else if (r.ok) todo.push(i);
    else {sink.fail(
        i,
        new BifrostError("CONFIG_INVALID", `${what}: "${plan.tags[i]!.name}": ${r.why}`),
      );}
  }
  const filter = o.deadband === "none" ? null : new lib.DataChangeFilter({
    trigger: lib.DataChangeTrigger.StatusValue,
    deadbandType: o.deadband === "absolute" ? lib.DeadbandType.Absolute : lib.DeadbandType.Percent,
    deadbandValue: o.deadbandValue,
  });
  const per = c.limits.maxMonitoredItemsPerCall > 0 ? c.limits.maxMonitoredItemsPerCall : 1000;
  const groups: ClientMonitoredItemGroup[] = [];
  try {
    for (let at = 0; at < todo.length; at += per) {
      const part = todo.slice(at, at + per);
      // The group is made first and its listener attached before the server is asked: the
      // first values may arrive before a `monitorItems()` promise would resolve.
      const group = lib.ClientMonitoredItemGroup.create(
        sub,
        part.map((i) => ({
          nodeId: (ids[i] as { nodeId: string }).nodeId,
          attributeId: lib.AttributeIds.Value,
        })),
        {
          samplingInterval: o.samplingIntervalMs,
          queueSize: o.queueSize,
          discardOldest: o.discardOldest,
          filter,
        },
        lib.TimestampsToReturn.Both,
      );
      group.on("changed", (_item, dv, index) => {
        if (closed) return;
        d.deliver(plan, part[index]!, dv, sink, Date.now());
      });
      await d.call(
        what,
        new Promise<void>((resolve, reject) => {
          group.once("initialized", () => resolve());
          group.once("err", (message) => reject(new Error(String(message))));
        }),
      );
      groups.push(group);
      counted += part.length;
      d.monitored += part.length;
      for (const [k, item] of group.monitoredItems.entries()) {
        const code = item.statusCode.value;
        if (severity(code) === "bad") {
          const tag = plan.tags[part[k]!]!;
          const more = code === 0x80db0000 || item.statusCode.name === "BadTooManyMonitoredItems"
            ? `; the server takes no more monitored items on this session (set maxMonitoredItems on the device to check it before subscribing)`
            : "";
          sink.fail(
            part[k]!,
            statusError(
              `${what}: "${tag.name}" (${tag.address})${more}`,
              code,
              item.statusCode.name,
            ),
          );
        }
      }
    }
    for (const i of events) {
      await d.call(
        what,
        monitorEvents(
          d,
          c,
          sub,
          plan.tags[i]!,
          (ids[i] as { nodeId: string }).nodeId,
          i,
          sink,
          () => closed,
        ),
      );
      counted++;
      d.monitored++;
    }
  } catch (e) {
    await terminate();
    throw e;
  }
  made = true;
  // Lost while being made: the engine's signal is aborted, its close() has deleted it.
  if (signal.aborted) await terminate();
  return kept;
}

/** The indexes of a plan's Event tags (their records are never sent twice). */
function eventSet(plan: OpcuaPlan): Set<number> {
  const out = new Set<number>();
  for (const [i, t] of plan.tags.entries()) if (t.type === "Event") out.add(i);
  return out;
}
