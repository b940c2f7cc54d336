/** @module Test fixture: counts calls in state, adds `params.offset`, logs each call. */
import type { Context, DataRecord } from "bifrost/functions";

export default function (
  records: DataRecord[],
  ctx: Context<{ calls: number }, { offset: number }>,
): DataRecord[] {
  ctx.state.calls = (ctx.state.calls ?? 0) + 1;
  ctx.log.info("called", { calls: ctx.state.calls });
  return records.map((r) => ({
    ...r,
    value: typeof r.value === "number" ? r.value + ctx.params.offset : r.value,
    seq: ctx.state.calls!,
    sourceTs: ctx.now(),
  }));
}
