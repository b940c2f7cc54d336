/**
 * @module
 * The alarm actions a write to an event tag asks for (pure: parsed before anything is sent).
 * The text names the action, the event id of the alarm's record (hex), and a comment or a
 * shelving time:
 *
 * - `<eventId>[: comment]` or `ack <eventId>[: comment]`: Acknowledge
 * - `confirm <eventId>[: comment]`: Confirm
 * - `comment <eventId>: text`: AddComment
 * - `shelve <eventId>`: OneShotShelve; `shelve <eventId> for 10m`: TimedShelve
 * - `unshelve <eventId>`: Unshelve
 */

import { parseDuration } from "../../../engine/plugin.ts";

/** The alarm actions, as their OPC UA method names. */
export const ALARM_ACTIONS = {
  ack: "Acknowledge",
  acknowledge: "Acknowledge",
  confirm: "Confirm",
  comment: "AddComment",
  shelve: "Shelve",
  unshelve: "Unshelve",
} as const;

/** One parsed alarm action. */
export interface AlarmAction {
  action: (typeof ALARM_ACTIONS)[keyof typeof ALARM_ACTIONS];
  /** The event id (lower-case hex) of the record of the alarm. */
  eventId: string;
  comment?: string;
  /** TimedShelve's shelving time, ms (Shelve without it: OneShotShelve). */
  shelveMs?: number;
}

/** What a write to an event tag may be, for error messages. */
export const ALARM_WRITE_FORMS =
  `"<eventId>[: comment]" (acknowledge), "confirm <eventId>[: comment]", "comment <eventId>: text", "shelve <eventId>[ for <duration>]" or "unshelve <eventId>"`;

/**
 * Parses the value written to an event tag; a string with the reason when it is not one.
 *
 * @example
 * ```ts
 * parseAlarmAction("shelve 0a1b for 10m"); // { action: "Shelve", eventId: "0a1b", shelveMs: 600000 }
 * ```
 */
export function parseAlarmAction(value: unknown): AlarmAction | string {
  if (typeof value !== "string") {
    return `write one of ${ALARM_WRITE_FORMS}, got ${JSON.stringify(value)}`;
  }
  const m = /^\s*(?:([a-zA-Z]+)\s+)?([0-9a-fA-F]+)\s*(.*)$/s.exec(value);
  const verb = m?.[1]?.toLowerCase();
  const action = verb === undefined
    ? "Acknowledge"
    : (ALARM_ACTIONS as Record<string, AlarmAction["action"]>)[verb];
  if (!m || !action) {
    return `write one of ${ALARM_WRITE_FORMS} (the eventId of the alarm's record), got ${
      JSON.stringify(value)
    }`;
  }
  const eventId = m[2]!.toLowerCase();
  const rest = m[3]!.trim();
  if (action === "Shelve" || action === "Unshelve") {
    if (rest === "") return { action, eventId };
    const t = action === "Shelve" ? /^for\s+(\S+)$/i.exec(rest) : null;
    if (!t) {
      return action === "Shelve"
        ? `write "shelve <eventId>" or "shelve <eventId> for <duration>" (e.g. 10m), got ${
          JSON.stringify(value)
        }`
        : `write "unshelve <eventId>" with nothing after it, got ${JSON.stringify(value)}`;
    }
    try {
      const shelveMs = parseDuration(t[1]!);
      if (shelveMs <= 0) throw new RangeError("zero");
      return { action, eventId, shelveMs };
    } catch {
      return `the shelving time must be a positive duration such as 30s or 10m, got "${t[1]}"`;
    }
  }
  if (rest !== "" && !rest.startsWith(":")) {
    return `put a colon before the comment ("${verb ?? ""}${
      verb ? " " : ""
    }${eventId}: text"), got ${JSON.stringify(value)}`;
  }
  const comment = rest.slice(1).trim();
  if (action === "AddComment" && comment === "") {
    return `write "comment <eventId>: text" with a text, got ${JSON.stringify(value)}`;
  }
  return comment === "" ? { action, eventId } : { action, eventId, comment };
}
