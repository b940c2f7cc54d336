/**
 * @module
 * The sinks a {@linkcode DeviceRuntime} reads into: {@linkcode CountingSink} counts, for one
 * read, the failures a connection's health depends on (timeouts, malformed answers, a lost
 * connection), and helpers hand whole-read failures and array results to a sink.
 */

import type { ReadPlan, ReadSink, TagResult } from "../driver.ts";
import type { BifrostError } from "../errors.ts";
import type { Value } from "../record.ts";

/** Fails every tag of `plan` with `error`. */
export function failAll(plan: ReadPlan, sink: ReadSink, error: BifrostError): void {
  for (let i = 0; i < plan.tags.length; i++) sink.fail(i, error);
}

/**
 * A {@linkcode ReadSink} that counts, for one read, the failures a connection's health
 * depends on (timeouts, a lost connection). A sink given to `DeviceRuntime.readInto` that
 * extends it is handed to the driver as it is; any other is wrapped in a forwarding one.
 * Serves one read: the counts start at zero.
 */
export abstract class CountingSink implements ReadSink {
  timeouts = 0;
  /** Failures because what arrived was malformed (`PROTOCOL_ERROR` with `details.malformed`). */
  malformed = 0;
  /** The message of the last of those timeouts or malformed answers. */
  unanswered: string | undefined;
  /** The message of a NOT_CONNECTED failure, if any. */
  lost: string | undefined;

  abstract value(index: number, value: Value, sourceTs: number, uncertain?: string): void;

  /** Tag `index` failed (after counting). */
  protected abstract failed(index: number, error: BifrostError): void;

  fail(index: number, error: BifrostError): void {
    if (error.code === "TIMEOUT") {
      this.timeouts++;
      this.unanswered = error.message;
    } else if (error.code === "NOT_CONNECTED") this.lost ??= error.message;
    else if (error.code === "PROTOCOL_ERROR" && error.details.malformed === true) {
      this.malformed++;
      this.unanswered = error.message;
    }
    this.failed(index, error);
  }
}

/** Passes outcomes on to another sink, counting. */
export class Tally extends CountingSink {
  constructor(readonly sink: ReadSink) {
    super();
  }

  value(index: number, value: Value, sourceTs: number, uncertain?: string): void {
    this.sink.value(index, value, sourceTs, uncertain);
  }

  protected failed(index: number, error: BifrostError): void {
    this.sink.fail(index, error);
  }
}

/** The results of a driver without `readInto`, into `sink`. */
export function deliver(results: readonly TagResult[], sink: ReadSink, now: number): void {
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.ok) sink.value(i, r.value, r.sourceTs ?? now, r.uncertain);
    else sink.fail(i, r.error);
  }
}
