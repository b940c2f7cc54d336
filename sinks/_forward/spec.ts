/**
 * @module
 * The delivery fields every forwarding sink (http, influxdb, postgres) shares: batch size,
 * retry backoff, circuit breaker, replay rate, shutdown deadline, dead-letter bound and the
 * durable `queue:` block. Spread {@linkcode forwardFields} into a sink's `Type.Object`.
 */

import { type Static, Type } from "@sinclair/typebox";
import { DURATION_PATTERN, parseDuration } from "../../engine/plugin.ts";
import { QueueSpec } from "../_queue/spec.ts";

/** Dead letters kept by default. */
export const DEAD_LETTER_MAX = 100_000;

/** Defaults of the shared delivery fields (batchSize is per sink). */
export const FORWARD_DEFAULTS = {
  retryMin: "500ms",
  retryMax: "30s",
  breakerThreshold: 5,
  breakerCoolDown: "30s",
  replayRate: 0,
  closeTimeout: "2s",
  deadLetterMax: DEAD_LETTER_MAX,
} as const;

const Duration = (def: string, description: string, examples: string[]) =>
  Type.Optional(Type.String({ pattern: DURATION_PATTERN, default: def, description, examples }));

/**
 * The shared fields, with the sink's own default and description for `batchSize`.
 *
 * @example
 * ```ts
 * const HttpSpec = Type.Object({ url: Type.String(), ...forwardFields(500, "Records per POST at most.") });
 * ```
 */
export function forwardFields(batchSize: number, batchDescription: string) {
  return {
    batchSize: Type.Optional(Type.Integer({
      minimum: 1,
      default: batchSize,
      description: batchDescription,
      examples: [batchSize],
    })),
    retryMin: Duration(
      FORWARD_DEFAULTS.retryMin,
      "First retry delay after a failed delivery; it doubles up to `retryMax`, with random jitter.",
      ["500ms", "1s"],
    ),
    retryMax: Duration(FORWARD_DEFAULTS.retryMax, "Longest retry delay.", ["30s", "2m"]),
    breakerThreshold: Type.Optional(Type.Integer({
      minimum: 1,
      default: FORWARD_DEFAULTS.breakerThreshold,
      description:
        "Failed deliveries in a row after which the circuit breaker opens: no request for `breakerCoolDown`, then one probe.",
      examples: [5],
    })),
    breakerCoolDown: Duration(
      FORWARD_DEFAULTS.breakerCoolDown,
      "How long the open circuit breaker pauses deliveries before a probe.",
      ["30s", "1m"],
    ),
    replayRate: Type.Optional(Type.Integer({
      minimum: 0,
      default: FORWARD_DEFAULTS.replayRate,
      description:
        "Records per second at most when replaying the backlog after an outage or a restart (0: no limit).",
      examples: [0, 5000],
    })),
    closeTimeout: Duration(
      FORWARD_DEFAULTS.closeTimeout,
      "At shutdown, how long to keep delivering the queue; what is left stays on disk for the next start.",
      ["2s"],
    ),
    deadLetterMax: Type.Optional(Type.Integer({
      minimum: 1,
      default: FORWARD_DEFAULTS.deadLetterMax,
      description:
        "Refused records kept in the dead-letter table (`<queue dir>/<sink>.dead.db`) at most; the oldest are deleted beyond.",
      examples: [100_000],
    })),
    queue: Type.Optional(QueueSpec),
  };
}

const Shared = Type.Object(forwardFields(1, ""));
/** The shared delivery fields' config. */
export type ForwardConfig = Static<typeof Shared>;

/** The shared fields resolved to numbers. */
export interface ForwardSettings {
  batchSize: number;
  retryMinMs: number;
  retryMaxMs: number;
  breakerThreshold: number;
  breakerCoolDownMs: number;
  replayRate: number;
  closeTimeoutMs: number;
  deadLetterMax: number;
}

/** Applies the defaults to the shared fields. */
export function forwardSettings(c: ForwardConfig, batchSize: number): ForwardSettings {
  return {
    batchSize: c.batchSize ?? batchSize,
    retryMinMs: parseDuration(c.retryMin ?? FORWARD_DEFAULTS.retryMin),
    retryMaxMs: parseDuration(c.retryMax ?? FORWARD_DEFAULTS.retryMax),
    breakerThreshold: c.breakerThreshold ?? FORWARD_DEFAULTS.breakerThreshold,
    breakerCoolDownMs: parseDuration(c.breakerCoolDown ?? FORWARD_DEFAULTS.breakerCoolDown),
    replayRate: c.replayRate ?? FORWARD_DEFAULTS.replayRate,
    closeTimeoutMs: parseDuration(c.closeTimeout ?? FORWARD_DEFAULTS.closeTimeout),
    deadLetterMax: c.deadLetterMax ?? FORWARD_DEFAULTS.deadLetterMax,
  };
}
