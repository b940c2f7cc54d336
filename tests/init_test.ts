/**
 * @module
 * `bifrost init`: the skeleton of a flow repository checks and type-checks on its own (its
 * `deno.json` maps `bifrost/functions` to the API types `init` wrote), its function runs,
 * and a second `init` keeps what the user changed. The hidden `__function-child` is not in
 * the help.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { bifrost } from "./_cli.ts";

Deno.test("bifrost init writes a flow repository whose flows and function check", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const site = join(dir, "site");
    const r = await bifrost(["init", site]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote deno\.json/);
    const config = JSON.parse(await Deno.readTextFile(join(site, "deno.json")));
    assert.equal(config.imports["bifrost/functions"], "./.bifrost/engine/functions/api.ts");
    await Deno.stat(join(site, ".bifrost/engine/functions/api.ts"));
    await Deno.stat(join(site, ".bifrost/engine/record.ts"));
    const schema = JSON.parse(await Deno.readTextFile(join(site, ".bifrost/flow.schema.json")));
    assert.ok(schema.properties.devices, "the flow schema");
    const vscode = JSON.parse(await Deno.readTextFile(join(site, ".vscode/settings.json")));
    assert.equal(vscode["deno.enable"], true);
    assert.deepEqual(vscode["yaml.schemas"], {
      "./.bifrost/flow.schema.json": "flows/**/*.yaml",
    });
    assert.match(await Deno.readTextFile(join(site, ".gitignore")), /^data\/$/m);
    // `check` type-checks the function with the repository's own deno.json.
    const c = await bifrost(["check", join(site, "flows")]);
    assert.equal(c.code, 0, c.out + c.err);
    assert.match(c.out, /ok: 1 flow file/);
    // A type error in the function is found there too.
    const fn = join(site, "functions/smooth.ts");
    const good = await Deno.readTextFile(fn);
    await Deno.writeTextFile(fn, good.replace("ctx.params.alpha ?? 0.3", '"0.3"'));
    const bad = await bifrost(["check", join(site, "flows")]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /example\.yaml:\d+:\d+ .*does not type-check: .*TS2/s);
    // A second init keeps the user's files.
    const again = await bifrost(["init", site]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /kept {2}functions\/smooth\.ts \(it exists\)/);
    assert.notEqual(await Deno.readTextFile(fn), good);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the function child subcommand is hidden from the help", async () => {
  const r = await bifrost(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /init \[dir\]/);
  assert.doesNotMatch(r.out, /__function-child/);
});
