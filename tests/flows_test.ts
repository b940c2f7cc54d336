/**
 * @module
 * Golden flow cases: every directory under `tests/flows/` is a flow directory loaded with the
 * real registries. It holds either `expected_errors.txt` (the exact lines `bifrost validate`
 * prints: errors, then warnings) or `expected.json` (a summary of the loaded flow set), and
 * optionally `env.json` (the environment to substitute). Files are shown as if the case
 * directory were `flows/`. `UPDATE_GOLDEN=1 deno test -A tests/flows_test.ts` rewrites the
 * expected files from the current output (review the diff).
 */

import assert from "node:assert/strict";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConfigIssue, formatIssue, type LoadResult } from "../engine/flow/mod.ts";
import { loadFlows } from "../app/registries.ts";

const CASES = fileURLToPath(new URL("./flows/", import.meta.url));
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function lines(r: LoadResult, dir: string): string[] {
  const show = (i: ConfigIssue) =>
    formatIssue({
      ...i,
      file: join("flows", relative(dir, i.file)),
      message: i.message.replaceAll(`${resolve(dir)}/`, "flows/").replaceAll(`${dir}/`, "flows/"),
    });
  return [...r.errors.map(show), ...r.warnings.map(show)];
}

function summary(r: LoadResult, dir: string): unknown {
  const f = r.flows!;
  const names = <T>(m: Map<string, T>, fn: (v: T) => unknown) =>
    Object.fromEntries([...m].map(([k, v]) => [k, fn(v)]));
  return {
    files: f.files.map((p) => join("flows", relative(dir, p))),
    devices: names(f.devices, (d) => ({
      driver: d.driver,
      host: d.config.host,
      port: d.config.port,
      tags: [...d.tags.keys()],
    })),
    polls: names(f.polls, (p) => ({
      device: p.device,
      tags: p.tags,
      ...(p.everyMs === undefined ? {} : { everyMs: p.everyMs }),
      ...(p.cron === undefined ? {} : { cron: p.cron }),
    })),
    steps: names(f.steps, (s) => ({ use: s.use, from: s.from })),
    sinks: names(f.sinks, (s) => ({ use: s.use, from: s.from })),
    ...(f.triggers?.size
      ? {
        triggers: names(f.triggers, (t) => ({
          method: t.method,
          path: t.path,
          file: join("flows", relative(dir, t.file)),
          timeoutMs: t.timeoutMs,
          memoryMb: t.memoryMb,
          body: t.body !== undefined,
          ...(t.cron === undefined ? {} : { cron: t.cron }),
        })),
      }
      : {}),
    warnings: lines(r, dir),
  };
}

const cases = [...Deno.readDirSync(CASES)].filter((e) => e.isDirectory).map((e) => e.name).sort();

Deno.test("every golden case has an expected outcome", async () => {
  assert.ok(cases.length >= 12, `only ${cases.length} cases`);
  for (const name of cases) {
    const dir = join(CASES, name);
    const has = (await readOptional(join(dir, "expected.json"))) !== undefined ||
      (await readOptional(join(dir, "expected_errors.txt"))) !== undefined;
    assert.ok(
      has || UPDATE,
      `tests/flows/${name} has neither expected.json nor expected_errors.txt`,
    );
  }
});

for (const name of cases) {
  Deno.test(`golden flow case ${name}`, async () => {
    const dir = relative(Deno.cwd(), join(CASES, name)) || ".";
    const envText = await readOptional(join(dir, "env.json"));
    const env = envText === undefined ? {} : JSON.parse(envText) as Record<string, string>;
    const r = await loadFlows(dir, { env });
    const errorsPath = join(dir, "expected_errors.txt");
    const jsonPath = join(dir, "expected.json");
    if (UPDATE) {
      await Deno.remove(r.flows ? errorsPath : jsonPath).catch(() => {});
      if (r.flows) {
        await Deno.writeTextFile(jsonPath, JSON.stringify(summary(r, dir), null, 2) + "\n");
      } else await Deno.writeTextFile(errorsPath, lines(r, dir).join("\n") + "\n");
    }
    const expectedErrors = await readOptional(errorsPath);
    if (expectedErrors !== undefined) {
      assert.equal(r.flows, undefined, "the case loaded without errors");
      assert.deepEqual(lines(r, dir), expectedErrors.split("\n").filter((l) => l.trim() !== ""));
    } else {
      const expected = JSON.parse(await Deno.readTextFile(jsonPath));
      assert.deepEqual(r.errors.map(formatIssue), [], "unexpected errors");
      assert.deepEqual(summary(r, dir), expected);
    }
    for (const secret of r.secrets) {
      for (const line of lines(r, dir)) {
        assert.ok(!line.includes(secret), `secret printed: ${line}`);
      }
    }
  });
}
