/**
 * @module
 * What every installed driver's tools promise the command line, run against each driver's
 * own simulator: schemes no other driver claims, example URLs that parse to a registered
 * driver, and a browse whose draft is a flow that loads without error.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { installedTools } from "../app/cli/_tools.ts";
import { draftYaml } from "../app/cli/_draft_yaml.ts";
import { loadFlows, registries } from "../app/registries.ts";

const quiet = { log: () => {}, error: () => {} };

Deno.test("each URL scheme belongs to one driver and every example URL parses", () => {
  const all = installedTools();
  assert.ok(all.length > 0);
  const schemes = all.flatMap((i) => i.tools.schemes);
  assert.deepEqual(schemes, [...new Set(schemes)]);
  for (const { tools } of all) {
    for (const url of tools.urlExamples) {
      const { device, tag } = tools.parseUrl(url);
      assert.ok(registries.drivers.some((d) => d.name === device.driver), url);
      assert.equal(device.tags.get(tag.name), tag, url);
    }
  }
});

for (const { tools } of installedTools()) {
  const skip = !tools.browse
    ? "the driver cannot browse"
    : !tools.simulator
    ? "the driver has no simulator"
    : undefined;
  Deno.test({
    name: `${tools.name}: browsing its simulator gives a flow that loads${
      skip ? ` (skipped: ${skip})` : ""
    }`,
    ignore: skip !== undefined,
    async fn() {
      const sim = await tools.simulator!.start();
      const dir = await Deno.makeTempDir();
      try {
        const draft = await tools.browse!(sim.url, {
          depth: 2,
          signal: AbortSignal.timeout(30_000),
          out: quiet,
        });
        assert.ok(draft.devices.length > 0);
        await Deno.writeTextFile(join(dir, "new.yaml"), draftYaml(draft, `browse ${sim.url}`));
        const r = await loadFlows(dir, { env: {}, checkFunctions: false });
        assert.deepEqual(r.errors, []);
      } finally {
        await sim.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
