/**
 * @module
 * `bifrost check <dir>`: validates every flow file and lists every problem at once, one
 * `file:line:column severity: message` line each; exit code 1 when there is an error. This is
 * what a git repository of flows runs in its CI. `bifrost plan <dir>` prints the requests
 * each poll makes.
 */

import { parseArgs } from "node:util";
import { formatIssue, loadFlows } from "../flow/mod.ts";
import { flowSetToJson } from "../flow/serialize.ts";
import { registries } from "../registries.ts";
import { nullLogger } from "../log.ts";
import { systemClock } from "../clock.ts";
import { loadOrReport } from "./_load.ts";

/** Runs `check`; returns the exit code. */
export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      // Internal: `bifrost run` validates in a child process and reads the result.
      "emit-flowset": { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const dir = positionals[0];
  if (!dir) {
    console.error("Missing flow directory: usage: bifrost check <flow-dir> [--json]");
    return 2;
  }
  if (values["emit-flowset"]) {
    // For `run`: a function must exist and load; type errors are `check`'s business.
    const loaded = await loadOrReport(dir, "run", { typeCheck: false });
    if (!loaded) return 1;
    console.log(JSON.stringify({ flows: flowSetToJson(loaded.flows), secrets: loaded.secrets }));
    return 0;
  }
  const r = await loadFlows(dir, { env: Deno.env.toObject(), sources: registries });
  if (values.json) {
    console.log(JSON.stringify({ errors: r.errors, warnings: r.warnings }, null, 2));
  } else {
    for (const i of [...r.errors, ...r.warnings]) console.log(formatIssue(i));
    const files = r.flows?.files.length;
    console.log(
      r.errors.length === 0
        ? `ok: ${files} flow file${files === 1 ? "" : "s"}, ${r.warnings.length} warning(s)`
        : `${r.errors.length} error(s), ${r.warnings.length} warning(s)`,
    );
  }
  return r.errors.length === 0 ? 0 : 1;
}

/** Runs `plan`; returns the exit code. */
export async function planCommand(args: string[]): Promise<number> {
  const loaded = await loadOrReport(args[0], "plan");
  if (!loaded) return 1;
  const { flows } = loaded;
  for (const p of flows.polls.values()) {
    const d = flows.devices.get(p.device)!;
    const m = registries.drivers.find((x) => x.name === d.driver)!;
    const driver = m.create(d, { log: nullLogger, clock: systemClock });
    const tags = p.tags === "*" ? [...d.tags.values()] : p.tags.map((t) => d.tags.get(t)!);
    const plan = driver.plan(tags);
    const when = p.subscribe ? "subscribed" : p.cron ? `cron "${p.cron}"` : `every ${p.everyMs} ms`;
    const lines = plan.describe();
    console.log(`${p.name} (${p.device}, ${when}): ${lines.length} request(s)`);
    for (const l of lines) console.log(`  ${l}`);
  }
  return 0;
}
