/**
 * @module
 * The code base's shape, checked on every run: the engine knows no driver, step, sink,
 * simulator or application; plugins (drivers, steps, sinks, simulators) see the engine only
 * through `engine/plugin.ts`; no import cycle; the CLI names no protocol; `bifrost run`
 * imports no plugin before its flows name one, and a module entry leaves its client or sink
 * to `load()` (what a gateway that does not use it never carries).
 *
 * Tests (`*_test.ts`, `testdata/`) and the test helpers only tests import are exempt from
 * the first two rules: an engine test may run a real driver against its simulator, and a
 * plugin's test may load flows.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** Every `.ts` file under `dir` (relative to the root), skipping node_modules. */
async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules") out.push(...await tsFiles(path));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The relative imports of `file`, as root-relative paths. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(ROOT, file));
  // Comments may show imports (JSDoc examples): they are not the module's.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(SPECIFIER)].map((m) =>
    relative(ROOT, normalize(join(ROOT, dirname(file), m[1]!)))
  );
}

const isTest = (f: string) => f.endsWith("_test.ts") || f.includes("/testdata/");

/** The import graph of the given top-level folders. */
async function graph(dirs: string[]): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  for (const d of dirs) {
    for (const f of await tsFiles(d)) g.set(f, await importsOf(f));
  }
  return g;
}

/** Files of `g` that the running gateway loads: reachable from a non-test, non-`_` file. */
function production(g: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...g.keys()].filter((f) => !isTest(f) && !f.split("/").pop()!.startsWith("_"));
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f) || isTest(f)) continue;
    seen.add(f);
    stack.push(...(g.get(f) ?? []));
  }
  return seen;
}

const PLUGIN_DIRS = ["drivers", "steps", "sinks", "simulators"];
const ALL_DIRS = ["app", "engine", ...PLUGIN_DIRS, "scripts", "tests", "functions"];

Deno.test("the engine imports no driver, step, sink, simulator or app module", async () => {
  const g = await graph(["engine"]);
  const bad: string[] = [];
  for (const [file, imports] of g) {
    if (isTest(file) || file.split("/").pop()!.startsWith("_test")) continue;
    for (const i of imports) {
      if (/^(drivers|steps|sinks|simulators|app)\//.test(i)) bad.push(`${file} imports ${i}`);
    }
  }
  assert.ok(g.size > 50, `expected the engine's files, found ${g.size}`);
  assert.deepEqual(bad, []);
});

Deno.test("drivers, steps, sinks and simulators import only engine/plugin.ts from the engine", async () => {
  const g = await graph(PLUGIN_DIRS);
  const prod = production(g);
  const bad: string[] = [];
  for (const file of prod) {
    for (const i of g.get(file) ?? []) {
      if (i.startsWith("engine/") && i !== "engine/plugin.ts") bad.push(`${file} imports ${i}`);
      if (i.startsWith("app/")) bad.push(`${file} imports ${i}`);
    }
  }
  assert.ok(prod.has("drivers/modbus/mod.ts") && prod.has("sinks/mqtt/mod.ts"));
  assert.deepEqual(bad, []);
});

Deno.test("no module imports itself through a cycle", async () => {
  const g = await graph(ALL_DIRS);
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    path.push(f);
    for (const i of g.get(f) ?? []) {
      if (state.get(i) === 1) cycles.push([...path.slice(path.indexOf(i)), i].join(" -> "));
      else if (!state.has(i) && g.has(i)) visit(i);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of g.keys()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

Deno.test("no file of app/cli names a protocol: the drivers' tools do", async () => {
  const named: string[] = [];
  for (const f of await tsFiles("app/cli")) {
    const text = await Deno.readTextFile(join(ROOT, f));
    for (const [i, line] of text.split("\n").entries()) {
      if (/modbus|opc[ .-]?ua|opc\.tcp|ethernet\/ip|eip:|bacnet/i.test(line)) {
        named.push(`${f}:${i + 1}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(named, []);
});

const STATIC_IMPORT =
  /\b(import|export)\s+(type\s+)?(?:[^;'"]*?\bfrom\s*)?["'](\.{1,2}\/[^"']+)["']/g;

/** Files reachable from `roots` through static imports (`import()` and type imports left out). */
async function staticClosure(roots: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const text = await Deno.readTextFile(join(ROOT, f));
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of code.matchAll(STATIC_IMPORT)) {
      if (m[2]) continue;
      stack.push(relative(ROOT, normalize(join(ROOT, dirname(f), m[3]!))));
    }
  }
  return seen;
}

Deno.test("`bifrost run` imports no driver, step or sink before its flows name one", async () => {
  const loaded = await staticClosure([
    "app/cli/run.ts",
    "app/sources.ts",
    "engine/runtime/gateway.ts",
  ]);
  const plugins = [...loaded].filter((f) =>
    /^(drivers|steps|sinks)\//.test(f) && !/^(drivers|steps|sinks)\/loaders\.ts$/.test(f)
  );
  assert.ok(loaded.has("drivers/loaders.ts") && loaded.has("sinks/loaders.ts"));
  assert.deepEqual(plugins, []);
});

Deno.test("a module entry leaves its client or sink to load(): what a gateway without it never carries", async () => {
  const lazy: [string, string[]][] = [
    ["drivers/opcua/mod.ts", ["drivers/opcua/client/driver.ts"]],
    ["drivers/bacnet/mod.ts", ["drivers/bacnet/client/driver.ts"]],
    ["drivers/ethernet-ip/mod.ts", ["drivers/ethernet-ip/tcp/driver.ts"]],
    ["drivers/modbus/mod.ts", [
      "drivers/modbus/rtu/driver.ts",
      "drivers/modbus/simulator/server.ts",
    ]],
    ...["mqtt", "sparkplug", "influxdb", "postgres", "http"].map((s): [string, string[]] => [
      `sinks/${s}/mod.ts`,
      [`sinks/${s}/sink.ts`, "sinks/_queue/queue.ts", "sinks/_forward/forwarder.ts"],
    ]),
  ];
  const carried: string[] = [];
  for (const [entry, heavy] of lazy) {
    const loaded = await staticClosure([entry]);
    for (const h of heavy) if (loaded.has(h)) carried.push(`${entry} imports ${h}`);
    assert.ok(loaded.has(entry));
  }
  assert.deepEqual(carried, []);
});
