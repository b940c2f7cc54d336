/**
 * @module
 * The `http` sink's fields (TypeBox): endpoint, body format, headers, auth, timeout, which
 * 4xx statuses to retry, and the shared delivery fields and durable queue.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { DEFAULT_RETRY_STATUSES } from "../_forward/errors.ts";
import { forwardFields } from "../_forward/spec.ts";

/** Defaults of the `http` sink. */
export const HTTP_DEFAULTS = {
  method: "POST",
  format: "json",
  timeout: "10s",
  gzip: false,
  batchSize: 500,
  retryStatuses: DEFAULT_RETRY_STATUSES,
} as const;

/** The `http` sink's fields. */
export const HttpSpec = Type.Object({
  url: Type.String({
    pattern: "^https?://",
    description: "Endpoint that receives the records.",
    examples: ["http://127.0.0.1:8080/ingest", "https://mes.acme.local/api/readings"],
  }),
  method: Type.Optional(Type.Union([Type.Literal("POST"), Type.Literal("PUT")], {
    default: HTTP_DEFAULTS.method,
    description: "HTTP method.",
    examples: ["POST"],
  })),
  format: Type.Optional(Type.Union([Type.Literal("json"), Type.Literal("ndjson")], {
    default: HTTP_DEFAULTS.format,
    description:
      'Body: `json` is `{"records": [...]}` (`application/json`); `ndjson` is one record per line (`application/x-ndjson`). A record is `{"device","tag","value","quality","reason"?,"sourceTs","gatewayTs","seq","historical"?}`.',
    examples: ["json", "ndjson"],
  })),
  headers: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), {
    description: "Extra request headers; write `${ENV_VAR}` to take a secret from the environment.",
    examples: [{ "X-Api-Key": "${MES_API_KEY}" }],
  })),
  username: Type.Optional(Type.String({
    description: "User name for HTTP basic auth.",
    examples: ["gateway"],
  })),
  password: Type.Optional(Type.String({
    description: "Password for HTTP basic auth.",
    examples: ["${HTTP_PASSWORD}"],
  })),
  token: Type.Optional(Type.String({
    minLength: 1,
    description: "Bearer token (`Authorization: Bearer …`).",
    examples: ["${HTTP_TOKEN}"],
  })),
  timeout: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: HTTP_DEFAULTS.timeout,
    description: "How long one request may take; a timed-out request is retried.",
    examples: ["10s"],
  })),
  gzip: Type.Optional(Type.Boolean({
    default: HTTP_DEFAULTS.gzip,
    description: "Compress request bodies (`Content-Encoding: gzip`).",
    examples: [false, true],
  })),
  retryStatuses: Type.Optional(Type.Array(Type.Integer({ minimum: 400, maximum: 499 }), {
    default: [...HTTP_DEFAULTS.retryStatuses],
    description:
      "4xx statuses retried (they say the endpoint is misconfigured, not the records bad). 5xx, 408 and 429 are always retried (429/503 honour `Retry-After`); any other 4xx dead-letters the refused records with the status and the start of the body.",
    examples: [[401, 403, 404, 407], []],
  })),
  ...forwardFields(HTTP_DEFAULTS.batchSize, "Records per request at most."),
}, {
  additionalProperties: false,
  description:
    "Sends records as batched JSON to an HTTP endpoint through a durable queue: retried with backoff while the endpoint fails, records it refuses (4xx) go to a dead-letter table.",
  examples: [
    { url: "http://127.0.0.1:8080/ingest" },
    {
      url: "https://mes.acme.local/api/readings",
      format: "ndjson",
      token: "${MES_TOKEN}",
      batchSize: 1000,
      queue: { maxAge: "3d" },
    },
  ],
});

/** The `http` sink's config. */
export type HttpConfig = Static<typeof HttpSpec>;
