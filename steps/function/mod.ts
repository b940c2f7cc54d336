/**
 * @module
 * The `function` step: runs a user edge function, a TypeScript file loaded from the flow
 * directory at run time, in its own process (see `engine/functions/host.ts`).
 *
 * ## Writing a function
 *
 * A function file exports a default function that takes the records of one batch and a
 * context, and returns the records to pass on (or nothing, to pass the input on as is):
 *
 * ```ts
 * import type { Context, DataRecord } from "bifrost/functions";
 *
 * export default function (records: DataRecord[], ctx: Context<{ n: number }, { gain: number }>) {
 *   ctx.state.n = (ctx.state.n ?? 0) + records.length;
 *   return records.map((r) =>
 *     typeof r.value === "number" ? { ...r, value: r.value * ctx.params.gain } : r
 *   );
 * }
 * ```
 *
 * - `ctx.state`: a plain object kept between calls, per step. It lives in the function's
 *   process and is lost when the process is restarted (after a time-out, a crash or going
 *   over the memory limit).
 * - `ctx.params`: the step's `with:` object.
 * - `ctx.log.debug/info/warn/error(msg, fields?)` (and `console.*`): lines in the gateway's
 *   log, tagged with the step name; rate-limited (a burst of 20, then 2 a second).
 * - `ctx.now()`: the gateway clock when the batch was handed over (ms since epoch).
 * - The function may be `async`. Batches of one step run one at a time, in order.
 *
 * ## Failures
 *
 * - A throw (or a malformed returned record) marks that batch's records bad with reason
 *   `function "<step>" failed: <message>`; the next batch runs normally, state kept.
 * - A batch that runs longer than `timeout` (default 1 s) is marked bad with reason
 *   `function "<step>" timed out after <n> ms`; the process is killed and a new one
 *   started for the next batch (state is lost, and the log says so). A crash (an unhandled
 *   rejection, a throw in a timer) is handled the same way. Restarts back off after
 *   repeated failures (up to 30 s) so that a broken module does not spin.
 * - Memory: the function's heap is limited to `memory` (default 128MB); past it the batch
 *   is bad with reason `function "<step>" exceeded its memory limit of <n> MB` and the
 *   process is replaced.
 * - Output: more than `maxOutput` records for one batch (default 10 per input record plus
 *   1000) mark the batch bad. A number returned as NaN or ±Infinity makes its record bad
 *   (`function "<step>" returned a non-finite number (NaN) for "<device>/<tag>"`).
 * - Nothing the function starts outlives its batch: `new Worker` is refused, and a process
 *   that keeps using CPU between batches (a `node:worker_threads` worker, a busy timer)
 *   is killed once it has used a time limit's worth.
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
 *     memory: 64MB
 *     with: { alpha: 0.2 }
 * ```
 */

import {
  type Batch,
  createFunctionHost,
  type FunctionHost,
  parseDuration,
  resolvePermissions,
  type Step,
  type StepContext,
  type StepModule,
} from "../../engine/plugin.ts";
import { type FunctionConfig, FunctionSpec, parseMemory } from "./spec.ts";
import { flowPath, flowRepository, validateFunction } from "./validate.ts";

export { type FunctionConfig, FunctionSpec, parseMemory } from "./spec.ts";

/** Creates a function step; the module is loaded by `start()`. */
export function createFunction(config: FunctionConfig, ctx: StepContext): Step {
  const options = {
    step: ctx.name,
    path: flowPath(ctx.flowDir, config.file),
    params: config.with ?? {},
    permissions: resolvePermissions(config.permissions, ctx.flowDir),
    timeoutMs: parseDuration(config.timeout ?? "1s"),
    memoryMb: parseMemory(config.memory ?? "128MB"),
    ...(config.maxOutput !== undefined ? { maxOutput: config.maxOutput } : {}),
    log: ctx.log,
    clock: ctx.clock,
    countError: (reason: string) => ctx.countError(reason),
  };
  let host: FunctionHost | undefined;
  let making: Promise<FunctionHost> | undefined;
  // Imports are read from the flow repository only (see validate.ts). One host, however many
  // callers ask before the repository is found.
  const made = () =>
    making ??= flowRepository(ctx.flowDir).then(async (repo) =>
      host = await createFunctionHost({ ...options, root: repo.root })
    );
  return {
    start: async () => await (await made()).start(),
    process: (batch: Batch) => host ? host.process(batch) : made().then((h) => h.process(batch)),
    close: () => host?.close() ?? Promise.resolve(),
    stats: () => host?.stats() ?? { restarts: 0 },
  };
}

/** The step registry entry. */
export const functionStep: StepModule<FunctionConfig> = {
  name: "function",
  description: "Runs a user edge function (TypeScript, from the flow directory) in a process.",
  status: "beta",
  spec: FunctionSpec,
  create: createFunction,
  validate: validateFunction,
};
