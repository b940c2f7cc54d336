/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `console` sink: its
 * "server" is the standard output, captured here, in the `json` format (one record a line)
 * so that every field reads back.
 */

import type { DataRecord } from "../../engine/record.ts";
import { runSinkConformance, type SinkServer } from "../../tests/conformance/sink.ts";
import { consoleSink, createConsoleSink } from "./mod.ts";

interface Capture extends SinkServer {
  text: string[];
}

runSinkConformance<Capture>({
  module: consoleSink,
  startServer() {
    const close = () => Promise.resolve();
    return Promise.resolve({ text: [], close, [Symbol.asyncDispose]: close });
  },
  config: () => ({ format: "json" }),
  create: (config, ctx, capture) =>
    createConsoleSink(config, ctx, (t) => {
      capture.text.push(t);
    }),
  readBack: (capture) =>
    Promise.resolve(
      capture.text.join("").split("\n").filter((l) => l !== "").map((l) =>
        JSON.parse(l) as DataRecord
      ),
    ),
  fields: ["value", "quality", "reason", "sourceTs", "gatewayTs", "seq"],
  queued: false,
  delivered: (s) => s.written ?? 0,
  exampleBase: {},
});
