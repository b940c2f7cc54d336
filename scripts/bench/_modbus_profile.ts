/**
 * @module
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`): self time by function and by
 * source file, the biggest first, so the benchmark can say where a process spends its CPU.
 *
 * ```sh
 * deno run -A scripts/bench/_modbus_profile.ts PROFILE.cpuprofile [TOP]
 * ```
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One row of a summary: a name and its share of the sampled time. */
export interface ProfileRow {
  name: string;
  ms: number;
  share: number;
}

/** A stretch of a profile: `lengthMs` ending `tailMs` before the profile's end. */
export interface ProfileSpan {
  tailMs: number;
  lengthMs: number;
}

/**
 * Self time of a profile by function and by file (root-relative paths), over the whole
 * profile or over `span` only.
 */
export function summariseProfile(
  profile: CpuProfile,
  root: string,
  span?: ProfileSpan,
): { totalMs: number; byFunction: ProfileRow[]; byFile: ProfileRow[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const to = span ? profile.endTime - span.tailMs * 1000 : Infinity;
  const from = span ? to - span.lengthMs * 1000 : -Infinity;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const url = cf.url.replace(/^file:\/\//, "").replace(root, "").replace(
      /^.*node_modules\/\.deno\//,
      "npm:",
    );
    const where = url === "" ? "(native)" : url;
    const name = `${cf.functionName || "(anonymous)"} ${where}${
      url ? `:${cf.lineNumber + 1}` : ""
    }`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(where, (file.get(where) ?? 0) + us);
    total += us;
  }
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, ms: us / 1000, share: us / total }))
      .sort((a, b) => b.ms - a.ms);
  return { totalMs: total / 1000, byFunction: rows(fn), byFile: rows(file) };
}

/** Prints the top rows of a summary. */
export function printProfile(path: string, root: string, top = 25, span?: ProfileSpan): void {
  const s = summariseProfile(JSON.parse(Deno.readTextFileSync(path)) as CpuProfile, root, span);
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const where = span ? ` (${(span.lengthMs / 1000).toFixed(0)} s of the measured window)` : "";
  console.log(`   profile ${path}${where}: ${s.totalMs.toFixed(0)} ms sampled`);
  console.log("   self time by file:");
  for (const r of s.byFile.slice(0, 15)) console.log(`     ${pct(r.share)}  ${r.name}`);
  console.log("   self time by function:");
  for (const r of s.byFunction.slice(0, top)) console.log(`     ${pct(r.share)}  ${r.name}`);
}

if (import.meta.main) {
  const root = new URL("../../", import.meta.url).pathname;
  printProfile(Deno.args[0]!, root, Number(Deno.args[1] ?? 25));
}
