/**
 * @module
 * `bifrost init [dir]`: writes the skeleton of a flow repository (`app/skeleton.ts` says
 * what is in it), so that a plant's flows and functions live in their own git repository
 * and type-check there without this source tree or the network.
 */

import { join } from "node:path";
import { VENDOR_DIR, writeSkeleton } from "../skeleton.ts";
import { parseCli, UsageError, withUsage } from "./_args.ts";

/** Usage of `bifrost init`. */
export const INIT_USAGE = "Usage: bifrost init [dir]   (default: the current directory)";

/** Runs `init`; returns the exit code. */
export function initCommand(args: string[]): Promise<number> {
  return withUsage(INIT_USAGE, () => init(args));
}

async function init(args: string[]): Promise<number> {
  const { values, positionals } = parseCli(args, {});
  if (values.help) {
    console.log(INIT_USAGE);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  const dir = positionals[0] ?? ".";
  const { written, kept } = await writeSkeleton(dir);
  console.log(`Flow repository in ${dir}:`);
  for (const f of written) console.log(`  wrote ${f}`);
  for (const f of kept) console.log(`  kept  ${f} (it exists)`);
  console.log(`  wrote ${VENDOR_DIR}/ (function API types and flow schema of this gateway)`);
  console.log(`Next: bifrost check ${join(dir, "flows")}`);
  return 0;
}
