/**
 * @module
 * Every sink, by its `use:` name.
 */

import type { SinkModule } from "../engine/sink.ts";
import { consoleSink } from "./console/mod.ts";
import { mqttSink } from "./mqtt/mod.ts";
import { sparkplugSink } from "./sparkplug/mod.ts";
import { sqliteSink } from "./sqlite/mod.ts";

/** The registered sinks. */
export const sinks: readonly SinkModule[] = [
  consoleSink,
  sqliteSink,
  mqttSink,
  sparkplugSink,
] as readonly SinkModule[];
