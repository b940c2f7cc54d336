/**
 * @module
 * The deploy webhook's request shapes and refusals, through its Hono app (the end-to-end
 * test, `tests/git_deploy_hooks_test.ts`, drives it through a running gateway); that a
 * trigger cannot shadow it, at run time (it is mounted first) and at `bifrost check`.
 */

import { createHmac } from "node:crypto";
import { join } from "node:path";
import { Hono } from "hono";
import { assert, assertEquals, assertMatch } from "../../tests/_assert.ts";
import { systemClock } from "../../engine/clock.ts";
import { nullLogger } from "../../engine/log.ts";
import { formatIssue, loadFlows } from "../../engine/flow/mod.ts";
import { registries } from "../registries.ts";
import { deployHookApp, MAX_HOOK_BYTES, sameRef } from "./webhook.ts";

const SECRET = "a-shared-secret-of-some-length";

function hook(o: { secret?: string } = { secret: SECRET }) {
  let triggered = 0;
  const app = deployHookApp({
    ...o,
    ref: "main",
    trigger: () => triggered++,
    clock: systemClock,
    log: nullLogger,
  });
  const post = async (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) => {
    const res = await app.fetch(
      new Request("http://gw/hooks/deploy", { method: "POST", body, headers }),
      { remoteAddr: { hostname: "10.0.0.9" } },
    );
    return { status: res.status, body: await res.json() };
  };
  return { app, post, triggered: () => triggered };
}

const sign = (body: string, secret = SECRET) =>
  createHmac("sha256", secret).update(body).digest("hex");

Deno.test("the webhook takes GitHub, Gitea and GitLab requests signed with the shared secret", async () => {
  const h = hook();
  const body = JSON.stringify({ ref: "refs/heads/main" });
  assertEquals((await h.post(body, { "x-hub-signature-256": `sha256=${sign(body)}` })).status, 202);
  assertEquals((await h.post(body, { "x-gitea-signature": sign(body) })).status, 202);
  assertEquals((await h.post(body, { "x-gogs-signature": sign(body) })).status, 202);
  assertEquals((await h.post(body, { "x-gitlab-token": SECRET })).status, 202);
  assertEquals(h.triggered(), 4);
  // A ping, and a push of a tag of the same name, or of another branch.
  const ping = await h.post("{}", {
    "x-github-event": "ping",
    "x-hub-signature-256": `sha256=${sign("{}")}`,
  });
  assertEquals(ping, { status: 200, body: { deploy: false, pong: true } });
  const other = JSON.stringify({ ref: "refs/heads/dev" });
  const ignored = await h.post(other, { "x-gitlab-token": SECRET });
  assertEquals(ignored.status, 200);
  assertEquals(ignored.body.reason, "push to refs/heads/dev, not to main");
  assertEquals(h.triggered(), 4);
  assert(sameRef("refs/tags/main", "main") && sameRef("main", "main"));
  assert(!sameRef("refs/heads/main-2", "main"));
});

Deno.test("the webhook refuses a wrong or missing signature, limits failures and large bodies", async () => {
  const h = hook();
  const body = JSON.stringify({ ref: "refs/heads/main" });
  const r1 = await h.post(body, { "x-hub-signature-256": `sha256=${sign(body, "guess")}` });
  assertEquals(r1.status, 401);
  assertMatch(r1.body.error.message, /X-Hub-Signature-256 does not match/);
  const r2 = await h.post(body, {});
  assertEquals(r2.status, 401);
  assertMatch(r2.body.error.message, /missing signature/);
  const r3 = await h.post(body, { "x-gitlab-token": SECRET.slice(0, -1) });
  assertMatch(r3.body.error.message, /X-Gitlab-Token is not the shared secret/);
  const r4 = await h.post(body, { "x-gitea-signature": sign(body).replace(/.$/, "0") });
  assertEquals(r4.status, 401);
  assertEquals((await h.post(body, { "x-gitlab-token": "x" })).status, 401);
  // Five failures in a minute from one address: the right secret waits too.
  const limited = await h.post(body, { "x-gitlab-token": SECRET });
  assertEquals(limited.status, 429);
  assertMatch(limited.body.error.message, /Too many failed webhook attempts from 10\.0\.0\.9/);
  assertEquals(h.triggered(), 0);
  const big = hook();
  const r5 = await big.post(new Uint8Array(MAX_HOOK_BYTES + 1), { "x-gitlab-token": SECRET });
  assertEquals(r5.status, 413);
  const off = hook({});
  const r6 = await off.post(body, { "x-gitlab-token": SECRET });
  assertEquals(r6.status, 404);
  assertMatch(r6.body.error.message, /--hook-secret-file/);
});

Deno.test("a trigger cannot shadow the webhook: mounted first at run time, refused by check", async () => {
  const h = hook();
  // What serve.ts does: the live parts (the webhook among them) before the triggers' part.
  const triggers = new Hono().post("/hooks/:name", (c) => c.json({ trigger: true }));
  const app = new Hono().route("/", h.app).route("/", triggers);
  const body = "{}";
  const res = await app.fetch(
    new Request("http://gw/hooks/deploy", {
      method: "POST",
      body,
      headers: { "x-gitlab-token": SECRET },
    }),
    { remoteAddr: { hostname: "10.0.0.1" } },
  );
  assertEquals(res.status, 202);
  assertEquals(await res.json(), { deploy: true });

  const dir = await Deno.makeTempDir({ prefix: "bifrost-hook-check-" });
  try {
    await Deno.writeTextFile(join(dir, "fn.ts"), "export default () => ({ status: 200 });\n");
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `triggers:
  catch-all:
    http: { method: POST, path: /hooks/:name }
    function: fn.ts
  exact:
    http: { method: POST, path: /hooks/deploy }
    function: fn.ts
  reading:
    http: { method: GET, path: /hooks/:name }
    function: fn.ts
`,
    );
    const r = await loadFlows(dir, { env: {}, sources: registries, typeCheck: false });
    const lines = r.errors.map(formatIssue).filter((l) => /hooks/.test(l));
    assertEquals(lines.length, 2, lines.join("\n"));
    assertMatch(
      lines[0]!,
      /flow\.yaml:3:33 error: trigger "catch-all" POST "\/hooks\/:name" would also answer POST \/hooks\/deploy/,
    );
    assertMatch(
      lines[1]!,
      /flow\.yaml:6:33 error: trigger "exact" path "\/hooks\/deploy" is \/hooks\/deploy/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
