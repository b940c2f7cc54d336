/** @module Golden case: a user function that averages each tag with its previous value. */
import type { Context, DataRecord } from "bifrost/functions";

export default function (
  records: DataRecord[],
  ctx: Context<Record<string, number>>,
): DataRecord[] {
  return records.map((r) => {
    if (typeof r.value !== "number") return r;
    const prev = ctx.state[r.tag] ?? r.value;
    ctx.state[r.tag] = r.value;
    return { ...r, value: (prev + r.value) / 2 };
  });
}
