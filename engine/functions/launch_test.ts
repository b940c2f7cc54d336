/**
 * @module
 * Tests of how a function's process is started: from source with only the step's
 * permissions as flags (none to read its module), and as the compiled binary, which can
 * only drop every permission and therefore refuses a step that grants some.
 */

import assert from "node:assert/strict";
import { isBifrostError } from "../errors.ts";
import { processSetup } from "./launch.ts";

Deno.test("from source the process gets the granted permissions and no read of its module", () => {
  const none = processSetup({}, 64, "source");
  assert.ok(!none.args.some((a) => a.startsWith("--allow")), none.args.join(" "));
  assert.ok(none.args.includes("--v8-flags=--max-old-space-size=64,--max-semi-space-size=8"));
  assert.ok(none.args.at(-1)!.endsWith("/engine/functions/child.ts"));
  const some = processSetup({ net: ["plc:502"], read: ["/srv/a"] }, 64, "source");
  assert.ok(some.args.includes("--allow-net=plc:502"));
  assert.ok(some.args.includes("--allow-read=/srv/a"));
});

Deno.test("started as the binary, the process drops every permission itself", () => {
  const s = processSetup({}, 64, "self");
  assert.ok(s.args.includes("--drop-permissions"), s.args.join(" "));
  assert.throws(() => processSetup({ net: ["plc:502"], env: ["TOKEN"] }, 64, "self"), (e) => {
    assert.ok(isBifrostError(e, "FUNCTION_FAILED"));
    assert.match(
      e.message,
      /^Cannot grant net, env permissions to a function in the compiled binary/,
    );
    return true;
  });
});
