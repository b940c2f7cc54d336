/**
 * @module
 * The per-file cache of flow loading: an unchanged file is not parsed again, a changed one
 * is, and the cross-file checks still see every file (an edit that breaks a reference in
 * another file is caught). Results equal those of a load without the cache.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadFlowsWith } from "./load.ts";
import { formatIssue } from "./positions.ts";
import { FlowFileCache } from "./load_file.ts";
import { testSources } from "./_test_sources.ts";

const DEVICE = `devices:
  plc:
    driver: fake-tcp
    host: 127.0.0.1
    tags:
      t1: { address: HR0 }
`;
const POLLS = (every: string, device = "plc") =>
  `polls:
  fast: { device: ${device}, tags: "*", every: ${every} }
sinks:
  out: { use: console, from: fast }
`;

async function dirOf(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-cache-" });
  for (const [n, t] of Object.entries(files)) await Deno.writeTextFile(join(dir, n), t);
  return dir;
}

Deno.test("FlowFileCache: a reload parses only the file that changed", async () => {
  const dir = await dirOf({ "a.yaml": DEVICE, "b.yaml": POLLS("1s") });
  try {
    const cache = new FlowFileCache();
    const first = await loadFlowsWith(dir, testSources, { cache });
    assert.deepEqual(first.errors, []);
    assert.deepEqual(cache.stats, { parsed: 2, reused: 0 });
    await Deno.writeTextFile(join(dir, "b.yaml"), POLLS("2s"));
    const second = await loadFlowsWith(dir, testSources, { cache });
    assert.deepEqual(cache.stats, { parsed: 3, reused: 1 });
    assert.equal(second.flows?.polls.get("fast")?.everyMs, 2000);
    // Same devices object graph: the unchanged file's entities are the cached ones.
    assert.equal(
      second.flows?.devices.get("plc")?.tags.get("t1")?.config,
      first.flows?.devices.get("plc")?.tags.get("t1")?.config,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FlowFileCache: cross-file errors are found again after an edit elsewhere", async () => {
  const dir = await dirOf({ "a.yaml": DEVICE, "b.yaml": POLLS("1s") });
  try {
    const cache = new FlowFileCache();
    assert.deepEqual((await loadFlowsWith(dir, testSources, { cache })).errors, []);
    // The device is renamed: b.yaml, unchanged and cached, now points at nothing.
    await Deno.writeTextFile(join(dir, "a.yaml"), DEVICE.replace("plc:", "press:"));
    const cached = await loadFlowsWith(dir, testSources, { cache });
    const fresh = await loadFlowsWith(dir, testSources);
    assert.ok(cached.errors.length > 0);
    assert.deepEqual(cached.errors.map(formatIssue), fresh.errors.map(formatIssue));
    assert.match(formatIssue(cached.errors[0]!), /b\.yaml:2:\d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FlowFileCache: an identical rewrite is not parsed again; a deleted file is forgotten", async () => {
  const dir = await dirOf({ "a.yaml": DEVICE, "b.yaml": POLLS("1s") });
  try {
    const cache = new FlowFileCache();
    await loadFlowsWith(dir, testSources, { cache });
    await Deno.utime(join(dir, "a.yaml"), new Date(), new Date(Date.now() + 5000));
    await loadFlowsWith(dir, testSources, { cache });
    assert.deepEqual(cache.stats, { parsed: 2, reused: 2 });
    await Deno.remove(join(dir, "b.yaml"));
    const r = await loadFlowsWith(dir, testSources, { cache });
    assert.deepEqual(r.errors, []);
    assert.equal(r.flows?.polls.size, 0);
    await Deno.writeTextFile(join(dir, "b.yaml"), POLLS("1s"));
    await loadFlowsWith(dir, testSources, { cache });
    assert.equal(cache.stats.parsed, 3, "the file that came back is parsed again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
