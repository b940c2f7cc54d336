/** @module The MQTT sender's retry loop, apart from any broker. */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

Deno.test("a sender retrying a refusing broker keeps nothing of its failed attempts", async () => {
  // The loop raced each attempt against a promise that settles only at stop: every race left a
  // reaction on it holding the attempt's error and MQTT client (10 MB an hour in the soak).
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      fileURLToPath(new URL("./testdata/retry_retention.ts", import.meta.url)),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert(out.success, err);
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    attempts: number;
    heapMB: number;
  };
  assert(r.attempts >= 200, `only ${r.attempts} attempts`);
  // 200 attempts of 1 MB each: kept, the heap holds over 200 MB; released, a few MB.
  assert(r.heapMB < 40, `${r.heapMB.toFixed(1)} MB of heap after 200 failed attempts`);
});
