/**
 * @module
 * The `write()` and `flush()` every queued sink shares: a write is a durable enqueue (the
 * records survive a killed process once it resolved) followed by a nudge to the sender; a
 * flush only folds the WAL back, since the records are already on disk.
 */

import { type Batch, BifrostError } from "../../engine/plugin.ts";
import type { DurableQueue } from "./queue.ts";

/**
 * Enqueues `b` and then calls `sent` (to wake the sender). `queue` is undefined while the sink
 * is not open; `what` names the sink in the error, e.g. `mqtt sink "cloud"`.
 */
export function queuedWrite(
  queue: DurableQueue | undefined,
  what: string,
  b: Batch,
  sent: () => void,
): Promise<void> {
  if (!queue) {
    return Promise.reject(
      new BifrostError("SINK_FAILED", `Cannot write to ${what}: it is not open`),
    );
  }
  try {
    queue.enqueue(b);
  } catch (e) {
    return Promise.reject(e);
  }
  sent();
  return Promise.resolve();
}

/** Checkpoints the queue's WAL (a queued sink's `flush()`). */
export function checkpointQueue(queue: DurableQueue | undefined): Promise<void> {
  try {
    queue?.checkpoint();
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
}
