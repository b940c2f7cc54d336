/**
 * @module
 * A {@linkcode Sink} built from a destination's `deliver()`: `write()` enqueues durably and
 * returns, a {@linkcode Forwarder} delivers in the background, `close()` delivers what it
 * can within `closeTimeout` and leaves the rest on disk. The http, influxdb and postgres
 * sinks are this plus their encoding.
 */

import { checkpointQueue, queuedWrite } from "../_queue/sink_io.ts";
import { type Batch, nullLogger, type Sink, type SinkContext } from "../../engine/plugin.ts";
import { type DurableQueue, openSinkQueue, queuePath, type QueueStats } from "../_queue/mod.ts";
import { DeadLetterStore } from "./dead_letter.ts";
import { type Deliver, Forwarder, type ForwarderStats } from "./forwarder.ts";
import { type ForwardConfig, forwardSettings } from "./spec.ts";

/** What a forwarding sink delivers to, made when the sink opens. */
export interface Destination {
  /** The destination as shown in logs (no credentials). */
  target: string;
  deliver: Deliver;
  /** Records per request at most whatever `batchSize` says (e.g. a parameter limit). */
  maxBatch?: number;
  /** Releases connections. */
  close?(): Promise<void>;
  /** Extra figures (e.g. records skipped by the encoder). */
  stats?(): Record<string, number>;
}

/** Figures of a forwarding sink: its queue's, its forwarder's and its destination's. */
export type ForwardSinkStats = QueueStats & ForwarderStats & { deadLetters: number };

/** A running forwarding sink; `queue` and `deadLetters` are set between open and close. */
export interface ForwardSink extends Sink {
  readonly queue: DurableQueue | undefined;
  readonly deadLetters: DeadLetterStore | undefined;
  stats(): ForwardSinkStats;
}

/** The context a forwarding sink needs. */
export type ForwardContext =
  & Pick<SinkContext, "name" | "clock">
  & Partial<Pick<SinkContext, "log" | "dataDir">>;

/** Settings of {@linkcode createForwardSink}. */
export interface ForwardSinkOptions {
  /** The sink's `use:` name, for messages (`http`, `influxdb`…). */
  kind: string;
  config: ForwardConfig;
  /** The sink's default `batchSize`. */
  batchSize: number;
  ctx: ForwardContext;
  /** Makes the destination at `open()`; throwing fails the open. */
  destination: () => Destination;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
}

const ZERO_QUEUE: QueueStats = {
  enqueued: 0,
  sent: 0,
  dropped: 0,
  depth: 0,
  oldestAgeMs: 0,
  bytes: 0,
};

const ZERO_FORWARDER: ForwarderStats = {
  sent: 0,
  historical: 0,
  requests: 0,
  failed: 0,
  deadLettered: 0,
  breaker: 0,
  breakerOpens: 0,
  consecutiveFailures: 0,
};

/** The dead-letter file beside the queue file: `<dir>/<sink>.dead.db`. */
export function deadLetterPath(config: ForwardConfig, name: string, dataDir?: string): string {
  return queuePath(config.queue, name, dataDir).replace(/\.db$/, "") + ".dead.db";
}

/**
 * Creates a sink that queues durably and forwards through `destination().deliver`.
 *
 * @example
 * ```ts
 * const sink = createForwardSink({
 *   kind: "http", config: {}, batchSize: 500, ctx: { name: "api", clock: systemClock },
 *   destination: () => ({ target: url, deliver: async (b) => { await post(b); } }),
 * });
 * ```
 */
export function createForwardSink(o: ForwardSinkOptions): ForwardSink {
  const { ctx, kind } = o;
  const log = ctx.log ?? nullLogger;
  const s = forwardSettings(o.config, o.batchSize);
  let queue: DurableQueue | undefined;
  let dead: DeadLetterStore | undefined;
  let dest: Destination | undefined;
  let fwd: Forwarder | undefined;
  let last: ForwardSinkStats | undefined;

  const stats = (): ForwardSinkStats => {
    if (!queue || !fwd) {
      return last ?? { ...ZERO_QUEUE, ...ZERO_FORWARDER, deadLetters: 0 };
    }
    return {
      ...queue.stats(),
      ...fwd.stats(),
      deadLetters: dead?.count() ?? 0,
      ...dest?.stats?.(),
    };
  };

  return {
    get queue() {
      return queue;
    },
    get deadLetters() {
      return dead;
    },
    open() {
      if (queue) return Promise.resolve();
      try {
        queue = openSinkQueue(o.config.queue, { ...ctx, log });
        dead = new DeadLetterStore({
          path: deadLetterPath(o.config, ctx.name, ctx.dataDir),
          maxRecords: s.deadLetterMax,
          clock: ctx.clock,
        });
        dest = o.destination();
        fwd = new Forwarder({
          ...s,
          batchSize: Math.min(s.batchSize, dest.maxBatch ?? Infinity),
          name: ctx.name,
          target: dest.target,
          queue,
          deadLetters: dead,
          deliver: dest.deliver,
          clock: ctx.clock,
          log,
          ...(o.random ? { random: o.random } : {}),
        });
        fwd.start();
        return Promise.resolve();
      } catch (e) {
        queue?.close();
        dead?.close();
        queue =
          dead =
          dest =
          fwd =
            undefined;
        return Promise.reject(e);
      }
    },
    write(b: Batch) {
      const f = fwd;
      return queuedWrite(f && queue, `${kind} sink "${ctx.name}"`, b, () => f!.wake());
    },
    flush: () => checkpointQueue(queue),
    async close() {
      if (!queue || !fwd) return;
      const q = queue;
      const f = fwd;
      const d = dest;
      try {
        await f.stop(s.closeTimeoutMs);
        last = stats();
        await d?.close?.().catch((e) =>
          log.warn(`Cannot close the connection of ${kind} sink "${ctx.name}"`, {
            error: String(e),
          })
        );
      } finally {
        queue = fwd = dest = undefined;
        if (last && last.depth > 0) {
          log.info(`${kind} sink "${ctx.name}" keeps ${last.depth} undelivered records on disk`, {
            path: q.path,
          });
        }
        q.close();
        dead?.close();
        dead = undefined;
      }
    },
    stats,
  };
}
