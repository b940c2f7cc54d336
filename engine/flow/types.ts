/**
 * @module
 * A loaded, validated set of flows: what the compiler takes. Every entity keeps the file it
 * came from so that later errors can still point at it.
 */

import type { DeviceConfig } from "../driver.ts";

/** Where an entity was declared. */
export interface Origin {
  file: string;
  line: number;
  column: number;
}

/** A poll group: tags of one device read together on a schedule. */
export interface PollConfig {
  name: string;
  device: string;
  /** Tag names, or every tag of the device. */
  tags: string[] | "*";
  /** Interval in ms (from `every:`). */
  everyMs?: number;
  /** 6-field cron with seconds (from `cron:`). */
  cron?: string;
  /**
   * The driver's subscription options (from `subscribe:`, defaults applied): the device
   * pushes the values instead of being polled.
   */
  subscribe?: Record<string, unknown>;
  origin: Origin;
}

/** A step: a built-in function or a user edge function. */
export interface StepConfig {
  name: string;
  use: string;
  /** Names of polls, steps or devices feeding it. */
  from: string[];
  /** The step's own fields, defaults applied. */
  config: Record<string, unknown>;
  /**
   * A fingerprint of the code a `function` step runs (its file and imports), when the app
   * recorded one: a new revision whose function code changed changes the step.
   */
  source?: string;
  origin: Origin;
}

/** A sink. */
export interface SinkConfig {
  name: string;
  use: string;
  from: string[];
  config: Record<string, unknown>;
  origin: Origin;
}

/** An HTTP trigger: a request to `path` runs the edge function `file`. */
export interface TriggerConfig {
  name: string;
  /** Upper-case HTTP method ("" for a cron trigger). */
  method: string;
  /** The path as written (`:name` segments are parameters; "" for a cron trigger). */
  path: string;
  /** A 6-field cron schedule: the trigger runs on it instead of on requests. */
  cron?: string;
  /** Absolute path of the function's module. */
  file: string;
  /** JSON Schema of the request body, when given. */
  body?: Record<string, unknown>;
  timeoutMs: number;
  memoryMb: number;
  /** `with:`, handed to the function as `ctx.params`. */
  params: Record<string, unknown>;
  /** `permissions:`, `read` paths absolute (none when not given). */
  permissions: { net: string[]; read: string[]; env: string[] };
  /** A fingerprint of the function's code, set by a running gateway to compare revisions. */
  source?: string;
  origin: Origin;
}

/** A device with its origin. */
export interface DeviceEntry extends DeviceConfig {
  origin: Origin;
}

/** Every flow file of a directory, merged. Names are global across kinds. */
export interface FlowSet {
  /** The flow directory. */
  dir: string;
  /** The files read, relative to the working directory. */
  files: string[];
  devices: Map<string, DeviceEntry>;
  polls: Map<string, PollConfig>;
  steps: Map<string, StepConfig>;
  sinks: Map<string, SinkConfig>;
  /** HTTP triggers (absent in flow sets built by hand). */
  triggers?: Map<string, TriggerConfig>;
}
