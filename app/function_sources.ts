/**
 * @module
 * What a function step runs is its file and the modules it imports, not only its YAML: a
 * new revision that edits `functions/smooth.ts` and leaves the step's fields alone must
 * restart that step. {@linkcode markFunctionSources} records a fingerprint of each function
 * step's code (its module and relative imports, as the loader reads them) in
 * `StepConfig.source`; the reload diff compares it with the running step's
 * (`engine/runtime/reload.ts`).
 *
 * Only flow sets with function steps pay for it: the loader (and sucrase) is imported then,
 * which a function step imports anyway when it starts.
 */

import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import type { FlowSet } from "../engine/flow/types.ts";

/**
 * Sets `source` on every `function` step of `flows` (a hash of its code and imports). A
 * file that cannot be read gets a fingerprint of the reason, so that fixing it counts as a
 * change.
 */
export async function markFunctionSources(flows: FlowSet): Promise<void> {
  const steps = [...flows.steps.values()].filter((s) => s.use === "function");
  if (steps.length === 0) return;
  const [{ loadFunctionSource }, { flowPath, flowRepository }] = await Promise.all([
    import("../engine/functions/loader.ts"),
    import("../steps/function/validate.ts"),
  ]);
  let root: string;
  try {
    root = (await flowRepository(flows.dir)).root;
  } catch {
    return;
  }
  await Promise.all(steps.map(async (s) => {
    const h = createHash("sha256");
    try {
      const src = await loadFunctionSource(flowPath(flows.dir, String(s.config.file)), root);
      h.update(JSON.stringify(src));
    } catch (e) {
      h.update(`unreadable:${e instanceof Error ? e.message : String(e)}`);
    }
    s.source = h.digest("hex").slice(0, 16);
  }));
}

/**
 * The function files `flows` runs (absolute paths): every `function` step's `file:` and
 * every trigger's module. The supervisor watches their directories.
 */
export function functionFiles(flows: FlowSet): string[] {
  const files: string[] = [];
  for (const s of flows.steps.values()) {
    if (s.use !== "function" || typeof s.config.file !== "string") continue;
    files.push(isAbsolute(s.config.file) ? s.config.file : resolve(flows.dir, s.config.file));
  }
  for (const t of flows.triggers?.values() ?? []) files.push(t.file);
  return files;
}
