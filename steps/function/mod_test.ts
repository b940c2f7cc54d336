/**
 * @module
 * Tests of the `function` step with real processes and the fixtures in `testdata/`. Time
 * limits are small so that time-outs are quick; nothing asserts on durations.
 */

import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Batch,
  createLogger,
  type DataRecord,
  isBifrostError,
  type Step,
  type StepContext,
  systemClock,
} from "../../engine/plugin.ts";
import { assertSameBatch, everyKind } from "../../engine/functions/_testing.ts";
import { createFunction, type FunctionConfig, functionStep } from "./mod.ts";

const flowDir = dirname(fileURLToPath(import.meta.url));

interface Harness extends AsyncDisposable {
  step: Step;
  lines: Record<string, unknown>[];
  errors: string[];
}

async function start(
  config: FunctionConfig,
  name = "smoothed",
  dir = flowDir,
): Promise<Harness> {
  const lines: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const ctx: StepContext = {
    name,
    log: createLogger({ level: "debug", json: true, write: (l) => lines.push(JSON.parse(l)) }),
    clock: systemClock,
    flowDir: dir,
    countError: (r) => errors.push(r),
  };
  const step = await createFunction(config, ctx);
  try {
    await step.start!();
  } catch (e) {
    await step.close?.();
    throw e;
  }
  return { step, lines, errors, [Symbol.asyncDispose]: async () => await step.close?.() };
}

function batchOf(...values: DataRecord["value"][]): Batch {
  return Batch.from(values.map((value, i) => ({
    device: "plc",
    tag: `t${i}`,
    value,
    quality: "good" as const,
    sourceTs: 1000 + i,
    gatewayTs: 2000 + i,
    seq: i,
  })));
}

function assertAllBad(b: Batch, reason: RegExp): void {
  assert.ok(b.length > 0);
  for (const r of b) {
    assert.equal(r.quality, "bad");
    assert.match(r.reason ?? "", reason);
  }
}

/** What the identity function gives for `everyKind()`: non-finite numbers marked bad. */
function everyKindOut(step: string): Batch {
  return Batch.from(
    everyKind().map((r) =>
      typeof r.value === "number" && !Number.isFinite(r.value)
        ? {
          ...r,
          quality: "bad" as const,
          reason:
            `function "${step}" returned a non-finite number (${r.value}) for "${r.device}/${r.tag}"`,
        }
        : r
    ),
  );
}

Deno.test("records of every value kind pass through the process byte for byte", async () => {
  await using h = await start({ file: "testdata/identity.ts" });
  // The step may write its output into its input batch: compare with fresh copies.
  assertSameBatch(await h.step.process(Batch.from(everyKind())), everyKindOut("smoothed"));
  // A second batch goes through the cached string table and buffer.
  assertSameBatch(await h.step.process(Batch.from(everyKind())), everyKindOut("smoothed"));
  assert.equal(h.errors.length, 2, "one count a batch with non-finite numbers");
});

Deno.test("state persists between batches and params reach the function", async () => {
  await using h = await start({ file: "testdata/counter.ts", with: { offset: 100 } });
  const first = (await h.step.process(batchOf(1, 2))).toArray();
  assert.deepEqual(first.map((r) => [r.value, r.seq]), [[101, 1], [102, 1]]);
  const second = (await h.step.process(batchOf(5))).toArray();
  assert.deepEqual(second.map((r) => [r.value, r.seq]), [[105, 2]]);
  assert.ok(second[0]!.sourceTs > 1_600_000_000_000, "ctx.now() is the gateway clock");
  const logged = h.lines.filter((l) => l.msg === "called");
  assert.deepEqual(logged.map((l) => [l.step, l.calls, l.level]), [
    ["smoothed", 1, "info"],
    ["smoothed", 2, "info"],
  ]);
});

Deno.test("a function that returns nothing passes its input on unchanged", async () => {
  await using h = await start({ file: "testdata/faulty.ts" });
  const input = batchOf("void", 2.5, true);
  const expected = input.toArray();
  const out = await h.step.process(input);
  assert.deepEqual(out.toArray(), expected);
  assert.equal((await h.step.process(batchOf("async"))).get(0).value, 2, "called twice");
});

Deno.test("a throw marks its batch bad and the next batch runs with state kept", async () => {
  await using h = await start({ file: "testdata/faulty.ts" });
  const bad = await h.step.process(batchOf("throw", 2));
  assertAllBad(bad, /^function "smoothed" failed: sensor table is empty$/);
  assert.deepEqual(h.errors, ['function "smoothed" failed: sensor table is empty']);
  assert.ok(
    h.lines.some((l) => l.level === "error" && /sensor table is empty/.test(String(l.msg))),
  );
  const next = await h.step.process(batchOf("ok"));
  assert.equal(next.get(0).quality, "good");
  assert.equal(next.get(0).value, 2, "state survived the throw");
});

Deno.test("an endless loop times out, the process restarts and state starts over", async () => {
  await using h = await start({ file: "testdata/faulty.ts", timeout: "200ms" });
  assert.equal((await h.step.process(batchOf("ok"))).get(0).value, 1);
  const timedOut = await h.step.process(batchOf("loop"));
  assertAllBad(timedOut, /timed out after 200 ms/);
  const next = await h.step.process(batchOf("ok"));
  assert.equal(next.get(0).quality, "good");
  assert.equal(next.get(0).value, 1, "a fresh process has empty state");
  assert.ok(h.lines.some((l) => /state is lost/.test(String(l.msg))));
  assert.ok(h.lines.some((l) => /restarted in a new process/.test(String(l.msg))));
  // Counted for /metrics (bifrost_step_restarts_total).
  assert.deepEqual(h.step.stats?.(), { restarts: 1 });
});

