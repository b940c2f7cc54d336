/**
 * @module
 * The sink contract. A sink receives batches and stores or forwards them. `write()` resolves
 * when the batch is safely handed over (on disk, or confirmed by the destination); a sink
 * that cannot take it throws a {@linkcode BifrostError} with code `SINK_FAILED` and the
 * engine counts and logs it.
 */

import type { TSchema } from "@sinclair/typebox";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { Batch } from "./record.ts";

/** What the engine gives a sink. */
export interface SinkContext {
  name: string;
  log: Logger;
  clock: Clock;
  /** Directory for the sink's files (history databases, queues); created by the engine. */
  dataDir: string;
}

/** Figures a sink reports for metrics. */
export type SinkStats = Record<string, number>;

/** A running sink. */
export interface Sink {
  open(): Promise<void>;
  write(batch: Batch): Promise<void>;
  /** Writes out whatever is buffered. */
  flush(): Promise<void>;
  close(): Promise<void>;
  stats?(): SinkStats;
}

/** One entry of the sink registry. */
export interface SinkModule<C = Record<string, unknown>> {
  /** The `use:` value in flows, e.g. `sqlite`. */
  name: string;
  description: string;
  status: "stable" | "beta" | "experimental";
  spec: TSchema;
  create(config: C, ctx: SinkContext): Sink;
}
