/**
 * @module Test fixture: misbehaves on demand, by the value of the first record: "throw",
 * "loop", "reject" (an unhandled rejection), "exit" (Deno.exit), "read" (reads the file
 * named by the second record), "async", "void" (returns nothing); otherwise counts calls in state.
 */
import type { Context, DataRecord } from "bifrost/functions";

export default async function (
  records: DataRecord[],
  ctx: Context<{ calls: number }>,
): Promise<DataRecord[] | void> {
  ctx.state.calls = (ctx.state.calls ?? 0) + 1;
  const cmd = records[0]?.value;
  if (cmd === "throw") throw new Error("sensor table is empty");
  if (cmd === "loop") { for (;;) { /* never returns */ } }
  if (cmd === "reject") void Promise.reject(new Error("forgotten promise"));
  if (cmd === "exit") Deno.exit(1);
  if (cmd === "read") {
    const text = await Deno.readTextFile(String(records[1]?.value));
    return [{ ...records[0]!, value: text.trim() }];
  }
  if (cmd === "async") await Promise.resolve();
  if (cmd === "void") return;
  return records.map((r) => ({ ...r, value: ctx.state.calls! }));
}
