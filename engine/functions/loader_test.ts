/**
 * @module
 * Tests of loading a function from memory: the host reads and transpiles the module and
 * its relative imports (`loader.ts`), the child evaluates them with no read permission,
 * started from source (`deno run child.ts` with no `--allow-read`) and the way the compiled
 * binary starts it (every permission dropped by the child itself). Bad modules and refused
 * imports get their file:line:column.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock } from "../clock.ts";
import { isBifrostError } from "../errors.ts";
import { nullLogger } from "../log.ts";
import { Batch } from "../record.ts";
import { FunctionHost } from "./host.ts";
import { loadFunctionSource } from "./loader.ts";
import type { LaunchMode } from "./child_process.ts";

const TESTDATA = dirname(fileURLToPath(new URL("./testdata/with_helper.ts", import.meta.url)));
const FIXTURE = join(TESTDATA, "with_helper.ts");

function batchOf(...values: (string | number)[]): Batch {
  return Batch.from(values.map((value, i) => ({
    device: "plc",
    tag: `t${i}`,
    value,
    quality: "good" as const,
    sourceTs: 1,
    gatewayTs: 2,
    seq: i,
  })));
}

for (const launch of ["source", "self"] as LaunchMode[]) {
  Deno.test(`a function and its helper load from memory in a child that cannot read (${launch})`, async () => {
    const host = new FunctionHost({
      step: "x",
      path: FIXTURE,
      root: TESTDATA,
      launch,
      params: {},
      permissions: {},
      timeoutMs: 5000,
      log: nullLogger,
      clock: systemClock,
      countError: () => {},
    });
    try {
      await host.start();
      const out = await host.process(batchOf(21, FIXTURE));
      // Its own import works…
      assert.equal(out.get(0).tag, "t0-x2");
      assert.equal(out.get(0).value, 42);
      // …but the disk is closed, its own source included.
      assert.equal(out.get(1).quality, "good");
      assert.match(
        String(out.get(1).value),
        /^NotCapable: Requires read access to ".*with_helper\.ts"/,
      );
    } finally {
      await host.close();
    }
  });
}

Deno.test("loadFunctionSource() keys modules by their path in the repository", async () => {
  const s = await loadFunctionSource(FIXTURE, dirname(TESTDATA));
  assert.equal(s.entry, "testdata/with_helper.ts");
  assert.deepEqual(Object.keys(s.modules).sort(), [
    "testdata/lib/helper.ts",
    "testdata/with_helper.ts",
  ]);
  assert.deepEqual(s.modules["testdata/with_helper.ts"]!.deps, {
    "./lib/helper.ts": "testdata/lib/helper.ts",
  });
  // Types are gone: no `bifrost/functions` left to require at run time.
  assert.doesNotMatch(s.modules["testdata/with_helper.ts"]!.code, /DataRecord|bifrost\/functions/);
});

Deno.test("loadFunctionSource() refuses imports from outside, URLs and packages with their position", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "repo/functions"), { recursive: true });
    await Deno.writeTextFile(join(root, "outside.ts"), "export const secret = 1;\n");
    await Deno.symlink(join(root, "outside.ts"), join(root, "repo/functions/link.ts"));
    const cases: [string, RegExp][] = [
      ['import { secret } from "../../outside.ts";', /it is outside the flow repository/],
      ['import { secret } from "./link.ts";', /it is outside the flow repository/],
      ['import x from "https://example.com/x.ts";', /remote and URL imports are not allowed/],
      ['import x from "npm:left-pad@1";', /npm: and jsr: packages are not allowed/],
      ['import x from "jsr:@std/path";', /npm: and jsr: packages are not allowed/],
      ['import x from "lodash";', /only relative paths inside the flow repository/],
      ['import x from "./nope.ts";', /no such file/],
      ['import x from "./helper";', /must end in \.ts/],
    ];
    for (const [line, why] of cases) {
      const file = join(root, "repo/functions/f.ts");
      await Deno.writeTextFile(file, `// a comment\n${line}\nexport default () => x;\n`);
      await assert.rejects(loadFunctionSource(file, join(root, "repo")), (e: unknown) => {
        assert.ok(isBifrostError(e, "FUNCTION_FAILED"), String(e));
        const spec = line.match(/"(.*)"/)![1]!;
        assert.ok(
          e.message.startsWith(
            `functions/f.ts:2:${line.indexOf('"') + 1}: cannot import "${spec}": `,
          ),
          e.message,
        );
        assert.match(e.message, why);
        return true;
      }, line);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a syntax error is reported at its line and column, at check and at run", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(root, "bad.ts"), "export default function (n: number {\n}\n");
    await assert.rejects(
      loadFunctionSource(join(root, "bad.ts"), root),
      /^BifrostError: bad\.ts:1:36: syntax error: Unexpected token, expected ","$/,
    );
    const host = new FunctionHost({
      step: "x",
      path: join(root, "bad.ts"),
      root,
      params: {},
      permissions: {},
      timeoutMs: 1000,
      log: nullLogger,
      clock: systemClock,
      countError: () => {},
    });
    await assert.rejects(
      host.start(),
      /Cannot load function ".*bad\.ts" of step "x": bad\.ts:1:36: syntax error/,
    );
    await host.close();
    // Modules run as CommonJS: a top-level await is refused with a message saying so.
    await Deno.writeTextFile(join(root, "tla.ts"), "await 1;\nexport default () => {};\n");
    const tla = new FunctionHost({
      step: "x",
      path: join(root, "tla.ts"),
      root,
      params: {},
      permissions: {},
      timeoutMs: 1000,
      log: nullLogger,
      clock: systemClock,
      countError: () => {},
    });
    await assert.rejects(tla.start(), /tla\.ts: top-level await is not supported/);
    await tla.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
