/**
 * @module
 * A validated {@linkcode FlowSet} as JSON and back. `bifrost run` validates flows in a
 * child process (`bifrost check --emit-flowset`) and receives the result this way, so the
 * long-running gateway never loads the YAML parser, the JSON Schema compiler or the
 * generated validators: they cost about 25 MB of resident memory for the life of the process.
 */

import type { TagConfig } from "../driver.ts";
import { FlowTag } from "./tag.ts";
import type {
  DeviceEntry,
  FlowSet,
  PollConfig,
  SinkConfig,
  StepConfig,
  TriggerConfig,
} from "./types.ts";

/** The JSON form of a flow set. */
export interface FlowSetJson {
  dir: string;
  files: string[];
  /**
   * Tags as `[name, config, kind]`: every other field of a tag derives from its config; the
   * kind is the one the driver gave when the flow loaded.
   */
  devices: [
    string,
    Omit<DeviceEntry, "tags"> & { tags: [string, Record<string, unknown>][] },
  ][];
  polls: [string, PollConfig][];
  steps: [string, StepConfig][];
  sinks: [string, SinkConfig][];
  triggers?: [string, TriggerConfig][];
}

/** A flow set as JSON-safe data. */
export function flowSetToJson(f: FlowSet): FlowSetJson {
  return {
    dir: f.dir,
    files: f.files,
    devices: [...f.devices].map((
      [n, d],
    ) => [n, {
      ...d,
      tags: [...d.tags].map(([t, tag]) => [t, tag.config]),
    }]),
    polls: [...f.polls],
    steps: [...f.steps],
    sinks: [...f.sinks],
    ...(f.triggers ? { triggers: [...f.triggers] } : {}),
  };
}

/**
 * One string per distinct value of the `file` fields: JSON gives every entity its own copy
 * of its file's path (2,000 copies for 1,000 devices in one file, measured).
 */
function internFiles(j: FlowSetJson): void {
  const seen = new Map<string, string>();
  const one = (s: string) => {
    const known = seen.get(s);
    if (known !== undefined) return known;
    seen.set(s, s);
    return s;
  };
  for (const list of [j.devices, j.polls, j.steps, j.sinks, j.triggers ?? []]) {
    for (const [, e] of list) {
      const entity = e as { file?: unknown };
      if (typeof entity.file === "string") entity.file = one(entity.file);
    }
  }
}

/** Rebuilds a flow set from {@linkcode flowSetToJson}'s output. */
export function flowSetFromJson(j: FlowSetJson): FlowSet {
  internFiles(j);
  return {
    dir: j.dir,
    files: j.files,
    devices: new Map(
      j.devices.map((
        [n, d],
      ) => [n, {
        ...d,
        tags: new Map<string, TagConfig>(
          d.tags.map(([t, config]) => [t, new FlowTag(t, config)]),
        ),
      }]),
    ),
    polls: new Map(j.polls),
    steps: new Map(j.steps),
    sinks: new Map(j.sinks),
    ...(j.triggers ? { triggers: new Map(j.triggers) } : {}),
  };
}
