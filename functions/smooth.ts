/**
 * @module
 * The demo's edge function: an exponential moving average per device and tag.
 *
 * `ema = previous + alpha * (value - previous)`, starting at the first value. Numeric
 * records of good quality are smoothed; others pass unchanged and do not disturb the
 * average. The averages live in `ctx.state`, so they carry over from batch to batch (and
 * start again if the worker is restarted).
 *
 * Parameters (`with:`): `alpha` (0 < alpha <= 1, default 0.3): the weight of the newest value.
 */

import type { Context, DataRecord } from "bifrost/functions";

/** What the function keeps between batches. */
interface State {
  ema: Record<string, number>;
  [k: string]: unknown;
}

/** The step's parameters. */
interface Params {
  alpha?: number;
  [k: string]: unknown;
}

export default function smooth(records: DataRecord[], ctx: Context<State, Params>): DataRecord[] {
  const alpha = ctx.params.alpha ?? 0.3;
  if (!(alpha > 0 && alpha <= 1)) {
    throw new RangeError(`Cannot smooth with alpha ${alpha}: it must be in (0, 1]`);
  }
  const ema = (ctx.state.ema ??= {});
  for (const r of records) {
    if (typeof r.value !== "number" || r.quality !== "good" || !Number.isFinite(r.value)) continue;
    const key = `${r.device}/${r.tag}`;
    const prev = ema[key];
    const next = prev === undefined ? r.value : prev + alpha * (r.value - prev);
    ema[key] = next;
    r.value = next;
  }
  return records;
}
