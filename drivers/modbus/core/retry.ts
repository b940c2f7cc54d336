/**
 * @module
 * Retries of a read request, as Kepware ("attempts before timeout") and Telegraf
 * (`busy_retries`) offer them: a request that timed out is sent again up to `retries` times
 * at once; one answered with "Acknowledge" (5) or "Server device busy" (6) is sent again up to
 * `busyRetries` times after `busyRetryWait`. Only reads are retried: a write that timed out
 * may have been applied, and read-modify-write bit writes must not run twice.
 */

import { Type } from "@sinclair/typebox";
import { type Clock, DURATION_PATTERN, isBifrostError } from "../../../engine/plugin.ts";

/** The retry fields of a Modbus device (all three drivers). */
export const RetryFields = {
  retries: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 10,
    default: 1,
    description:
      "Times a read request that timed out is sent again at once before its tags turn bad. Writes are never retried.",
    examples: [1, 0, 3],
  })),
  busyRetries: Type.Optional(Type.Integer({
    minimum: 0,
    maximum: 20,
    default: 0,
    description:
      "Times a read answered with Modbus exception 5 (Acknowledge) or 6 (Server device busy) is sent again after `busyRetryWait`.",
    examples: [0, 3],
  })),
  busyRetryWait: Type.Optional(Type.String({
    pattern: DURATION_PATTERN,
    default: "100ms",
    description: "Wait before a busy retry.",
    examples: ["100ms", "1s"],
  })),
};

/** Resolved retry settings. */
export interface RetryOptions {
  retries: number;
  busyRetries: number;
  busyRetryWaitMs: number;
}

/** Runs `attempt`, retrying timeouts, malformed answers and busy answers as configured. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  o: RetryOptions,
  clock: Clock,
  signal: AbortSignal,
): Promise<T> {
  let timeouts = 0;
  let busy = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (signal.aborted) throw e;
      // A malformed answer (what arrived instead of the answer: garbled, truncated, another
      // transaction's) is retried like silence: the next attempt usually gets through.
      const unanswered = isBifrostError(e, "TIMEOUT") ||
        (isBifrostError(e, "PROTOCOL_ERROR") && e.details.malformed === true);
      if (unanswered && timeouts < o.retries) {
        timeouts++;
        continue;
      }
      const code = isBifrostError(e, "DEVICE_EXCEPTION") ? e.details.code : undefined;
      if ((code === 5 || code === 6) && busy < o.busyRetries) {
        busy++;
        await clock.sleep(o.busyRetryWaitMs, signal);
        continue;
      }
      throw e;
    }
  }
}
