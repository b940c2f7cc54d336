/**
 * @module
 * What `run --git` costs and how fast it deploys, side by side in one run, each case a real
 * `bifrost run` subprocess:
 *
 * - resident memory of the same small flow run from a directory (watched) and from git
 *   (median of the `Process stats` lines logged every second, after 6 s of running);
 * - latency of a change: from the edit to "Flows reloaded" for a watched directory (its 300 ms
 *   debounce included), and from `git push` + `POST /hooks/deploy` to "Deployed revision"
 *   for `--git` (fetch, check-out, validation, apply), medians of 5 changes;
 * - the same git deploy on a 10,000-tag flow set (100 devices in 2 files, one file changed).
 *
 * ```sh
 * deno task bench:deploy
 * ```
 */

import { join } from "node:path";
import { FlowRepo, Gateway } from "../../tests/_git.ts";
import { freePort } from "../../tests/fixtures/net.ts";
import { writeFlowSet } from "./validate.ts";

const SECRET = "bench-secret-of-some-length";

const small = (every: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: 1502
    tags:
      a: { address: HR0, type: uint16 }
      b: { address: HR1, type: float32 }
    simulator:
      a: { value: 1 }
      b: { value: 2.5 }
polls:
  fast: { device: plc, tags: "*", every: ${every} }
sinks:
  out: { use: console, from: fast }
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function rss(gw: Gateway): Promise<number> {
  await new Promise((r) => setTimeout(r, 6000));
  const xs = gw.msg(/^Process stats$/).slice(-4).map((l) => Number(l.rss));
  return median(xs) / 2 ** 20;
}

async function hook(http: string, body: string): Promise<void> {
  const { createHmac } = await import("node:crypto");
  const sig = createHmac("sha256", SECRET).update(body).digest("hex");
  const r = await fetch(`http://${http}/hooks/deploy`, {
    method: "POST",
    body,
    headers: { "x-hub-signature-256": `sha256=${sig}` },
  });
  await r.body?.cancel();
}

/** Pushes `n` changes through the webhook; the median ms to "Deployed revision". */
async function gitLatency(
  gw: Gateway,
  repo: FlowRepo,
  http: string,
  change: (i: number) => Record<string, string>,
  n = 5,
): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = gw.msg(/^Deployed revision$/).length;
    await repo.push(change(i), `change ${i}`);
    const t0 = performance.now();
    await hook(http, JSON.stringify({ ref: "refs/heads/main" }));
    await gw.line(/^Deployed revision$/, before + 1, 60_000);
    times.push(performance.now() - t0);
  }
  return median(times);
}

if (import.meta.main) {
  const root = await Deno.makeTempDir({ prefix: "bifrost-bench-deploy-" });
  const env = { BIFROST_STATS_EVERY: "1s" };
  try {
    const out: string[] = [];
    // A watched directory.
    const flows = join(root, "flows");
    await Deno.mkdir(flows);
    await Deno.writeTextFile(join(flows, "flow.yaml"), small("500ms"));
    let dirRss: number;
    let dirMs: number;
    {
      await using gw = new Gateway(
        [flows, "--simulate", "--data-dir", join(root, "d0"), "--http", `127.0.0.1:${freePort()}`],
        undefined,
        env,
      );
      await gw.line(/^Watching the flow directory/);
      dirRss = await rss(gw);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await Deno.writeTextFile(join(flows, "flow.yaml"), small(`${510 + i * 10}ms`));
        await gw.line(/^Flows reloaded$/, i + 1, 60_000);
        times.push(performance.now() - t0);
      }
      dirMs = median(times);
    }
    // The same flow from git.
    const repo = await FlowRepo.create(join(root, "repo"));
    await repo.push({ "flow.yaml": small("500ms") });
    await Deno.writeTextFile(join(root, "secret"), SECRET);
    const http = `127.0.0.1:${freePort()}`;
    let gitRss: number;
    let gitMs: number;
    {
      await using gw = new Gateway(
        [
          "--git",
          repo.url,
          "--every",
          "1h",
          "--hook-secret-file",
          join(root, "secret"),
          "--simulate",
          "--data-dir",
          join(root, "d1"),
          "--http",
          http,
        ],
        http,
        env,
      );
      await gw.line(/^Running revision from git$/);
      gitRss = await rss(gw);
      gitMs = await gitLatency(
        gw,
        repo,
        http,
        (i) => ({ "flow.yaml": small(`${510 + i * 10}ms`) }),
      );
    }
    // 10,000 tags from git, one of two files changed.
    const big = join(root, "big");
    await writeFlowSet(big, 100, 100, 50);
    const files = [...Deno.readDirSync(big)].map((e) => e.name).sort();
    const bigRepo = await FlowRepo.create(join(root, "big-repo"));
    const texts = Object.fromEntries(
      files.map((f) => [f, Deno.readTextFileSync(join(big, f))]),
    );
    await bigRepo.push(texts);
    const http2 = `127.0.0.1:${freePort()}`;
    let bigMs: number;
    {
      await using gw = new Gateway(
        [
          "--git",
          bigRepo.url,
          "--every",
          "1h",
          "--hook-secret-file",
          join(root, "secret"),
          "--data-dir",
          join(root, "d2"),
          "--http",
          http2,
        ],
        http2,
        { BIFROST_LOG_LEVEL: "info" },
      );
      await gw.line(/^Running revision from git$/, 1, 120_000);
      const first = files[0]!;
      bigMs = await gitLatency(gw, bigRepo, http2, (i) => ({
        [first]: texts[first]!.replace(/every: 10s/, `every: ${11 + i}s`),
      }));
    }
    out.push("case                                             median");
    out.push(`RSS, watched directory (1 device)               ${dirRss.toFixed(1)} MB`);
    out.push(
      `RSS, --git (same flow)                           ${gitRss.toFixed(1)} MB  (${
        (gitRss - dirRss).toFixed(1)
      } MB more, ratio ${(gitRss / dirRss).toFixed(2)})`,
    );
    out.push(
      `edit -> "Flows reloaded", watched directory     ${
        dirMs.toFixed(0)
      } ms (300 ms debounce included)`,
    );
    out.push(
      `push + webhook -> "Deployed revision"           ${gitMs.toFixed(0)} ms (ratio ${
        (gitMs / dirMs).toFixed(2)
      } to the watched edit)`,
    );
    out.push(`same, 10,000 tags (1 of 2 files changed)        ${bigMs.toFixed(0)} ms`);
    console.log(out.join("\n"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}
