/**
 * @module
 * The API of user edge functions: what a file under `functions/` exports and what it is
 * given. A function receives the records of one batch as plain objects and returns the
 * records to pass on (or nothing, to pass the input on unchanged). It runs in its own
 * process with no permissions unless the step grants some, within a time and a memory
 * limit.
 *
 * @example
 * ```ts
 * import type { Context, DataRecord } from "bifrost/functions";
 *
 * export default function (records: DataRecord[], ctx: Context<{ total: number }>) {
 *   ctx.state.total ??= 0;
 *   for (const r of records) if (typeof r.value === "number") ctx.state.total += r.value;
 *   ctx.log.debug("batch", { n: records.length });
 * }
 * ```
 */

import type { DataRecord, QualityName, Value } from "../record.ts";

export type { DataRecord, QualityName, Value };

/** Log fields a function may attach to a line. */
export type FunctionLogFields = Record<string, unknown>;

/**
 * The logger a function gets. Lines go to the gateway's log, tagged with the step name.
 * They are rate-limited: a burst of 20, then 2 lines a second; the next line that passes
 * says how many were dropped.
 */
export interface FunctionLogger {
  debug(msg: string, fields?: FunctionLogFields): void;
  info(msg: string, fields?: FunctionLogFields): void;
  warn(msg: string, fields?: FunctionLogFields): void;
  error(msg: string, fields?: FunctionLogFields): void;
}

/** What a function is given beside the records. */
export interface Context<
  S extends Record<string, unknown> = Record<string, unknown>,
  P extends Record<string, unknown> = Record<string, unknown>,
> {
  /**
   * A plain object kept between calls of this step's function. It lives in the function's
   * process: it is lost when the process is restarted (after a time-out, a crash or going
   * over the memory limit).
   */
  state: Partial<S> & Record<string, unknown>;
  /** The step's `with:` object from the flow. */
  params: Readonly<P>;
  /** The step's name in the flow. */
  step: string;
  log: FunctionLogger;
  /** The gateway clock (ms since epoch) when the batch was handed to the function. */
  now(): number;
}

/** What a function returns: the records to pass on, or nothing to pass the input on. */
export type FunctionResult = DataRecord[] | void;

/** The default export of a function file. */
export type UserFunction = (
  records: DataRecord[],
  // deno-lint-ignore no-explicit-any
  ctx: Context<any, any>,
) => FunctionResult | Promise<FunctionResult>;

/** The request a trigger's function is given (`export default function (req, ctx)`). */
export interface TriggerRequest<B = unknown> {
  /** Upper-case HTTP method; `CRON` when a `cron:` trigger's schedule runs the function. */
  method: string;
  /** The request's path ("" on a schedule). */
  path: string;
  /** Path parameters (`:name` segments of the trigger's path). */
  params: Record<string, string>;
  /** Query parameters (the first value of each). */
  query: Record<string, string>;
  /** Request headers, lower-case names (without `authorization` and `cookie`). */
  headers: Record<string, string>;
  /** The parsed JSON body (validated against the trigger's `body:` schema), or undefined. */
  body: B;
}

/** A record a trigger's function emits: quality defaults to good, source time to now. */
export interface EmittedRecord {
  device: string;
  tag: string;
  value: Value;
  quality?: QualityName;
  reason?: string;
  /** ms since epoch. */
  sourceTs?: number;
}

/** What a trigger's function is given beside the request. */
export interface TriggerContext<
  S extends Record<string, unknown> = Record<string, unknown>,
  P extends Record<string, unknown> = Record<string, unknown>,
> extends Context<S, P> {
  /**
   * Sends records into the flow graph under the trigger's name (`from: <trigger>`), with
   * sequence numbers and timestamps like polled records. They go in when the function
   * answers; a function that throws emits nothing.
   */
  emit(records: EmittedRecord | EmittedRecord[]): void;
  /** Reads a device tag now (its engineering value); rejects with the device's error. */
  read(device: string, tag: string): Promise<Value>;
  /**
   * Writes a device tag, as the API does: the tag must be `writable`, the value of its kind
   * and within its range; audited as `trigger:<name>`. Rejects with the reason.
   */
  write(device: string, tag: string, value: Value): Promise<void>;
}

/**
 * What a trigger's function returns: `{ status?, headers?, body }`, or any other value,
 * which becomes the body of a 200 JSON response.
 */
export interface TriggerResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}
