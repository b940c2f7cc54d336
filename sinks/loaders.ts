/**
 * @module
 * Every sink module by its `use:` name, imported on demand: a gateway imports the sinks its
 * flows name (`app/sources.ts`), the CLI and the flow loader all of them (`registry.ts`).
 */

import type { SinkModule } from "../engine/plugin.ts";

/** Imports each sink module by its `use:` name. */
export const sinkLoaders: Readonly<Record<string, () => Promise<SinkModule>>> = {
  console: async () => (await import("./console/mod.ts")).consoleSink as SinkModule,
  sqlite: async () => (await import("./sqlite/mod.ts")).sqliteSink as SinkModule,
  mqtt: async () => (await import("./mqtt/mod.ts")).mqttSink as SinkModule,
  sparkplug: async () => (await import("./sparkplug/mod.ts")).sparkplugSink as SinkModule,
  influxdb: async () => (await import("./influxdb/mod.ts")).influxdbSink as SinkModule,
  postgres: async () => (await import("./postgres/mod.ts")).postgresSink as SinkModule,
  http: async () => (await import("./http/mod.ts")).httpSink as SinkModule,
};
