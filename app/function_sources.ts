/**
 * @module
 * What a function step runs is its file and the modules it imports, not only its YAML: a
 * new revision that edits `functions/smooth.ts` and leaves the step's fields alone must
 * restart that step. {@linkcode markFunctionSources} records a fingerprint of each function
 * step's and trigger's code (its module and relative imports, as the loader reads them) in
 * `StepConfig.source` and `TriggerConfig.source`; the reload diff compares it with the
 * running step's (`engine/runtime/reload.ts`), the trigger set with the running trigger's
 * (`app/http/trigger_set.ts`).
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
  const triggers = [...flows.triggers?.values() ?? []];
  if (steps.length + triggers.length === 0) return;
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
  const print = async (file: string) => {
    const h = createHash("sha256");
    try {
      h.update(JSON.stringify(await loadFunctionSource(file, root)));
    } catch (e) {
      h.update(`unreadable:${e instanceof Error ? e.message : String(e)}`);
    }
    return h.digest("hex").slice(0, 16);
  };
  await Promise.all([
    ...steps.map(async (s) => {
      s.source = await print(flowPath(flows.dir, String(s.config.file)));
    }),
    ...triggers.map(async (t) => {
      t.source = await print(t.file);
    }),
  ]);
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
