/**
 * @module
 * A full disk under `bifrost run --git`: the data directory is a tmpfs of 4 MB (mounted by
 * the test, which needs root; skipped by name otherwise), and a revision brings an 8 MB file.
 * The fetch fails with "No space left on device" in the log and the status, the running
 * revision carries on, and once the file is gone from the repository the next revision
 * deploys.
 */

import { join } from "node:path";
import { assertEquals, assertMatch } from "./_assert.ts";
import { FlowRepo, Gateway, gitMissing } from "./_git.ts";
import { freePort } from "./fixtures/mod.ts";

async function mountTmpfs(dir: string, size: string): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "needs root to mount a tmpfs";
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success
      ? undefined
      : `mount -t tmpfs failed: ${new TextDecoder().decode(out.stderr).trim()}`;
  } catch (e) {
    return `mount is not available: ${e}`;
  }
}

const flow = (every: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: 1502
    tags:
      a: { address: HR0, type: uint16 }
    simulator:
      a: { value: 1 }
polls:
  fast: { device: plc, tags: "*", every: ${every} }
sinks:
  out: { use: console, from: fast }
`;

// Probed once, when the module loads: the test's name says why it is skipped.
const probe = gitMissing() ?? await (async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-tmpfs-probe-" });
  const why = await mountTmpfs(dir, "1m");
  if (why === undefined) await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir);
  return why;
})();

Deno.test({
  name: probe === undefined
    ? "a full disk fails the fetch with its reason and the running revision carries on"
    : `a full disk fails the fetch with its reason and the running revision carries on (skipped: ${probe})`,
  ignore: probe !== undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bifrost-git-full-" });
    const data = join(dir, "data");
    await Deno.mkdir(data);
    let mounted = false;
    try {
      const why = await mountTmpfs(data, "4m");
      if (why) throw new Error(why);
      mounted = true;
      const repo = await FlowRepo.create(dir);
      const c1 = await repo.push({ "flow.yaml": flow("200ms") }, "first");
      const http = `127.0.0.1:${freePort()}`;
      await using gw = new Gateway([
        "--git",
        repo.url,
        "--every",
        "300ms",
        "--data-dir",
        data,
        "--simulate",
        "--http",
        http,
      ], http);
      assertEquals((await gw.line(/^Running revision from git$/)).commit, c1);
      const big = crypto.getRandomValues(new Uint8Array(65536));
      const blob = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < blob.length; i += big.length) {
        crypto.getRandomValues(big);
        blob.set(big.subarray(0, Math.min(big.length, blob.length - i)), i);
      }
      await repo.push({ "flow.yaml": flow("250ms"), "firmware.bin": blob }, "big file");
      const failed = await gw.line(/carries on$/);
      assertMatch(failed.msg, /Cannot fetch "main" from .*No space left on device/);
      const doc = await gw.get<{ commit: string; lastFetch: { ok: boolean; error: string } }>(
        "/api/v1/deploy",
      );
      assertEquals(doc.commit, c1);
      assertEquals(doc.lastFetch.ok, false);
      assertMatch(doc.lastFetch.error, /No space left on device/);
      const devices = await gw.get<{ devices: { state: string }[] }>("/api/v1/devices");
      assertEquals(devices.devices[0]?.state, "connected");
      // The file leaves the repository: the next revision fits and deploys.
      const c3 = await repo.push({ "firmware.bin": null }, "without the big file");
      assertEquals((await gw.line(/^Deployed revision$/)).commit, c3);
      assertEquals(await gw.stop(), 0);
    } finally {
      if (mounted) await new Deno.Command("umount", { args: ["-l", data] }).output();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
