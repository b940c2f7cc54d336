/**
 * @module
 * `bifrost check <dir>`: validates every flow file and lists every problem at once, one
 * `file:line:column severity: message` line each; exit code 1 when there is an error. This is
 * what a git repository of flows runs in its CI. `bifrost plan <dir>` prints the requests
 * each poll makes. `bifrost check --fleet <dir>` checks every site folder under `<dir>` and
 * what would clash between sites on a shared broker (`app/fleet.ts`).
 */

import { formatIssue, loadFlows } from "../../engine/flow/mod.ts";
import { flowSetToJson } from "../../engine/flow/serialize.ts";
import { registries } from "../registries.ts";
import { nullLogger } from "../../engine/log.ts";
import { systemClock } from "../../engine/clock.ts";
import { parseCli, UsageError, withUsage } from "./_args.ts";
import { loadOrReport } from "./_load.ts";
import { typeCheckAvailable } from "../../steps/function/validate.ts";

/** Usage of `bifrost check`. */
export const CHECK_USAGE = "Usage: bifrost check <flow-dir> [--json]\n" +
  "       bifrost check --fleet <repository-dir> [--json]   (every site folder, and clashes between sites)";
/** Usage of `bifrost plan`. */
export const PLAN_USAGE = "Usage: bifrost plan <flow-dir>";

/** Runs `check`; returns the exit code. */
export function checkCommand(args: string[]): Promise<number> {
  return withUsage(CHECK_USAGE, () => check(args));
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {
    json: { type: "boolean", default: false },
    fleet: { type: "boolean", default: false },
    // Internal: `bifrost run` validates in a child process and reads the result.
    "emit-flowset": { type: "boolean", default: false },
  });
  if (values.help) {
    console.log(CHECK_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  const dir = positionals[0];
  if (!dir) throw new UsageError("Missing the flow directory");
  if (values.fleet) return await checkFleet(dir, values.json);
  if (values["emit-flowset"]) {
    // For `run`: a function must exist and load; type errors are `check`'s business.
    const loaded = await loadOrReport(dir, "run", { typeCheck: false });
    if (!loaded) return 1;
    console.log(JSON.stringify({ flows: flowSetToJson(loaded.flows), secrets: loaded.secrets }));
    return 0;
  }
  const r = await loadFlows(dir, { env: Deno.env.toObject(), sources: registries });
  const functions = [...(r.flows?.steps.values() ?? [])].some((s) => s.use === "function");
  if (functions && !typeCheckAvailable()) {
    // Once, not per function: the compiled binary strips types without checking them.
    console.error(
      "note: functions were not type-checked: no deno executable on PATH " +
        "(install deno to have bifrost check run deno check on them)",
    );
  }
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
export function planCommand(args: string[]): Promise<number> {
  return withUsage(PLAN_USAGE, () => plan(args));
}

async function plan(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {});
  if (values.help) {
    console.log(PLAN_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("Missing the flow directory");
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  const loaded = await loadOrReport(positionals[0], "plan");
  if (!loaded) return 1;
  const { flows } = loaded;
  for (const p of flows.polls.values()) {
    const d = flows.devices.get(p.device)!;
    const m = registries.drivers.find((x) => x.name === d.driver)!;
    await m.load?.();
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

/** `check --fleet`: each site folder as `check` would, then the clashes between sites. */
async function checkFleet(dir: string, json: boolean): Promise<number> {
  const { fleetIssues, findSites } = await import("../fleet.ts");
  let sites: { name: string; dir: string }[];
  try {
    sites = await findSites(dir);
  } catch (e) {
    console.error(`Cannot read the repository "${dir}": ${(e as Error).message}`);
    return 1;
  }
  if (sites.length === 0) {
    console.error(`No site folder under "${dir}": expected folders of *.yaml flow files`);
    return 1;
  }
  const errors = [];
  const warnings = [];
  const loaded = [];
  for (const s of sites) {
    const r = await loadFlows(s.dir, { env: Deno.env.toObject(), sources: registries });
    errors.push(...r.errors);
    warnings.push(...r.warnings);
    if (r.flows) loaded.push({ name: s.name, flows: r.flows });
  }
  for (const i of fleetIssues(loaded)) (i.severity === "error" ? errors : warnings).push(i);
  if (json) {
    console.log(JSON.stringify({ sites: sites.map((s) => s.name), errors, warnings }, null, 2));
  } else {
    for (const i of [...errors, ...warnings]) console.log(formatIssue(i));
    console.log(
      `${errors.length === 0 ? "ok: " : ""}${sites.length} site(s) (${
        sites.map((s) => s.name).join(", ")
      }), ${errors.length} error(s), ${warnings.length} warning(s)`,
    );
  }
  return errors.length === 0 ? 0 : 1;
}
