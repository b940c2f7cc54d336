/**
 * @module
 * `bifrost run --git` driven by its webhook (`POST /hooks/deploy`, fetch interval 1 h):
 * GitHub-, Gitea- and GitLab-shaped requests deploy at once; a wrong signature is refused
 * and an address that keeps failing is rate-limited; a push to a sink's URL delivers the
 * sink's durable backlog to the new URL (a real HTTP receiver, every sequence number once,
 * none missing); a revision whose `required` device does not connect within
 * `--deploy-timeout` is rolled back to the last good one.
 */

import { createHmac } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { FlowRepo, Gateway, gitTest } from "./_git.ts";
import { freePort, startModbusSimulator } from "./fixtures/mod.ts";
import { queryHistory } from "../sinks/sqlite/query.ts";

const SECRET = "s3cret-shared-with-the-git-server";

const flow = (o: { port: number; url: string; db: string; extra?: string }) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${o.port}
    tags:
      a: { address: HR0, type: uint16 }
${o.extra ?? ""}polls:
  fast: { device: plc, tags: "*", every: 100ms }
sinks:
  ref: { use: sqlite, from: fast, path: ${o.db}, flushInterval: 0s }
  out: { use: http, from: fast, url: "${o.url}", timeout: 1s }
`;

interface Stats {
  sinks: Record<string, { counters: Record<string, number> }>;
}

interface DeployDoc {
  commit: string;
  lastAttempt?: { commit: string; result: string; errors: string[] };
}

Deno.test(
  gitTest(
    "the deploy webhook deploys at once; a sink's new URL gets its backlog; a required device that stays down rolls back",
    async () => {
      await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
      const dir = await Deno.makeTempDir({ prefix: "bifrost-git-hooks-" });
      // The receiver the sink is moved to: every record's seq, in arrival order.
      const seqs: number[] = [];
      const receiver = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen: () => {} },
        async (req) => {
          const body = await req.json() as { records: { seq: number }[] };
          for (const r of body.records) seqs.push(r.seq);
          return new Response(null, { status: 204 });
        },
      );
      try {
        const repo = await FlowRepo.create(dir);
        const db = join(dir, "ref.db");
        const dead = `http://127.0.0.1:${freePort()}/ingest`;
        const live = `http://127.0.0.1:${receiver.addr.port}/ingest`;
        const c1 = await repo.push({ "site/flow.yaml": flow({ port: sim.port, url: dead, db }) });
        await Deno.writeTextFile(join(dir, "hook-secret"), SECRET + "\n");
        const http = `127.0.0.1:${freePort()}`;
        const hook = `http://${http}/hooks/deploy`;
        await using gw = new Gateway([
          "--git",
          repo.url,
          "--path",
          "site",
          "--every",
          "1h",
          "--deploy-timeout",
          "2s",
          "--hook-secret-file",
          join(dir, "hook-secret"),
          "--data-dir",
          join(dir, "data"),
          "--http",
          http,
        ], http);
        assertEquals((await gw.line(/^Running revision from git$/)).commit, c1);
        // A backlog builds up for the dead URL.
        for (let i = 0; i < 200; i++) {
          const s = await gw.get<Stats>("/api/v1/stats");
          if ((s.sinks.out?.counters.depth ?? 0) >= 20) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const backlog = (await gw.get<Stats>("/api/v1/stats")).sinks.out!.counters.depth!;
        assert(backlog >= 20, `backlog ${backlog}`);

        const push = (body: string, headers: Record<string, string>) =>
          fetch(hook, {
            method: "POST",
            body,
            headers: { "content-type": "application/json", ...headers },
          })
            .then(async (r) => ({ status: r.status, body: await r.json() }));
        const sign = (body: string) => createHmac("sha256", SECRET).update(body).digest("hex");

        // A wrong signature is refused, and does not deploy.
        const forged = JSON.stringify({ ref: "refs/heads/main" });
        const refused = await push(forged, { "x-hub-signature-256": `sha256=${sign("other")}` });
        assertEquals(refused.status, 401);
        assertMatch(refused.body.error.message, /X-Hub-Signature-256 does not match/);

        // GitHub shape: the sink's URL moves to the live receiver.
        const c2 = await repo.push({ "site/flow.yaml": flow({ port: sim.port, url: live, db }) });
        const gh = JSON.stringify({ ref: "refs/heads/main", after: c2 });
        const accepted = await push(gh, {
          "x-github-event": "push",
          "x-hub-signature-256": `sha256=${sign(gh)}`,
        });
        assertEquals(accepted.status, 202, JSON.stringify(accepted.body));
        const deployed = await gw.line(/^Deployed revision$/);
        assertEquals(deployed.commit, c2);
        assertEquals(deployed.changes, "sinks ~out");
        // Every record the reference sink holds reaches the receiver, the backlog first.
        await gw.until("the backlog at the receiver", () => {
          const ref = queryHistory(db, {});
          return ref.length > backlog && seqs.length >= ref.length;
        });
        const ref = queryHistory(db, {}).map((r) => r.seq);
        const got = new Set(seqs);
        const missing = ref.filter((s) => !got.has(s));
        assertEquals(missing, [], "every record of the backlog and after reaches the new URL");
        assertEquals(seqs.length, got.size, "none twice");
        assertEquals(seqs[0], ref[0], "the backlog is delivered first, in order");

        // GitLab shape, a push to another branch: answered, ignored.
        const other = JSON.stringify({ ref: "refs/heads/feature-x" });
        const ignored = await push(other, { "x-gitlab-token": SECRET });
        assertEquals(ignored.status, 200);
        assertEquals(ignored.body.deploy, false);

        // Gitea shape: a revision adding a required device that never connects is rolled back.
        const c3 = await repo.push({
          "site/flow.yaml": flow({
            port: sim.port,
            url: live,
            db,
            extra: `  spare:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${freePort()}
    required: true
    tags:
      b: { address: HR1, type: uint16 }
`,
          }),
        });
        const gitea = JSON.stringify({ ref: "refs/heads/main", after: c3 });
        assertEquals((await push(gitea, { "x-gitea-signature": sign(gitea) })).status, 202);
        const rolled = await gw.line(/^Revision [0-9a-f]{12} rolled back/);
        assertEquals(rolled.commit, c3);
        assertMatch(
          (rolled.errors as string[])[0]!,
          /^required device "spare" did not connect within 2 s/,
        );
        await gw.line(/^Flows reloaded$/, 3);
        const doc = await gw.get<DeployDoc>("/api/v1/deploy");
        assertEquals(doc.commit, c2);
        assertEquals(doc.lastAttempt?.result, "rolled-back");
        const devices = await gw.get<{ devices: { name: string }[] }>("/api/v1/devices");
        assertEquals(devices.devices.map((d) => d.name), ["plc"]);
        const metrics = await (await fetch(`http://${http}/metrics`)).text();
        assert(metrics.includes("bifrost_deploy_rolled_back_total 1"), metrics);
        assert(metrics.includes('bifrost_deploy_webhooks_total{result="accepted"} 2'), metrics);
        assert(metrics.includes('bifrost_deploy_webhooks_total{result="unauthorized"} 1'), metrics);

        // Failing again and again from one address: 429.
        const statuses: number[] = [];
        for (let i = 0; i < 6; i++) {
          statuses.push((await push(forged, { "x-gitlab-token": "guess" })).status);
        }
        assertEquals(statuses, [401, 401, 401, 401, 429, 429]);
        assertEquals(await gw.stop(), 0);
      } finally {
        await receiver.shutdown();
        await Deno.remove(dir, { recursive: true });
      }
    },
  ),
);
