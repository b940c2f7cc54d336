/**
 * @module
 * The deploy code stays out of a gateway that does not deploy from git: no module under
 * `app/deploy/` is reachable from `bifrost run` or the HTTP modules it loads through static
 * imports (only `import()` with `--git`, and `import type`, which leaves nothing at run time).
 */

import { dirname, join, relative } from "node:path";
import { assertEquals } from "../../tests/_assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
// `import x from "./y.ts"`, `import { a } from …`, `export … from …`, `import "./z.ts"`; not
// `import type` / `export type`, whose imports leave nothing at run time.
const STATIC = /^(?:import|export)\s+(?!type\b)(?:[^;]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

async function staticGraph(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(STATIC)) queue.push(join(dirname(file), m[1]!));
  }
  return seen;
}

Deno.test("no app/deploy module is statically imported by bifrost run or its HTTP API", async () => {
  // What `run` loads: itself, then the HTTP modules with `import()` when the API is on.
  const files = new Set<string>();
  for (const entry of ["app/cli/run.ts", "app/http/serve.ts", "app/http/parts.ts"]) {
    for (const f of await staticGraph(join(ROOT, entry))) files.add(relative(ROOT, f));
  }
  // The scan works: what these import is in the graph.
  for (const f of ["app/cli/_load.ts", "app/http/api.ts", "app/http/routes_deploy.ts"]) {
    assertEquals(files.has(f), true, f);
  }
  assertEquals([...files].filter((f) => f.startsWith("app/deploy/")), []);
});
