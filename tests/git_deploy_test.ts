/**
 * @module
 * `bifrost run --git` against a local bare repository, as an operator sees it: a pushed
 * valid revision is applied live (a function whose code alone changed included); a broken
 * one is rejected with `file:line:column` in the log and in `GET /api/v1/deploy`, and the
 * last good one keeps running; a function that does not compile is rejected the same way;
 * a commit pushed while the gateway is down is deployed after it starts the last good one;
 * after a restart with the repository gone, the last good revision runs again; an
 * unreachable repository or an unknown ref on a first start is a clear failed start.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { bifrost } from "./_cli.ts";
import { FlowRepo, Gateway, gitTest } from "./_git.ts";
import { freePort, startModbusSimulator } from "./fixtures/mod.ts";
import { queryHistory } from "../sinks/sqlite/query.ts";

const flow = (port: number, every: string, db: string) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    tags:
      a: { address: HR0, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: ${every} }
steps:
  gained:
    use: function
    from: fast
    file: ../functions/gain.ts
sinks:
  history: { use: sqlite, from: gained, path: ${db}, flushInterval: 0s }
`;

const gain = (k: number) =>
  `import type { DataRecord } from "bifrost/functions";
export default function (records: DataRecord[]) {
  return records.map((r) => ({ ...r, value: (r.value as number) * ${k} }));
}
`;

interface DeployDoc {
  commit: string;
  lastFetch?: { ok: boolean; error?: string };
  lastAttempt?: { commit: string; result: string; errors: string[] };
}

function lastValue(db: string): number {
  const records = queryHistory(db, {});
  return Number(records.at(-1)?.value);
}

Deno.test(
  gitTest(
    "bifrost run --git applies pushed revisions live, rejects broken ones and runs the last good one offline",
    async () => {
      await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
      const dir = await Deno.makeTempDir({ prefix: "bifrost-git-" });
      try {
        const repo = await FlowRepo.create(dir);
        const db = join(dir, "h.db");
        const c1 = await repo.push({
          "site/flow.yaml": flow(sim.port, "200ms", db),
          "functions/gain.ts": gain(2),
        }, "first");
        const http = `127.0.0.1:${freePort()}`;
        const data = join(dir, "data");
        let c3 = "";
        const args = ["--git", repo.url, "--ref", "main", "--path", "site", "--every", "300ms"];
        {
          await using gw = new Gateway([...args, "--data-dir", data, "--http", http], http);
          const started = await gw.line(/^Running revision from git$/);
          assertEquals(started.commit, c1);
          await gw.until(
            "a value through the function",
            () => gw.msg(/^Device connected/).length > 0,
          );

          // A valid change: applied live.
          const c2 = await repo.push({ "site/flow.yaml": flow(sim.port, "250ms", db) }, "slower");
          const deployed = await gw.line(/^Deployed revision$/);
          assertEquals(deployed.commit, c2);
          assertEquals(deployed.changes, "polls ~fast");
          assertEquals((await gw.get<DeployDoc>("/api/v1/deploy")).commit, c2);

          // Only the function's code changes: the step is changed and restarted.
          c3 = await repo.push({ "functions/gain.ts": gain(3) }, "gain 3");
          const fn = await gw.line(/^Deployed revision$/, 2);
          assertEquals(fn.commit, c3);
          assertEquals(fn.changes, "steps ~gained");
          let v = 0;
          for (let i = 0; i < 100 && v !== 21; i++) {
            try {
              v = lastValue(db);
            } catch {
              v = 0;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
          assertEquals(v, 21, "7 × 3 from the new function code");

          // A broken flow: rejected with file:line:column, c3 keeps running.
          const bad = await repo.push({ "site/flow.yaml": flow(sim.port, "often", db) }, "broken");
          const rejected = await gw.line(/^Revision [0-9a-f]{12} rejected/);
          assertEquals(rejected.commit, bad);
          const errors = rejected.errors as string[];
          assertMatch(errors[0]!, /^site\/flow\.yaml:9:\d+ error: .*every/);
          assert(gw.msg(/flow\.yaml:9:\d+ error: /).length >= 1, "the error line is logged");
          const doc = await gw.get<DeployDoc>("/api/v1/deploy");
          assertEquals(doc.commit, c3);
          assertEquals(doc.lastAttempt?.commit, bad);
          assertEquals(doc.lastAttempt?.result, "rejected");
          assertMatch(doc.lastAttempt!.errors[0]!, /^site\/flow\.yaml:9:\d+ error: /);
          const metrics = await (await fetch(`http://${http}/metrics`)).text();
          assert(metrics.includes(`bifrost_deploy_info{revision="${c3}"`), metrics);
          assert(metrics.includes("bifrost_deploy_rejected_total 1"), metrics);
          const status = await bifrost(["status", "--url", `http://${http}`]);
          assertEquals(status.code, 0, status.err);
          assertMatch(
            status.out,
            new RegExp(`^REVISION .*\n${c3.slice(0, 12)}\\s+main\\s+site`, "m"),
          );
          assertMatch(status.out, /rejected: site\/flow\.yaml:9:\d+ error: /);

          // A function that does not compile: rejected with its file:line:column.
          const c5 = await repo.push({
            "site/flow.yaml": flow(sim.port, "250ms", db),
            "functions/gain.ts":
              "export default function (records) {\n  return records.map((r) => ;\n}\n",
          }, "syntax error");
          const refused = await gw.line(/^Revision [0-9a-f]{12} rejected/, 2);
          assertEquals(refused.commit, c5);
          assertMatch((refused.errors as string[]).join("\n"), /functions\/gain\.ts:2:\d+/);
          assertEquals((await gw.get<DeployDoc>("/api/v1/deploy")).commit, c3);
          assertEquals(await gw.stop(), 0);
        }

        // A commit pushed while the gateway is down: it starts the last good revision (c3),
        // then deploys the new one as a live reload.
        const c6 = await repo.push({
          "site/flow.yaml": flow(sim.port, "300ms", db),
          "functions/gain.ts": gain(3),
        }, "while down");
        {
          await using gw = new Gateway([...args, "--data-dir", data, "--http", http], http);
          assertEquals((await gw.line(/^Running revision from git$/)).commit, c3);
          const later = await gw.line(/^Deployed revision$/);
          assertEquals([later.commit, later.previous, later.changes], [c6, c3, "polls ~fast"]);
          assertEquals(await gw.stop(), 0);
        }

        // Restart with the repository gone: the last good revision (c6) runs again.
        await Deno.rename(repo.url, `${repo.url}.gone`);
        {
          await using gw = new Gateway([...args, "--data-dir", data, "--http", http], http);
          const warned = await gw.line(/: starting the last good revision$/);
          assertMatch(warned.msg, /Cannot fetch "main"/);
          assertEquals((await gw.line(/^Running revision from git$/)).commit, c6);
          await gw.line(/^Device connected/);
          const doc = await gw.get<DeployDoc>("/api/v1/deploy");
          assertEquals(doc.commit, c6);
          assertEquals(doc.lastFetch?.ok, false);
          assertEquals(await gw.stop(), 0);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  ),
);

Deno.test(
  gitTest(
    "bifrost run --git refuses to start with the reason: unreachable repository, unknown ref, a --path leading out, bad options",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "bifrost-git-" });
      try {
        const repo = await FlowRepo.create(dir);
        await repo.push({ "flow.yaml": "devices: {}\n" }, "first");
        const gone = await bifrost([
          "run",
          "--git",
          join(dir, "nowhere.git"),
          "--data-dir",
          join(dir, "d1"),
          "--no-http",
        ]);
        assertEquals(gone.code, 1);
        assertMatch(
          gone.err,
          /Cannot fetch ..main.. from \S*nowhere\.git: fatal: '\S*nowhere\.git' does not appear to be a git repository/,
        );
        assertMatch(gone.err, /no revision of .* was ever deployed here, nothing to run/);
        const ref = await bifrost([
          "run",
          "--git",
          repo.url,
          "--ref",
          "release-9",
          "--data-dir",
          join(dir, "d2"),
          "--no-http",
        ]);
        assertEquals(ref.code, 1);
        assertMatch(ref.err, /couldn't find remote ref release-9/);
        // A --path that a symbolic link in the repository leads elsewhere on the box.
        await Deno.symlink("/etc", join(repo.work, "site"));
        await repo.push({}, "a link out");
        const out = await bifrost([
          "run",
          "--git",
          repo.url,
          "--path",
          "site",
          "--data-dir",
          join(dir, "d3"),
          "--no-http",
        ]);
        assertEquals(out.code, 1);
        assertMatch(
          out.err,
          /Cannot use --path ..site.. at [0-9a-f]{12}: it leads out of the repository/,
        );
        const usage = await bifrost(["run", "flows", "--git", repo.url]);
        assertEquals(usage.code, 2);
        assertMatch(usage.err, /Cannot use a flow directory \("flows"\) with --git/);
        const hookless = await bifrost([
          "run",
          "--git",
          repo.url,
          "--hook-secret-file",
          "x",
          "--no-http",
        ]);
        assertEquals(hookless.code, 2);
        assertMatch(hookless.err, /Cannot use --hook-secret-file with --no-http/);
        const hasty = await bifrost(["run", "--git", repo.url, "--every", "10ms"]);
        assertEquals(hasty.code, 2);
        assertMatch(hasty.err, /Cannot use --every "10ms": at least 100ms/);
        // A token in the URL is never printed.
        const token = await bifrost([
          "run",
          "--git",
          "https://plant:tok3n-s3cret@127.0.0.1:1/flows.git",
          "--data-dir",
          join(dir, "d4"),
          "--no-http",
        ]);
        assertEquals(token.code, 1);
        assertMatch(
          token.err,
          /Cannot fetch ..main.. from https:\/\/\*\*\*@127\.0\.0\.1:1\/flows\.git: /,
        );
        assert(!token.err.includes("tok3n"), token.err);
        const stray = await bifrost(["run", "flows", "--ref", "main"]);
        assertEquals(stray.code, 2);
        assertMatch(stray.err, /Cannot use --ref without --git URL/);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  ),
);
