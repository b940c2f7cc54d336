/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `sqlite` history sink:
 * its "server" is the database file, read back with `queryHistory()` on a connection of
 * its own (what the API and `bifrost history` do).
 */

import { join } from "node:path";
import { runSinkConformance, type SinkServer } from "../../tests/conformance/sink.ts";
import { queryHistory, sqliteSink } from "./mod.ts";

runSinkConformance<SinkServer>({
  module: sqliteSink,
  startServer() {
    const close = () => Promise.resolve();
    return Promise.resolve({ close, [Symbol.asyncDispose]: close });
  },
  config: (_, dataDir) => ({ path: join(dataDir, "history.db") }),
  readBack: (_, config) => {
    try {
      return Promise.resolve(queryHistory(config.path as string));
    } catch {
      return Promise.resolve([]); // Not created yet.
    }
  },
  fields: ["value", "quality", "reason", "sourceTs", "gatewayTs", "seq"],
  queued: false,
  delivered: (s) => s.written ?? 0,
  exampleBase: { path: "data/history.db" },
});
