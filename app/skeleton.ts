/**
 * @module
 * The skeleton of a flow repository that `bifrost init` writes:
 *
 * - `deno.json` mapping `bifrost/functions` to `.bifrost/engine/functions/api.ts`;
 * - `.bifrost/`: the function API types and the flow JSON Schema of this gateway, written
 *   from what the binary carries (rewritten by every `init`: they follow the gateway); the
 *   folder also marks the directory as a flow repository for the `function` step;
 * - `flows/example.yaml` and `functions/smooth.ts`: a simulated device and a function;
 * - `.vscode/settings.json` (Deno enabled, flows/**\/*.yaml validated by the schema) and
 *   `.gitignore`.
 *
 * Existing files other than `.bifrost/` are kept as they are.
 */

import { join } from "node:path";
import { writeApiFiles } from "../engine/plugin.ts";
import { flowSchema } from "./registries.ts";

/** The folder of files `init` generates from the gateway itself. */
export const VENDOR_DIR = ".bifrost";

const EXAMPLE_FLOW = `# yaml-language-server: $schema=../.bifrost/flow.schema.json
#
# An example: a simulated PLC (\`bifrost run flows --simulate\`) whose temperature is smoothed
# by the function in ../functions/smooth.ts. Point PLC_HOST at a real device to use it.
version: 1

devices:
  plc:
    driver: modbus-tcp
    host: \${PLC_HOST:-127.0.0.1}
    port: 5020
    unitId: 1
    tags:
      temp: { address: HR0, type: float32, unit: "°C" }
    simulator:
      temp: { generator: sine, min: 60, max: 80, period: 30s }

polls:
  fast: { device: plc, tags: "*", every: 1s }

steps:
  smoothed: { use: function, from: fast, file: ../functions/smooth.ts, with: { alpha: 0.3 } }
`;

const EXAMPLE_FUNCTION = `/**
 * @module
 * An exponential moving average per device and tag; \`with: { alpha }\` is the weight of the
 * newest value (0 < alpha <= 1).
 */

import type { Context, DataRecord } from "bifrost/functions";

export default function smooth(
  records: DataRecord[],
  ctx: Context<{ ema: Record<string, number> }, { alpha?: number }>,
): DataRecord[] {
  const alpha = ctx.params.alpha ?? 0.3;
  const ema = (ctx.state.ema ??= {});
  for (const r of records) {
    if (typeof r.value !== "number" || r.quality !== "good") continue;
    const key = \`\${r.device}/\${r.tag}\`;
    const prev = ema[key];
    r.value = ema[key] = prev === undefined ? r.value : prev + alpha * (r.value - prev);
  }
  return records;
}
`;

/** The skeleton's files other than `.bifrost/`, by path. */
export function skeleton(): Record<string, string> {
  const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
  return {
    "deno.json": json({
      imports: { "bifrost/functions": `./${VENDOR_DIR}/engine/functions/api.ts` },
      compilerOptions: { strict: true },
    }),
    ".vscode/settings.json": json({
      "deno.enable": true,
      "yaml.schemas": { [`./${VENDOR_DIR}/flow.schema.json`]: "flows/**/*.yaml" },
    }),
    ".gitignore": "# State of a gateway run here (bifrost run --data-dir data)\ndata/\n",
    "flows/example.yaml": EXAMPLE_FLOW,
    "functions/smooth.ts": EXAMPLE_FUNCTION,
  };
}

/**
 * Writes the skeleton into `dir`; returns the files written and those kept because they
 * existed (`.bifrost/` is always written).
 */
export async function writeSkeleton(dir: string): Promise<{ written: string[]; kept: string[] }> {
  const written: string[] = [], kept: string[] = [];
  for (const [rel, text] of Object.entries(skeleton())) {
    const p = join(dir, rel);
    await Deno.mkdir(join(p, ".."), { recursive: true });
    try {
      await Deno.writeTextFile(p, text, { createNew: true });
      written.push(rel);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      kept.push(rel);
    }
  }
  const vendor = join(dir, VENDOR_DIR);
  await writeApiFiles(vendor);
  await Deno.writeTextFile(
    join(vendor, "flow.schema.json"),
    JSON.stringify(flowSchema(), null, 2) + "\n",
  );
  return { written, kept };
}
