/**
 * @module
 * Every sink, by its `use:` name.
 */

import type { SinkModule } from "../engine/plugin.ts";
import { consoleSink } from "./console/mod.ts";
import { httpSink } from "./http/mod.ts";
import { influxdbSink } from "./influxdb/mod.ts";
import { mqttSink } from "./mqtt/mod.ts";
import { postgresSink } from "./postgres/mod.ts";
import { sparkplugSink } from "./sparkplug/mod.ts";
import { sqliteSink } from "./sqlite/mod.ts";

/** The registered sinks. */
export const sinks: readonly SinkModule[] = [
  consoleSink,
  sqliteSink,
  mqttSink,
  sparkplugSink,
  influxdbSink,
  postgresSink,
  httpSink,
] as readonly SinkModule[];
