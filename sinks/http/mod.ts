/**
 * @module
 * The `http` sink's registry entry: its name, description and spec, and a `create` whose
 * implementation (`sink.ts`, where the sink's behaviour is described) loads with the first
 * `http` sink a gateway opens (`load()`), so that a gateway without one never carries it.
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type HttpConfig, HttpSpec } from "./spec.ts";

/** The `http` sink. */
export const httpSink: SinkModule<HttpConfig> = {
  name: "http",
  description:
    "Sends records as batched JSON to an HTTP endpoint through a durable queue (retries, circuit breaker, dead letters).",
  status: "beta",
  spec: HttpSpec,
  ...lazyCreate('sink "http"', async () => (await import("./sink.ts")).createHttpSink),
};