Deno.test("an unhandled rejection crashes the process and the step recovers", async () => {
  await using h = await start({ file: "testdata/faulty.ts" });
  const crashed = await h.step.process(batchOf("reject"));
  // The rejection surfaces during the batch or later: Deno reports it when the process's
  // event loop is idle for a moment, which back-to-back batches may postpone.
  if (crashed.get(0).quality === "bad") {
    assertAllBad(crashed, /process crashed: unhandled rejection: forgotten promise/);
  }
  let next = await h.step.process(batchOf("ok"));
  for (let i = 0; i < 40 && (next.get(0).quality === "bad" || next.get(0).value !== 1); i++) {
    await new Promise((r) => setTimeout(r, 50));
    next = await h.step.process(batchOf("ok"));
  }
  assert.equal(next.get(0).quality, "good");
  assert.equal(next.get(0).value, 1, "a fresh process has empty state");
  assert.ok(
    h.errors.some((e) => /forgotten promise/.test(e)) ||
      h.lines.some((l) => /forgotten promise/.test(String(l.msg))),
  );
});

Deno.test("Deno.exit() in a function fails its batch instead of ending the process", async () => {
  await using h = await start({ file: "testdata/faulty.ts" });
  assertAllBad(await h.step.process(batchOf("exit")), /Deno\.exit\(\) is not allowed/);
  assert.equal((await h.step.process(batchOf("ok"))).get(0).value, 2);
});

Deno.test("a module that does not load gives FUNCTION_FAILED with the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/broken.ts`, 'throw new Error("bad init");\n');
    await Deno.writeTextFile(`${dir}/syntax.ts`, "export default (n: number {\n};\n");
    const cases: [string, string, RegExp][] = [
      [dir, "broken.ts", /broken\.ts.*bad init/],
      [dir, "missing.ts", /missing\.ts.*(not found|No such file|Module not found)/i],
      [dir, "syntax.ts", /syntax\.ts.*: syntax\.ts:1:27: syntax error: Unexpected token/],
      [flowDir, "testdata/no_default.ts", /no_default\.ts.*must export a default function/],
      [flowDir, "/etc/passwd", /"\/etc\/passwd" is outside the flow repository/],
    ];
    for (const [where, file, re] of cases) {
      await assert.rejects(start({ file }, "smoothed", where), (e: unknown) => {
        assert.ok(isBifrostError(e, "FUNCTION_FAILED"), String(e));
        assert.match(e.message, /^Cannot load function ".*" of step "smoothed": /);
        assert.match(e.message, re);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without permissions a read is NotCapable and marks the batch bad", async () => {
  await using h = await start({ file: "testdata/faulty.ts" });
  const out = await h.step.process(batchOf("read", `${flowDir}/testdata/secret.txt`));
  assertAllBad(out, /^function "smoothed" failed: NotCapable: .*secret\.txt/);
});

Deno.test("a granted read permission lets the function read", async () => {
  await using h = await start({
    file: "testdata/faulty.ts",
    permissions: { read: ["testdata/secret.txt"] },
  });
  const out = await h.step.process(batchOf("read", `${flowDir}/testdata/secret.txt`));
  assert.equal(out.get(0).quality, "good");
  assert.equal(out.get(0).value, "granted");
});

Deno.test("validate() reports a missing file, a type error and a missing default export", async () => {
  const v = (file: string) => functionStep.validate!({ file }, { flowDir, file: "flow.yaml" });
  assert.deepEqual(await v("testdata/identity.ts"), []);
  const missing = await v("testdata/nope.ts");
  assert.deepEqual(missing.map((i) => i.path), [["file"]]);
  assert.match(missing[0]!.message, /Function file "testdata\/nope\.ts" does not exist/);
  const noDefault = await v("testdata/no_default.ts");
  assert.match(noDefault[0]?.message ?? "", /must export a default function/);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/typo.ts`, "export default (n: number): string => n;\n");
    const typo = await functionStep.validate!({ file: "typo.ts" }, {
      flowDir: dir,
      file: "f.yaml",
    });
    assert.equal(typo.length, 1);
    assert.match(typo[0]!.message, /does not type-check: .*TS2322/s);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validate() refuses a file outside the flow directory without quoting it", async () => {
  // A temporary directory is in no git work tree: the flow directory itself is the limit.
  const root = await Deno.makeTempDir();
  const flows = `${root}/flows`;
  try {
    await Deno.mkdir(flows);
    await Deno.writeTextFile(`${root}/secret.ts`, "export default () => 'TOP-SECRET';\n");
    await Deno.symlink(`${root}/secret.ts`, `${flows}/link.ts`);
    const v = (file: string) =>
      functionStep.validate!({ file }, { flowDir: flows, file: "f.yaml", typeCheck: false });
    for (const file of ["/etc/passwd", "../secret.ts", "link.ts", "../nope.ts", `${root}/x.ts`]) {
      const issues = await v(file);
      assert.equal(issues.length, 1, file);
      assert.deepEqual(issues[0]!.path, ["file"]);
      assert.equal(
        issues[0]!.message,
        `Function file "${file}" is outside the flow directory: function files must be kept in it`,
      );
    }
    await Deno.writeTextFile(`${flows}/ok.ts`, "export default (b: unknown) => b;\n");
    assert.deepEqual(await v("ok.ts"), []);
    // An import leading out is refused at its position, before anything is evaluated.
    await Deno.writeTextFile(
      `${flows}/leak.ts`,
      'import { s } from "../secret.ts";\nexport default () => s;\n',
    );
    const leak = await v("leak.ts");
    assert.deepEqual(leak.map((i) => i.path), [["file"]]);
    assert.equal(
      leak[0]!.message,
      'leak.ts:1:19: cannot import "../secret.ts": it is outside the flow repository',
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
