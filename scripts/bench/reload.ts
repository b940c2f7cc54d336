/**
 * @module
 * How fast a hot reload is on large flow sets, side by side in one run (in process, the way
 * `bifrost run` validates a change): validation of a 10,000-tag and a 100,000-tag flow set
 * from cold (empty per-file cache), then a reload of the 100,000-tag set after one file
 * changed (one poll's interval): validation with the warm cache plus `diffFlows`. The flow
 * sets come from `bench:validate`'s generator (100 tags per device, 50 devices per file).
 *
 * ```sh
 * deno task bench:reload
 * ```
 *
 * The first line compiles the flow schema once (every later case reuses it, as a running
 * gateway does). Resident memory is the process's after each case.
 */

import { join } from "node:path";
import { FlowFileCache, loadFlows } from "../../engine/flow/mod.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import { describeDiff, diffFlows } from "../../engine/runtime/reload.ts";
import { registries } from "../../app/registries.ts";
import { writeFlowSet } from "./validate.ts";

const env = {};

async function validate(dir: string, cache: FlowFileCache): Promise<FlowSet> {
  const r = await loadFlows(dir, { env, sources: registries, typeCheck: false, cache });
  if (r.errors.length > 0 || !r.flows) {
    throw new Error(`Invalid bench flows in ${dir}: ${r.errors[0]?.message}`);
  }
  return r.flows;
}

function row(name: string, tags: number, files: number, ms: number, note = ""): void {
  const rss = (Deno.memoryUsage().rss / 2 ** 20).toFixed(0);
  console.log(
    `${name.padEnd(30)} ${String(tags).padStart(7)} ${String(files).padStart(6)} ${
      ms.toFixed(0).padStart(8)
    } ${rss.padStart(7)}  ${note}`,
  );
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

if (import.meta.main) {
  const root = await Deno.makeTempDir({ prefix: "bifrost-bench-reload-" });
  try {
    const small = join(root, "spread-10k");
    const large = join(root, "spread-100k");
    const tiny = join(root, "tiny");
    await writeFlowSet(small, 100, 100, 50);
    await writeFlowSet(large, 1_000, 100, 50);
    await writeFlowSet(tiny, 1, 1);
    console.log("case                              tags  files       ms  RSS MB");
    const [, compileMs] = await timed(() => validate(tiny, new FlowFileCache()));
    row("schema compile + tiny set", 1, 1, compileMs);
    const [, smallMs] = await timed(() => validate(small, new FlowFileCache()));
    row("validate 10k from cold", 10_000, 2, smallMs);
    const cache = new FlowFileCache();
    const [before, largeMs] = await timed(() => validate(large, cache));
    row("validate 100k from cold", 100_000, 20, largeMs);

    // One file changes: the first poll of f0007.yaml polls every 20 s instead of 10 s.
    const file = join(large, "f0007.yaml");
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.replace('tags: "*", every: 10s', 'tags: "*", every: 20s'));
    const parsed = cache.stats.parsed;
    const [after, reloadMs] = await timed(() => validate(large, cache));
    const [diff, diffMs] = await timed(() => Promise.resolve(diffFlows(before, after)));
    row(
      "reload 100k, one file changed",
      100_000,
      cache.stats.parsed - parsed,
      reloadMs + diffMs,
      `validate ${reloadMs.toFixed(0)} ms + diff ${diffMs.toFixed(0)} ms: ${describeDiff(diff)}`,
    );
    const [, sameMs] = await timed(() => validate(large, cache));
    row("revalidate 100k, no change", 100_000, 0, sameMs);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
