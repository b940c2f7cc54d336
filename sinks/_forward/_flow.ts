/**
 * @module
 * Test helper for the forwarding sinks' specs: loads a one-device flow whose sink `out`
 * uses the given module (added to the registry's sinks when it is not listed yet), and
 * checks every `examples` entry of a spec against the spec itself.
 */

import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { TObject, TSchema } from "@sinclair/typebox";
import { loadFlowsWith, type LoadResult } from "../../engine/flow/load.ts";
import type { SinkModule } from "../../engine/plugin.ts";
import { drivers } from "../../drivers/registry.ts";
import { steps } from "../../steps/registry.ts";
import { sinks } from "../registry.ts";

const FLOW = (use: string, body: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    tags:
      temp1: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: "*", every: 1s }
sinks:
  out:
    use: ${use}
    from: fast
${body}`;

/** Loads a flow with sink `out` of module `m` configured by the YAML lines `body`. */
export async function loadSinkFlow(
  m: SinkModule<never>,
  body: string,
  env: Record<string, string> = {},
): Promise<LoadResult> {
  const all = sinks.some((s) => s.name === m.name) ? sinks : [...sinks, m as unknown as SinkModule];
  const dir = await Deno.makeTempDir({ prefix: "bifrost_sink_spec_" });
  try {
    await Deno.writeTextFile(join(dir, "flow.yaml"), FLOW(m.name, body));
    return await loadFlowsWith(dir, { drivers, steps, sinks: all }, { env });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Validation errors of each example of the spec and of its fields, as text (empty: all valid). */
export function badExamples(spec: TSchema): string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const bad: string[] = [];
  const check = (s: TSchema, where: string) => {
    const validate = ajv.compile(s);
    for (const ex of (s.examples as unknown[] | undefined) ?? []) {
      if (!validate(ex)) {
        bad.push(`${where}: ${JSON.stringify(ex)}: ${ajv.errorsText(validate.errors)}`);
      }
    }
  };
  check(spec, "spec");
  for (const [k, s] of Object.entries((spec as TObject).properties ?? {})) check(s, k);
  return bad;
}
