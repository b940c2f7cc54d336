/**
 * @module
 * The sink contract. A sink receives batches and stores or forwards them. `write()` resolves
 * when the batch is safely handed over (on disk, or confirmed by the destination); a sink
 * that cannot take it throws a {@linkcode BifrostError} with code `SINK_FAILED` and the
 * engine counts and logs it.
 */

import type { TSchema } from "@sinclair/typebox";
import type { Clock } from "./clock.ts";
import type { ValueKind } from "./driver.ts";
import type { Logger } from "./log.ts";
import type { Batch, Value } from "./record.ts";

/** A tag as sinks that describe their metrics up front (Sparkplug births) see it. */
export interface CatalogTag {
  name: string;
  /** Driver data type, e.g. `float32`, `bool`, `string`. */
  type: string;
  /** How its values are carried, as the driver said when the flow loaded. */
  kind?: ValueKind;
  unit?: string;
  description?: string;
  writable: boolean;
}

/** The devices and tags of the running flows, by name. */
export type Catalog = ReadonlyMap<string, readonly CatalogTag[]>;

/** What the engine gives a sink. */
export interface SinkContext {
  name: string;
  log: Logger;
  clock: Clock;
  /** Directory for the sink's files (history databases, queues); created by the engine. */
  dataDir: string;
  /** Every device of the running flows and its tags (for births and metadata). */
  catalog: Catalog;
  /**
   * Writes a value (engineering units) to a device tag, for sinks that carry commands back
   * (Sparkplug DCMD). Rejects with a BifrostError (`WRITE_REJECTED` for a tag not marked
   * writable, `NOT_FOUND`, `NOT_CONNECTED`…).
   */
  writeTag(device: string, tag: string, value: Value): Promise<void>;
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
  /** Makes the sink of one `sinks:` entry; call {@linkcode load} first when the module has it. */
  create(config: C, ctx: SinkContext): Sink;
  /**
   * Loads what `create` needs (the sink's client and queue), so that a gateway without such
   * a sink never carries it (`lazyCreate` of `engine/lazy.ts`); the gateway awaits it before
   * `create`, which throws until it has resolved. Idempotent.
   */
  load?(): Promise<void>;
}
