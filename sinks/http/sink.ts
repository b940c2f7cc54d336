/**
 * @module
 * The `http` sink: records go as batched JSON (or NDJSON) requests to an endpoint, through
 * the durable queue and the forwarder (`sinks/_forward`): `write()` only enqueues; a 2xx
 * answer confirms a request; 5xx, 408, 429 and network errors retry with backoff (429 and
 * 503 honour `Retry-After`); other 4xx dead-letter the refused records (bisected down to
 * them) with the status and the start of the body.
 *
 * The module entry (the `http` sink's registry record) is `mod.ts`; this file loads with the
 * first `http` sink a flow opens.
 */

import { parseDuration } from "../../engine/plugin.ts";
import {
  basicAuth,
  createForwardSink,
  displayUrl,
  type ForwardContext,
  type ForwardSink,
  gzip,
  send,
} from "../_forward/mod.ts";
import { encodeBody } from "./encode.ts";
import { HTTP_DEFAULTS, type HttpConfig } from "./spec.ts";

export { encodeBody, recordJson } from "./encode.ts";
export { HTTP_DEFAULTS, type HttpConfig, HttpSpec } from "./spec.ts";

/** The request headers of an http sink (auth, content type, extra headers). */
export function httpHeaders(config: HttpConfig): Headers {
  const format = config.format ?? HTTP_DEFAULTS.format;
  const h = new Headers({
    "content-type": format === "json" ? "application/json" : "application/x-ndjson",
  });
  if (config.gzip ?? HTTP_DEFAULTS.gzip) h.set("content-encoding", "gzip");
  if (config.token !== undefined) h.set("authorization", `Bearer ${config.token}`);
  else if (config.username !== undefined) {
    h.set("authorization", basicAuth(config.username, config.password ?? ""));
  }
  for (const [k, v] of Object.entries(config.headers ?? {})) h.set(k, v);
  return h;
}

/**
 * Creates an http sink.
 *
 * @example
 * ```ts
 * const sink = createHttpSink({ url: "http://127.0.0.1:8080/ingest" }, { name: "mes", clock: systemClock });
 * await sink.open();
 * await sink.write(batch); // durable on return; POSTed in the background
 * await sink.close();
 * ```
 */
export function createHttpSink(
  config: HttpConfig,
  ctx: ForwardContext,
  random?: () => number,
): ForwardSink {
  const method = config.method ?? HTTP_DEFAULTS.method;
  const format = config.format ?? HTTP_DEFAULTS.format;
  const zip = config.gzip ?? HTTP_DEFAULTS.gzip;
  const timeoutMs = parseDuration(config.timeout ?? HTTP_DEFAULTS.timeout);
  const retryStatuses = config.retryStatuses ?? HTTP_DEFAULTS.retryStatuses;
  const target = displayUrl(config.url);
  const headers = httpHeaders(config);
  return createForwardSink({
    kind: "http",
    config,
    batchSize: HTTP_DEFAULTS.batchSize,
    ctx,
    ...(random ? { random } : {}),
    destination: () => ({
      target,
      async deliver(b, c) {
        const text = encodeBody(b, c.historical, format);
        const body = zip ? await gzip(text) : text;
        await send(config.url, { method, headers, body: body as BodyInit }, {
          timeoutMs,
          signal: c.signal,
          what: `${method} ${target}`,
          retryStatuses,
        });
      },
    }),
  });
}
