/**
 * @module
 * Measures what replacing a function's process costs the gateway over time: a function
 * that times out every other batch (an endless loop, a 500 ms time limit) is replaced again
 * and again, and the gateway's resident memory is printed every `every` replacements. The
 * issue: the worker host leaked about 8 MB a replacement (75 -> 513 MB over 57).
 *
 * ```sh
 * deno run -A scripts/bench/function_restarts.ts [replacements=1000] [every=100]
 * ```
 */

import { systemClock } from "../../engine/clock.ts";
import { FunctionHost } from "../../engine/functions/host.ts";
import { nullLogger } from "../../engine/log.ts";
import { Batch } from "../../engine/record.ts";

const TOTAL = Number(Deno.args[0] ?? 1000);
const EVERY = Number(Deno.args[1] ?? 100);

const dir = await Deno.makeTempDir({ prefix: "bifrost-restarts-" });
await Deno.writeTextFile(
  `${dir}/sometimes.ts`,
  `export default (records: { value: unknown }[], ctx: { state: { big?: number[] } }) => {
  ctx.state.big ??= new Array(1_000_000).fill(1.5); // 8 MB of state that must go with it
  if (records[0]!.value === "loop") for (;;) { /* time out */ }
  return records;
};
`,
);
const batch = (value: string) =>
  Batch.from([{
    device: "d",
    tag: "t",
    value,
    quality: "good",
    sourceTs: 0,
    gatewayTs: 0,
    seq: 0,
  }]);

const host = new FunctionHost({
  step: "restarts",
  path: `${dir}/sometimes.ts`,
  params: {},
  permissions: {},
  timeoutMs: 500,
  log: nullLogger,
  clock: systemClock,
  countError: () => {},
});
const mb = () => (Deno.memoryUsage().rss / 2 ** 20).toFixed(1);
/** Runs a batch until `ok` holds for its result, waiting out restart back-offs (60 s at most). */
async function until(value: string, ok: (reason: string | undefined) => boolean) {
  let last: string | undefined;
  for (const end = performance.now() + 60_000; performance.now() < end;) {
    const r = (await host.process(batch(value))).get(0);
    last = r.quality === "good" ? undefined : r.reason;
    if (ok(last)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no batch "${value}" as expected within 60 s: ${last}`);
}
try {
  await host.start();
  const t0 = performance.now();
  console.log(`replacements  gateway RSS (MB)  s`);
  console.log(`${"0".padStart(12)}  ${mb().padStart(16)}  0`);
  for (let i = 1; i <= TOTAL; i++) {
    await until("loop", (reason) => /timed out/.test(reason ?? ""));
    // The new process: loaded and given its 8 MB of state (a loaded machine may need tries).
    await until("ok", (reason) => reason === undefined);
    if (i % EVERY === 0) {
      const s = ((performance.now() - t0) / 1000).toFixed(0);
      console.log(`${String(i).padStart(12)}  ${mb().padStart(16)}  ${s}`);
    }
  }
} finally {
  await host.close();
  await Deno.remove(dir, { recursive: true });
}
