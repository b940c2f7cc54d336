/**
 * @module
 * The extension's shape: `src/lib/` is pure (no `vscode`, no Node or Deno runtime modules,
 * nothing outside itself but the `yaml` package), so Deno tests all its logic; and nothing of
 * the extension imports the gateway's own code (it talks to gateways over HTTP and the CLI).
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const EXT = fileURLToPath(new URL("../", import.meta.url));
const IMPORT =
  /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["'];|\bimport\(\s*["']([^"']+)["']/gm;

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await files(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

async function imports(file: string): Promise<string[]> {
  const code = (await Deno.readTextFile(file)).replace(/\/\*[\s\S]*?\*\//g, "");
  return [...code.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
}

Deno.test("src/lib imports nothing but itself and yaml: no vscode, no runtime modules", async () => {
  const bad: string[] = [];
  for (const f of await files(join(SRC, "lib"))) {
    if (f.endsWith("_test.ts")) continue;
    for (const s of await imports(f)) {
      const ok = s === "yaml" || (s.startsWith("./") && !s.includes(".."));
      if (!ok) bad.push(`${f.slice(SRC.length)}: ${s}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("the extension imports none of the gateway's modules", async () => {
  const bad: string[] = [];
  for (const f of await files(SRC)) {
    for (const s of await imports(f)) {
      if (s.startsWith(".") && !resolve(dirname(f), s).startsWith(EXT)) bad.push(`${f}: ${s}`);
    }
  }
  assert.deepEqual(bad, []);
});
