/**
 * @module
 * The `sqlite` sink: the embedded history in a `node:sqlite` database (WAL mode), each batch
 * packed as one block of columns per device (store.ts, codec.ts), writes grouped into one
 * transaction per `flushInterval` (a timer commits an idle group), with retention by age
 * (`maxAge`) and by size (`maxSize`).
 * {@linkcode queryHistory} reads it back for the API and tests.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  type DataRecord,
  DURATION_PATTERN,
  parseDuration,
  type Sink,
  type SinkContext,
  type SinkModule,
} from "../../engine/plugin.ts";
import { type HistoryQuery, queryHistory } from "./query.ts";
import { parseSize, SIZE_PATTERN } from "./size.ts";
import { type HistoryStats, HistoryStore } from "./store.ts";

export { DEFAULT_QUERY_LIMIT, type HistoryQuery, queryHistory } from "./query.ts";
export { parseSize, SIZE_PATTERN } from "./size.ts";
export { type HistoryStats, HistoryStore } from "./store.ts";

/** The `sqlite` sink's fields. */
export const SqliteSpec = Type.Object({
  path: Type.Optional(Type.String({
    minLength: 1,
    default: "data/history.db",
    description:
      "Database file, relative to the working directory; its parent directories are created.",
    examples: ["data/history.db", "/var/lib/bifrost/history.db"],
  })),
  maxAge: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "30d",
    description: "Records older than this (by gateway time) are deleted.",
    examples: ["30d", "12h"],
  })),
  maxSize: Type.Optional(Type.String({
    pattern: SIZE_PATTERN,
    default: "1GB",
    description:
      "The oldest records are deleted while the database is larger than this (KB/MB/GB are powers of 1024).",
    examples: ["512MB", "1GB"],
  })),
  retentionInterval: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "1m",
    description: "How often retention runs at most (checked when a batch is written).",
    examples: ["1m", "10s"],
  })),
  flushInterval: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "1s",
    description:
      'Writes are grouped into one transaction committed at least this often; a crash loses at most this window, a stop loses nothing. "0s" commits every write before it is acknowledged.',
    examples: ["1s", "0s", "200ms"],
  })),
}, {
  additionalProperties: false,
  description: "Stores every record in an embedded SQLite history with retention by age and size.",
  examples: [{ path: "data/history.db", maxAge: "30d", maxSize: "512MB" }],
});

/** The `sqlite` sink's config. */
export type SqliteConfig = Static<typeof SqliteSpec>;

/** The running sqlite sink; `store` is set between `open()` and `close()`. */
export interface SqliteSink extends Sink {
  readonly path: string;
  readonly store: HistoryStore | undefined;
  /** Reads history through the sink's own connection. */
  query(q?: HistoryQuery): DataRecord[];
  /** Runs retention now; returns the rows deleted. */
  retain(): number;
  stats(): HistoryStats;
}

/** Creates a sqlite sink. */
export function createSqliteSink(
  config: SqliteConfig,
  ctx: Pick<SinkContext, "name" | "clock"> & Partial<Pick<SinkContext, "log">>,
): SqliteSink {
  const path = config.path ?? "data/history.db";
  const options = {
    path,
    maxAgeMs: parseDuration(config.maxAge ?? "30d"),
    maxBytes: parseSize(config.maxSize ?? "1GB"),
    retentionIntervalMs: parseDuration(config.retentionInterval ?? "1m"),
    flushIntervalMs: parseDuration(config.flushInterval ?? "1s"),
    clock: ctx.clock,
    onRetentionError: (e: Error) =>
      ctx.log?.warn(`History retention failed on sink "${ctx.name}"`, { error: e.message }),
    onCheckpointError: (message: string) =>
      ctx.log?.warn(`History checkpoint failed on sink "${ctx.name}"`, { error: message }),
  };
  let store: HistoryStore | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const written = { rows: 0, bytes: 0, written: 0, deleted: 0 };
  const opened = (): HistoryStore => {
    if (store) return store;
    store = new HistoryStore(options);
    if (options.flushIntervalMs > 0) {
      // Commits a group that no later write() would commit (the flow went quiet).
      const t = setInterval(() => {
        if (!store?.pending) return;
        try {
          store.commit();
        } catch (e) {
          ctx.log?.error(`History commit failed on sink "${ctx.name}"`, {
            error: (e as Error).message,
          });
        }
      }, options.flushIntervalMs);
      Deno.unrefTimer(t);
      timer = t;
    }
    return store;
  };
  return {
    path,
    get store() {
      return store;
    },
    open() {
      try {
        opened();
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    write(b: Batch) {
      try {
        opened().write(b);
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    flush() {
      try {
        store?.checkpoint();
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e);
      }
    },
    async close() {
      clearInterval(timer);
      timer = undefined;
      const s = store;
      store = undefined;
      if (!s) return;
      try {
        s.commit();
      } finally {
        Object.assign(written, s.stats());
        await s.close();
      }
    },
    query: (q) => queryHistory(opened().db, q),
    retain: () => opened().retain(),
    stats: () => store ? store.stats() : { ...written },
  };
}

/** The `sqlite` sink. */
export const sqliteSink: SinkModule<SqliteConfig> = {
  name: "sqlite",
  description: "Embedded history in SQLite, with retention by age and size.",
  status: "stable",
  spec: SqliteSpec,
  create: (config, ctx) => createSqliteSink(config, ctx),
};
