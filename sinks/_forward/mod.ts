/**
 * @module
 * Queued delivery for request/response destinations (HTTP, InfluxDB, PostgreSQL): the
 * durable queue, a delivery loop with backoff and a circuit breaker, and a dead-letter table
 * for records the destination refuses for good. See {@linkcode Forwarder} and
 * {@linkcode createForwardSink}.
 *
 * @example
 * ```ts
 * const sink = createForwardSink({
 *   kind: "http", config: { batchSize: 100 }, batchSize: 500,
 *   ctx: { name: "api", clock: systemClock },
 *   destination: () => ({ target: "http://127.0.0.1:8080/ingest", deliver: post }),
 * });
 * ```
 */

export { BreakerState, type BreakerStateCode, CircuitBreaker } from "./breaker.ts";
export { type DeadLetter, DeadLetterStore } from "./dead_letter.ts";
export {
  DEFAULT_RETRY_STATUSES,
  DeliveryError,
  type DeliveryErrorOptions,
  excerpt,
  httpError,
  isPermanent,
  isRetryableStatus,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from "./errors.ts";
export {
  DEAD_LETTER_LOG_INTERVAL_MS,
  type Deliver,
  type DeliverContext,
  Forwarder,
  type ForwarderOptions,
  type ForwarderStats,
} from "./forwarder.ts";
export {
  createForwardSink,
  deadLetterPath,
  type Destination,
  type ForwardContext,
  type ForwardSink,
  type ForwardSinkOptions,
  type ForwardSinkStats,
} from "./sink.ts";
export {
  DEAD_LETTER_MAX,
  FORWARD_DEFAULTS,
  type ForwardConfig,
  forwardFields,
  type ForwardSettings,
  forwardSettings,
} from "./spec.ts";
export { gunzip, gzip } from "./gzip.ts";
export { basicAuth, displayUrl, send, type SendOptions } from "./request.ts";
