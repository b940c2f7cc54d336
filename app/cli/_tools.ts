/**
 * @module
 * The driver tools of the installed drivers, for the commands that dispatch by URL scheme
 * (`read`, `write`, `browse`) or by name (`discover`, `sim`), and for the help. No command
 * names a protocol: what exists comes from the driver registry.
 */

import type { DriverModule, DriverTools } from "../../engine/driver.ts";
import { BifrostError } from "../../engine/errors.ts";
import { registries } from "../registries.ts";

/** A driver's tools with the names of the driver modules that share them. */
export interface InstalledTools {
  tools: DriverTools;
  drivers: string[];
}

/** The tools of every installed driver, one entry per tools object. */
export function installedTools(
  drivers: readonly DriverModule[] = registries.drivers,
): InstalledTools[] {
  const out: InstalledTools[] = [];
  for (const d of drivers) {
    if (!d.tools) continue;
    const seen = out.find((i) => i.tools === d.tools);
    if (seen) seen.drivers.push(d.name);
    else out.push({ tools: d.tools, drivers: [d.name] });
  }
  return out;
}

/** `a, b or c` */
function orList(items: string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

/** The scheme of `text` when it looks like a URL (`x://`), else undefined. */
export function schemeOf(text: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
}

/**
 * The tools that handle `url`'s scheme; throws `CONFIG_INVALID` naming the schemes the
 * installed drivers handle.
 */
export function toolsForUrl(url: string, command: string): DriverTools {
  const scheme = schemeOf(url);
  const all = installedTools();
  const found = all.find((i) => i.tools.schemes.includes(scheme ?? ""));
  if (found) return found.tools;
  const schemes = all.flatMap((i) => i.tools.schemes.map((s) => `${s}://`));
  throw new BifrostError(
    "CONFIG_INVALID",
    `Cannot ${command} "${url}": ${
      scheme ? `no installed driver handles ${scheme}://` : "not a URL"
    }; supported are ${orList(schemes)}`,
  );
}

/**
 * The tools called `name` that offer `what`; throws `NOT_FOUND` naming those that do.
 */
export function toolsByName(
  name: string | undefined,
  what: "discover" | "simulator" | "browse",
  extra: string[] = [],
): DriverTools {
  const offering = installedTools().filter((i) => i.tools[what] !== undefined);
  const found = offering.find((i) => i.tools.name === name);
  if (found) return found.tools;
  const names = [...offering.map((i) => i.tools.name), ...extra];
  const verb = what === "simulator" ? "a simulator" : what;
  const known = installedTools().some((i) => i.tools.name === name);
  throw new BifrostError(
    "NOT_FOUND",
    `${
      name === undefined
        ? `Missing the driver name`
        : known
        ? `The "${name}" driver offers no ${what === "simulator" ? "simulator" : what}`
        : `Unknown driver "${name}"`
    }: drivers with ${verb} are ${orList(names) || "none"}`,
  );
}

/** The names of the installed drivers' tools that offer `what`. */
export function namesOffering(what: "discover" | "simulator" | "browse"): string[] {
  return installedTools().filter((i) => i.tools[what] !== undefined).map((i) => i.tools.name);
}

/** The help's section on the installed drivers' tools. */
export function toolsHelp(): string {
  const lines = ["Installed drivers and their tools:"];
  for (const { tools, drivers } of installedTools()) {
    lines.push(`  ${tools.name} (drivers ${drivers.join(", ")})`);
    for (const [i, u] of tools.urlExamples.entries()) {
      lines.push(`    ${i === 0 ? "URLs:    " : "         "} ${u}`);
    }
    const offers = [
      tools.browse ? "browse" : undefined,
      tools.discover ? `discover ${tools.name}` : undefined,
      tools.simulator ? `sim ${tools.name}` : undefined,
    ].filter((x) => x !== undefined);
    const own = Object.keys(tools.commands ?? {});
    if (own.length > 0) offers.push(`${tools.name} ${own.join("|")}`);
    if (offers.length > 0) lines.push(`    offers:   ${offers.join(", ")}`);
  }
  return lines.join("\n");
}

/**
 * Runs `bifrost <name> <command> ...` when an installed driver's tools called `name` offer
 * `command` ({@linkcode DriverTools.commands}); undefined when no driver offers `name`.
 */
export async function runDriverCommand(
  name: string,
  args: string[],
): Promise<number | undefined> {
  const found = installedTools().find((i) => i.tools.name === name && i.tools.commands);
  if (!found) return undefined;
  const commands = found.tools.commands!;
  const [sub, ...rest] = args;
  const usage = Object.values(commands).map((c) => c.usage).join("\n");
  const command = sub === undefined ? undefined : commands[sub];
  if (!command) {
    if (sub === "--help" || sub === "-h") {
      console.log(usage);
      return 0;
    }
    console.error(
      `${sub === undefined ? "Missing" : `Unknown`} command${
        sub === undefined ? "" : ` "${sub}"`
      } of ${name}: known are ${Object.keys(commands).join(", ")}`,
    );
    console.error(usage);
    return 2;
  }
  return await command.run(rest, {
    log: (l) => console.log(l),
    error: (l) => console.error(l),
  });
}
