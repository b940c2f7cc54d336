/**
 * @module
 * Loads a flow directory for a command and prints every problem the way `check` does.
 */

import { formatIssue, loadFlows } from "../flow/mod.ts";
import type { FlowSet } from "../flow/types.ts";
import { registries } from "../registries.ts";

/** Loaded flows, or undefined after printing the errors. */
export async function loadOrReport(
  dir: string | undefined,
  command: string,
): Promise<{ flows: FlowSet; secrets: string[] } | undefined> {
  if (!dir) {
    console.error(`Missing flow directory: usage: bifrost ${command} <flow-dir>`);
    return undefined;
  }
  const r = await loadFlows(dir, { env: Deno.env.toObject(), sources: registries });
  for (const w of r.warnings) console.error(formatIssue(w));
  for (const e of r.errors) console.error(formatIssue(e));
  if (!r.flows || r.errors.length > 0) {
    console.error(
      `${r.errors.length} error${r.errors.length === 1 ? "" : "s"} in ${dir}: nothing started`,
    );
    return undefined;
  }
  return { flows: r.flows, secrets: r.secrets };
}
