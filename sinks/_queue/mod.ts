/**
 * @module
 * The durable store-and-forward queue shared by network sinks (MQTT now; HTTP, InfluxDB,
 * PostgreSQL later): a sink's `write()` enqueues durably and returns, and its sender loop
 * peeks, delivers and acknowledges. See {@linkcode DurableQueue}.
 *
 * @example
 * ```ts
 * const q = openSinkQueue({ maxAge: "1d" }, { name: "broker", clock: systemClock });
 * q.enqueue(batch);
 * const chunk = q.peek(500);          // oldest records, still held
 * if (chunk) q.ack(chunk.lastId);     // once the destination confirmed them
 * ```
 */

export { decodeBatch, encodeBatch, sliceBatch } from "./codec.ts";
export {
  DROP_LOG_INTERVAL_MS,
  type DropReason,
  DurableQueue,
  type DurableQueueOptions,
  openSinkQueue,
  type QueueChunk,
  type QueueStats,
  ROW_RECORDS,
} from "./queue.ts";
export { QUEUE_DEFAULTS, type QueueConfig, queuePath, QueueSpec } from "./spec.ts";
