/**
 * @module
 * A step or sink of the running graph with its queue, and the two things a reload does to
 * one: close it (flush a sink, close a step) and swap it for a new instance behind its
 * queue, so that batches wait instead of being dropped while the node is rebuilt.
 */

import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Batch } from "../record.ts";
import type { Sink } from "../sink.ts";
import type { Step } from "../step.ts";
import type { DropLog } from "./drop_log.ts";
import type { SerialQueue } from "./serial_queue.ts";

/** A step or sink and what feeds it. */
export interface ConsumerRuntime {
  kind: "step" | "sink";
  queue: SerialQueue<Batch>;
  step?: Step;
  sink?: Sink;
  errors: number;
  /** Records taken from the queue. */
  records: number;
  lastErrorLog: number;
  /** Records dropped from `queue` when full, logged apart from errors (never rate-limited away). */
  drops: DropLog;
  /** While a reload swaps the step or sink, the queue waits on this (batches keep queueing). */
  gate?: Promise<void>;
  /** The batch being processed, so that a reload can wait for it before closing the node. */
  busy?: Promise<unknown>;
}

/** Closes a consumer's step or sink (a sink is flushed first); logs a failure. */
export async function closeConsumer(name: string, c: ConsumerRuntime, log: Logger): Promise<void> {
  c.drops.flush();
  try {
    if (c.step) await c.step.close?.();
    if (c.sink) {
      await c.sink.flush();
      await c.sink.close();
    }
  } catch (e) {
    log.error("Failed to close", { node: name, error: errorMessage(e) });
  }
}

/**
 * Replaces a consumer's step or sink behind its queue: batches wait at the gate, the one
 * running finishes on the old node, the old node closes (a sink flushes and releases its
 * durable queue), `start(true)` opens the new one. If that fails, `start(false)` opens the
 * old settings again. Returns whether the new settings run; failures go to `failures`.
 */
export async function swapConsumer(
  name: string,
  c: ConsumerRuntime,
  start: (next: boolean) => Promise<void>,
  log: Logger,
  failures: string[],
): Promise<boolean> {
  const open = Promise.withResolvers<void>();
  c.gate = open.promise;
  try {
    await c.busy?.catch(() => {});
    await closeConsumer(name, c, log);
    try {
      await start(true);
      return true;
    } catch (e) {
      try {
        await start(false);
        failures.push(`${c.kind} "${name}" kept its old settings: ${errorMessage(e)}`);
      } catch (again) {
        // Its batches now fail one by one (counted and logged as the node's errors).
        failures.push(`${c.kind} "${name}" is down: ${errorMessage(e)}; ${errorMessage(again)}`);
      }
      return false;
    }
  } finally {
    c.gate = undefined;
    open.resolve();
  }
}
