/**
 * @module
 * The types of the simulator's config and the tables of names it accepts, apart from
 * `config.ts` so that the folder reader (`_folder.ts`) and `config.ts` import no cycle.
 */

import type { Value } from "../../../engine/plugin.ts";
import type { ScalarType } from "../core/types.ts";
import { SECURITY_MODES, SECURITY_POLICIES } from "../core/spec.ts";

/** Generator kinds: those of `simulators/generators.ts` plus `random` and `toggle`. */
export const SIM_GENERATORS = [
  "constant",
  "ramp",
  "sine",
  "square",
  "toggle",
  "random",
  "random-walk",
  "counter",
] as const;
/** A generator kind. */
export type SimGeneratorKind = (typeof SIM_GENERATORS)[number];

/** A value generator of a variable. */
export interface SimGenerator {
  kind: SimGeneratorKind;
  min?: number;
  max?: number;
  periodMs?: number;
  step?: number;
  everyMs?: number;
  seed?: number;
}

/** A variable (or, with `repeat`, the template of `repeat` variables: `{i}` in its id). */
export interface SimVariableDef {
  /** `Demo.Static.Double`: the string NodeId in ns=1, and the browse path below Objects. */
  id: string;
  type: ScalarType;
  array: boolean;
  /** The record-model value (`Int64` a bigint, `ByteString` hex, `DateTime` ISO text...). */
  value: Value;
  writable: boolean;
  generator?: SimGenerator;
  /** An AnalogItem with this EURange (a `percent` deadband works against it). */
  euRange?: { low: number; high: number };
  /** A node-opcua `standardUnits` key (`degree_celsius`), for an AnalogItem. */
  units?: string;
  /** A template: `repeat` variables, `{i}` in the id (and in a text value) from 0. */
  repeat?: number;
  /** `file:line:column` of its definition, for errors found when the server is built. */
  at: string;
}

/** Method kinds. */
export const METHOD_KINDS = ["add", "echo", "set", "fail"] as const;

/** A method of a folder. */
export interface SimMethodDef {
  id: string;
  /** `add(a, b) -> sum` (Double), `echo(value) -> value`, `set(value)` a variable, `fail` with a Bad status. */
  kind: (typeof METHOD_KINDS)[number];
  /** echo: the argument's type (default String). */
  type?: ScalarType;
  /** set: the variable's id. */
  variable?: string;
  /** fail: the status code's name (`BadUserAccessDenied`). */
  status?: string;
  at: string;
}

/** Alarm types. */
export const ALARM_TYPES = ["ExclusiveLimitAlarm", "NonExclusiveLimitAlarm"] as const;

/** A limit alarm on a variable. */
export interface SimAlarmDef {
  id: string;
  type: (typeof ALARM_TYPES)[number];
  /** The input variable's id. */
  input: string;
  highHigh?: number;
  high?: number;
  low?: number;
  lowLow?: number;
  /** Severity of its events while active (1..1000; node-opcua's default 150). */
  severity?: number;
  /** Message while active; `{value}` (three decimals) and `{state}` (High, or the non-exclusive states) are replaced. */
  message?: string;
  at: string;
}

/** A folder (an object with an event notifier when it holds alarms or says `events: true`). */
export interface SimFolderDef {
  id: string;
  events: boolean;
  folders: SimFolderDef[];
  variables: SimVariableDef[];
  methods: SimMethodDef[];
  alarms: SimAlarmDef[];
}

// The client's modes and policies: the simulator serves what the driver offers.
export { SECURITY_MODES, SECURITY_POLICIES };

/** The whole config. */
export interface SimConfig {
  file: string;
  /** Generators' tick, ms (0: values never change). */
  changeEveryMs?: number;
  security: {
    modes: (typeof SECURITY_MODES)[number][];
    policies: (typeof SECURITY_POLICIES)[number][];
    anonymous: boolean;
    users: { user: string; password: string }[];
    trustClients: boolean;
  };
  faults: { slowMs: number; dropEveryMs: number; restartEveryMs: number };
  /** The folders under Objects. */
  objects: SimFolderDef[];
}
