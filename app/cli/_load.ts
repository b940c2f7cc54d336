/**
 * @module
 * Loads a flow directory for a command and prints every problem the way `check` does.
 *
 * `run` validates in a child process (`bifrost check --emit-flowset`): the YAML parser, the
 * JSON Schema compiler and its generated validators then never enter the long-running
 * gateway, which keeps about 25 MB of resident memory off an edge box for good.
 */

import { flowSetFromJson, type FlowSetJson, flowSetToJson } from "../../engine/flow/serialize.ts";
import type { FlowSet } from "../../engine/flow/types.ts";

/** Loaded flows and the secrets substituted into them. */
export interface Loaded {
  flows: FlowSet;
  secrets: string[];
}

/** Loaded flows, or undefined after printing the errors. */
export async function loadOrReport(
  dir: string | undefined,
  command: string,
  options: { typeCheck?: boolean } = {},
): Promise<Loaded | undefined> {
  if (!dir) {
    console.error(`Missing flow directory: usage: bifrost ${command} <flow-dir>`);
    return undefined;
  }
  const { formatIssue, loadFlows } = await import("../../engine/flow/mod.ts");
  const { registries } = await import("../registries.ts");
  const r = await loadFlows(dir, { env: Deno.env.toObject(), sources: registries, ...options });
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

/** The command line that runs this very program (source or compiled binary). */
export function selfCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  return [Deno.execPath(), "run", "-A", new URL("./main.ts", import.meta.url).pathname];
}

/** Like {@linkcode loadOrReport}, validating in a child process. */
export async function loadIsolated(dir: string | undefined): Promise<Loaded | undefined> {
  if (!dir) {
    console.error("Missing flow directory: usage: bifrost run <flow-dir>");
    return undefined;
  }
  const [cmd, ...args] = selfCommand();
  const out = await new Deno.Command(cmd!, {
    args: [...args, "check", dir, "--emit-flowset"],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).output();
  if (out.code !== 0) return undefined;
  const j = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    flows: FlowSetJson;
    secrets: string[];
  };
  return { flows: flowSetFromJson(j.flows), secrets: j.secrets };
}

/**
 * Whether the flows in `dir` differ from `running` now, asked of a child process so that the
 * gateway does not keep the YAML parser and schema compiler resident just to find out (the
 * check that the directory did not change between the first validation and the start of
 * the watch). An invalid directory counts as a change: the reload then reports it.
 */
export async function flowsChanged(dir: string, running: FlowSet): Promise<boolean> {
  const [cmd, ...args] = selfCommand();
  const out = await new Deno.Command(cmd!, {
    args: [...args, "check", dir, "--emit-flowset"],
    stdout: "piped",
    stderr: "null",
    stdin: "null",
  }).output();
  if (out.code !== 0) return true;
  const j = JSON.parse(new TextDecoder().decode(out.stdout)) as { flows: FlowSetJson };
  return JSON.stringify(j.flows) !== JSON.stringify(flowSetToJson(running));
}
