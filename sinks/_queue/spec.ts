/**
 * @module
 * The `queue:` block that every network sink embeds, and how it becomes an open
 * {@linkcode DurableQueue}: one file per sink, `<dir>/<sink name>.db`.
 */

import { join } from "node:path";
import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN } from "../../engine/plugin.ts";
import { SIZE_PATTERN } from "../sqlite/size.ts";

/** Defaults of the `queue:` block. */
export const QUEUE_DEFAULTS = {
  maxRecords: 10_000_000,
  maxAge: "7d",
  maxSize: "1GB",
} as const;

/** The `queue:` block of a network sink. */
export const QueueSpec = Type.Object({
  dir: Type.Optional(Type.String({
    minLength: 1,
    // No schema `default`: the runtime default follows the gateway's data directory.
    description:
      "Directory of the queue files (one per sink, `<dir>/<sink>.db`), relative to the working directory. Default: `queue/` under the gateway's data directory (`data/queue`).",
    examples: ["data/queue", "/var/lib/bifrost/queue"],
  })),
  maxRecords: Type.Optional(Type.Integer({
    minimum: 1,
    default: QUEUE_DEFAULTS.maxRecords,
    description:
      "Records held at most while the destination is unreachable; the oldest are dropped beyond (counted and logged).",
    examples: [1_000_000, 10_000_000],
  })),
  maxAge: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: QUEUE_DEFAULTS.maxAge,
    description: "Records waiting longer than this are dropped (counted and logged).",
    examples: ["7d", "12h"],
  })),
  maxSize: Type.Optional(Type.String({
    pattern: SIZE_PATTERN,
    default: QUEUE_DEFAULTS.maxSize,
    description:
      "Bytes of queued records held at most (KB/MB/GB are powers of 1024); the oldest are dropped beyond.",
    examples: ["256MB", "1GB"],
  })),
}, {
  additionalProperties: false,
  description:
    "The durable store-and-forward queue: records are written to disk before `write()` returns and removed only when the destination confirms them.",
  examples: [{ maxAge: "7d", maxSize: "512MB" }],
});

/** The `queue:` block's config. */
export type QueueConfig = Static<typeof QueueSpec>;

/** The file of sink `name`'s queue. */
export function queuePath(config: QueueConfig | undefined, name: string, dataDir = "data"): string {
  return join(config?.dir ?? join(dataDir, "queue"), `${name}.db`);
}
