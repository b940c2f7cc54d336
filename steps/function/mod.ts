/**
 * @module
 * The `function` step: runs a user edge function, a TypeScript file loaded from the flow
 * directory at run time, in its own worker.
 *
 * ## Writing a function
 *
 * A function file exports a default function that takes the records of one batch and a
 * context, and returns the records to pass on (or nothing, to pass the input on as is):
 *
 * ```ts
 * import type { Context, DataRecord } from "../engine/functions/api.ts";
 *
 * export default function (records: DataRecord[], ctx: Context<{ n: number }, { gain: number }>) {
 *   ctx.state.n = (ctx.state.n ?? 0) + records.length;
 *   return records.map((r) =>
 *     typeof r.value === "number" ? { ...r, value: r.value * ctx.params.gain } : r
 *   );
 * }
 * ```
 *
 * - `ctx.state`: a plain object kept between calls, per step. It lives in the worker and
 *   is lost when the worker is restarted (after a time-out or a crash).
 * - `ctx.params`: the step's `with:` object.
 * - `ctx.log.debug/info/warn/error(msg, fields?)`: lines in the gateway's log, tagged with
 *   the step name; rate-limited (a burst of 20, then 2 a second).
 * - `ctx.now()`: the gateway clock when the batch was handed over (ms since epoch).
 * - The function may be `async`. Batches of one step run one at a time, in order.
 *
 * ## Failures
 *
 * - A throw (or a malformed returned record) marks that batch's records bad with reason
 *   `function "<step>" failed: <message>`; the next batch runs normally, state kept.
 * - A batch that runs longer than `timeout` (default 1 s) is marked bad with reason
 *   `function "<step>" timed out after <n> ms`; the worker is terminated and a new one
 *   started for the next batch (state is lost, and the log says so). A crash (an unhandled
 *   rejection, a throw in a timer) is handled the same way. Restarts back off after
 *   repeated failures (up to 30 s) so that a broken module does not spin.
 *
 * ## Permissions
 *
 * None by default: no network, no files, no environment, no subprocesses. Grant what the
 * function needs under `permissions:` (`net: ["host:port"]`, `read: [paths relative to the
 * flow directory]`, `env: [NAMES]`). A denied call throws `NotCapable`. The function's
 * own directory is readable only while the module loads (so that it may import helper
 * files beside it).
 *
 * @example
 * ```yaml
 * steps:
 *   smoothed:
 *     use: function
 *     from: temp1-f
 *     file: functions/smooth.ts
 *     timeout: 500ms
 *     with: { alpha: 0.2 }
 * ```
 */

import {
  type Batch,
  FunctionHost,
  parseDuration,
  type Step,
  type StepContext,
  type StepModule,
} from "../../engine/plugin.ts";
import { type FunctionConfig, FunctionSpec } from "./spec.ts";
import { flowPath, validateFunction } from "./validate.ts";

export { type FunctionConfig, FunctionSpec } from "./spec.ts";

/** Creates a function step; the module is loaded by `start()`. */
export function createFunction(config: FunctionConfig, ctx: StepContext): Step {
  const p = config.permissions ?? {};
  const host = new FunctionHost({
    step: ctx.name,
    path: flowPath(ctx.flowDir, config.file),
    params: config.with ?? {},
    permissions: {
      net: p.net ?? [],
      env: p.env ?? [],
      read: (p.read ?? []).map((r) => flowPath(ctx.flowDir, r)),
    },
    timeoutMs: parseDuration(config.timeout ?? "1s"),
    log: ctx.log,
    clock: ctx.clock,
    countError: (reason) => ctx.countError(reason),
  });
  return {
    start: () => host.start(),
    process: (batch: Batch) => host.process(batch),
    close: () => host.close(),
  };
}

/** The step registry entry. */
export const functionStep: StepModule<FunctionConfig> = {
  name: "function",
  description: "Runs a user edge function (TypeScript, from the flow directory) in a worker.",
  status: "beta",
  spec: FunctionSpec,
  create: createFunction,
  validate: validateFunction,
};
