/** @module The `alarm` step's config spec. */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { DevicesField, TagsField } from "../_shared.ts";

/** Alarm types. */
export const ALARM_TYPES = ["highHigh", "high", "low", "lowLow", "rate", "deviation"] as const;
/** Priorities, lowest first. */
export const PRIORITIES = ["low", "medium", "high", "critical"] as const;

const duration = (description: string) =>
  Type.Optional(Type.String({ pattern: DURATION_PATTERN, description, examples: ["5s"] }));

/** One alarm rule. */
export const AlarmRuleSpec = Type.Object({
  name: Type.Optional(Type.String({
    pattern: "^[A-Za-z0-9_.-]+$",
    description: "Name of the alarm (part of its id and output tag); default: its type.",
    examples: ["temp-high"],
  })),
  tags: TagsField,
  devices: DevicesField,
  type: Type.Union(ALARM_TYPES.map((t) => Type.Literal(t)), {
    description:
      "highHigh/high: value above limit; low/lowLow: below; rate: change per second beyond ±limit; deviation: |value - reference tag| above limit.",
  }),
  limit: Type.Number({ description: "The alarm limit (engineering units; per second for rate)." }),
  deadband: Type.Optional(Type.Number({
    minimum: 0,
    default: 0,
    description:
      "Hysteresis: the alarm clears only once the value is this far back inside the limit.",
    examples: [2],
  })),
  reference: Type.Optional(Type.String({
    minLength: 1,
    description: "deviation: the tag of the same device to compare with (e.g. a setpoint).",
    examples: ["setpoint"],
  })),
  onDelay: duration("The condition must hold this long before the alarm activates."),
  offDelay: duration("The condition must be gone this long before the alarm clears."),
  priority: Type.Optional(Type.Union(PRIORITIES.map((p) => Type.Literal(p)), {
    default: "medium",
  })),
  message: Type.Optional(Type.String({ description: "Text carried by the alarm's records." })),
  suppressWhen: Type.Optional(Type.String({
    minLength: 1,
    description:
      "Suppressed by design while this expression over the device's tags is true (e.g. `running == 0`).",
    examples: ["`pump-running` == 0"],
  })),
}, { additionalProperties: false });

/** The `alarm` step's fields. */
export const AlarmSpec = Type.Object({
  rules: Type.Array(AlarmRuleSpec, {
    minItems: 1,
    description: "Alarm rules; each applies to every selected tag of every selected device.",
  }),
  output: Type.Optional(Type.String({
    default: "{tag}.{alarm}",
    description: "Tag name of alarm records: `{tag}`, `{device}` and `{alarm}` are replaced.",
  })),
  keep: Type.Optional(Type.Boolean({
    default: false,
    description: "Pass the input records on beside the alarm records.",
  })),
  persist: Type.Optional(Type.Boolean({
    default: false,
    description:
      "Snapshot alarm states (acknowledged, shelved…) to the data directory when the step stops, and restore them at start (same config only).",
  })),
}, {
  additionalProperties: false,
  description:
    "Alarms with ISA-18.2 states (normal, unacknowledged, acknowledged, returned unacknowledged, shelved, suppressed): limits with hysteresis, on/off delays, rate of change and deviation.",
  examples: [{
    rules: [{ tags: ["temp1"], type: "high", limit: 80, deadband: 2, onDelay: "5s" }],
  }],
});

/** The `alarm` step's config. */
export type AlarmConfig = Static<typeof AlarmSpec>;
/** One rule's config. */
export type AlarmRule = Static<typeof AlarmRuleSpec>;
