/**
 * @module
 * The `http` sink: records go as batched JSON (or NDJSON) requests to an endpoint, through
 * the durable queue and the forwarder (`sinks/_forward`): `write()` only enqueues; a 2xx
 * answer confirms a request; 5xx, 408, 429 and network errors retry with backoff (429 and
 * 503 honour `Retry-After`); other 4xx dead-letter the refused records (bisected down to
 * them) with the status and the start of the body.
 *
 * This entry is what the registry imports: the name, the spec and a `create` whose
 * implementation (`sink.ts`) loads with the first `http` sink a gateway opens (`load()`).
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
