/**
 * @module
 * Every registered driver and sink runs its conformance suite: a driver module is passed as
 * `module: <its export>` to `runDriverConformance` in a `conformance_test.ts` of its folder,
 * and every sink has `sinks/<name>/conformance_test.ts` calling `runSinkConformance` with
 * its module. A new plugin without one fails here, by name.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { drivers } from "../../drivers/registry.ts";
import { sinks } from "../../sinks/registry.ts";
import { assertEquals } from "../_assert.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const url = (path: string) => new URL(`../../${path}`, import.meta.url).href;

async function read(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

Deno.test("every registered driver runs the driver conformance suite", async () => {
  const missing: string[] = [];
  for (const module of drivers) {
    let covered = false;
    for await (const dir of Deno.readDir(join(ROOT, "drivers"))) {
      if (!dir.isDirectory) continue;
      const mod = await import(url(`drivers/${dir.name}/mod.ts`)).catch(() => ({}));
      const name = Object.entries(mod).find(([, v]) => v === module)?.[0];
      const text = await read(join(ROOT, "drivers", dir.name, "conformance_test.ts"));
      if (name && text?.includes("runDriverConformance") && text.includes(`module: ${name},`)) {
        covered = true;
      }
    }
    if (!covered) missing.push(module.name);
  }
  assertEquals(missing, [], "drivers without a conformance run");
});

Deno.test("every registered sink runs the sink conformance suite", async () => {
  const missing: string[] = [];
  for (const module of sinks) {
    const dir = join(ROOT, "sinks", module.name);
    const mod = await import(url(`sinks/${module.name}/mod.ts`)).catch(() => ({}));
    const name = Object.entries(mod).find(([, v]) => v === module)?.[0];
    const text = await read(join(dir, "conformance_test.ts"));
    const ok = name && text?.includes("runSinkConformance") && text.includes(`module: ${name},`);
    if (!ok) missing.push(module.name);
  }
  assertEquals(missing, [], "sinks without a conformance run");
});
