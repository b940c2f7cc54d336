/**
 * @module
 * Events and alarms (A&C) of the `opcua` driver: a tag of `type: Event` is a monitored item
 * on an event notifier's EventNotifier attribute with an event filter (select clause: the
 * standard fields and the tag's `select`; where clause: the tag's `where` and `minSeverity`,
 * `filter.ts`). Each event becomes
 * one record whose value is an object (eventId, eventType, source, time, message, severity,
 * condition, conditionId, active, acked, and the selected fields). Writing
 * `<eventId>[: comment]` to the tag acknowledges the condition that raised that event; other
 * alarm actions (confirm, comment, shelve, unshelve) are written the same way
 * (`core/alarm_action.ts`).
 */

import { Buffer } from "node:buffer";
import { BifrostError, type ReadSink, type TagConfig, type Value } from "../../../engine/plugin.ts";
import { hexCode, severity } from "../core/status.ts";
import type { DriverHost } from "./host.ts";
import type { Connection } from "./session.ts";
import { type AlarmAction, parseAlarmAction } from "../core/alarm_action.ts";
import { eventWhere } from "./filter.ts";
import type { ClientMonitoredItem, ClientSubscription, StatusCode } from "node-opcua-client";

/** The standard fields of an event record and their browse paths from BaseEventType. */
const STANDARD: [string, string][] = [
  ["eventId", "EventId"],
  ["eventType", "EventType"],
  ["source", "SourceName"],
  ["time", "Time"],
  ["message", "Message"],
  ["severity", "Severity"],
  ["condition", "ConditionName"],
  ["active", "ActiveState.Id"],
  ["acked", "AckedState.Id"],
  ["conditionId", "ConditionId"],
];

/** The condition of each event seen on a connection, by event id (hex), for acknowledgement. */
const conditions = new WeakMap<Connection, Map<string, string>>();

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** A field of an event as a record value. */
function fieldValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return hex(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") {
    const o = v as { text?: unknown; name?: unknown };
    if ("text" in o) return o.text === null || o.text === undefined ? null : String(o.text);
    return String(v);
  }
  return v as Value;
}

/** Subscribes one event tag (index `i`); events go to `sink`. */
export function monitorEvents(
  d: DriverHost,
  c: Connection,
  sub: ClientSubscription,
  tag: TagConfig,
  nodeId: string,
  i: number,
  sink: ReadSink,
  isClosed: () => boolean,
): Promise<ClientMonitoredItem> {
  const lib = c.lib;
  const extra = Array.isArray(tag.config.select) ? tag.config.select.map(String) : [];
  const paths = [...STANDARD.map(([, p]) => p), ...extra];
  const minSeverity = typeof tag.config.minSeverity === "number" ? tag.config.minSeverity : 0;
  const where = eventWhere(
    lib,
    typeof tag.config.where === "string" ? tag.config.where : undefined,
    minSeverity,
  );
  const filter = lib.constructEventFilter(paths, where as never);
  const item = lib.ClientMonitoredItem.create(
    sub,
    { nodeId, attributeId: lib.AttributeIds.EventNotifier },
    { samplingInterval: 0, queueSize: 1000, discardOldest: false, filter },
    lib.TimestampsToReturn.Both,
  );
  let known = conditions.get(c);
  if (!known) conditions.set(c, known = new Map());
  const seen = known;
  item.on("changed", (fields: unknown) => {
    if (isClosed()) return;
    const list = fields as { value: unknown }[];
    const out: Record<string, Value> = {};
    for (const [k, [name]] of STANDARD.entries()) out[name] = fieldValue(list[k]?.value);
    for (const [k, p] of extra.entries()) out[p] = fieldValue(list[STANDARD.length + k]?.value);
    if (typeof out.eventId === "string" && typeof out.conditionId === "string") {
      seen.set(out.eventId, out.conditionId);
      if (seen.size > 10_000) seen.delete(seen.keys().next().value!);
    }
    const t = Date.parse(String(out.time));
    sink.value(i, out, Number.isNaN(t) ? Date.now() : t);
  });
  return new Promise((resolve, reject) => {
    item.once("initialized", () => resolve(item));
    item.once("err", (message: unknown) =>
      reject(
        new BifrostError(
          "DEVICE_EXCEPTION",
          `Cannot subscribe to the events of "${tag.name}" (${tag.address}) on "${d.device.name}": ${
            String(message)
          }`,
        ),
      ));
  });
}

/** Runs the alarm action written to an event tag (see `core/alarm_action.ts`). */
export async function alarmAction(
  d: DriverHost,
  c: Connection,
  tag: TagConfig,
  value: Value,
): Promise<void> {
  const parsed = parseAlarmAction(value);
  const verb = typeof parsed === "string" ? "run an alarm action" : VERBS[parsed.action];
  const where = `Cannot ${verb} on "${tag.name}" (${tag.address}) of "${d.device.name}"`;
  if (typeof parsed === "string") throw new BifrostError("WRITE_REJECTED", `${where}: ${parsed}`);
  const { action, eventId } = parsed;
  const conditionId = conditions.get(c)?.get(eventId);
  if (!conditionId) {
    throw new BifrostError(
      "WRITE_REJECTED",
      `${where}: no event ${eventId} was received on this connection (use the latest event of the alarm)`,
    );
  }
  const id = c.lib.coerceNodeId(conditionId);
  const comment = parsed.comment ?? `${action} from Bifrost`;
  const event = Buffer.from(eventId, "hex");
  let status: StatusCode;
  if (action === "Acknowledge") {
    status = await d.call(where, c.session.acknowledgeCondition(id, event, comment));
  } else if (action === "Confirm") {
    status = await d.call(where, c.session.confirmCondition(id, event, comment));
  } else if (action === "AddComment") {
    status = await d.call(where, c.session.addCommentCondition(id, event, comment));
  } else {
    // Shelving is a method of the condition's ShelvingState object (Part 9, 5.8.10).
    const method = action === "Unshelve"
      ? "Unshelve"
      : parsed.shelveMs === undefined
      ? "OneShotShelve"
      : "TimedShelve";
    const paths = await d.call(
      where,
      c.session.translateBrowsePath([
        c.lib.makeBrowsePath(id, ".ShelvingState"),
        c.lib.makeBrowsePath(id, `.ShelvingState.${method}`),
      ]),
    );
    const [object, m] = paths.map((p) => p.targets?.[0]?.targetId);
    if (!object || !m) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `${where}: the alarm ${conditionId} has no ShelvingState.${method} (the server does not offer shelving for it)`,
      );
    }
    const result = await d.call(
      where,
      c.session.call({
        objectId: object,
        methodId: m,
        inputArguments: parsed.shelveMs === undefined
          ? []
          : [{ dataType: c.lib.DataType.Double, value: parsed.shelveMs }],
      }),
    );
    status = result.statusCode;
  }
  if (severity(status.value) !== "good") {
    throw new BifrostError(
      "WRITE_REJECTED",
      `${where}: the server answered ${status.name} (${hexCode(status.value)})`,
      { details: { protocol: "opcua", code: status.value >>> 0, name: status.name, action } },
    );
  }
}

const VERBS: Record<AlarmAction["action"], string> = {
  Acknowledge: "acknowledge",
  Confirm: "confirm",
  AddComment: "comment",
  Shelve: "shelve",
  Unshelve: "unshelve",
};
