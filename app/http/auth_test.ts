/**
 * @module
 * Token documents, constant-time lookup, scopes and the per-address failure limit.
 */

import { assert, assertEquals, assertRejects } from "../../tests/_assert.ts";
import { ManualClock } from "../../engine/clock.ts";
import { allows, FailureLimiter, hashToken, parseTokens, TokenStore } from "./auth.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("parseTokens reads YAML or JSON and keeps only hashes", async () => {
  const yaml = `tokens:\n  - id: scada\n    sha256: ${
    hex("s3cret")
  }\n    scopes: [read, "trigger:reset"]\n`;
  const [t] = await parseTokens(yaml, "tokens.yaml");
  assertEquals([t!.id, [...t!.scopes]], ["scada", ["read", "trigger:reset"]]);
  assert(!JSON.stringify({ ...t, hash: [...t!.hash] }).includes("s3cret"));
  const json = JSON.stringify({ tokens: [{ id: "a", sha256: hex("x"), scopes: ["admin"] }] });
  assertEquals((await parseTokens(json, "env")).length, 1);
});

Deno.test("parseTokens names the entry and field at fault", async () => {
  const h = hex("x");
  const cases: [string, RegExp][] = [
    ["tokens: []", /at \/tokens: expected a non-empty list/],
    [
      `tokens: [{ id: a, sha256: ${h}, scopes: [root] }]`,
      /at \/tokens\/0\/scopes\/0: unknown scope "root"/,
    ],
    [
      `tokens: [{ id: a, sha256: ${h}, scopes: [read] }, { id: a, sha256: ${h}, scopes: [read] }]`,
      /at \/tokens\/1\/id: duplicate token id "a"/,
    ],
    [
      "tokens: [{ id: a, sha256: plain, scopes: [read] }]",
      /at \/tokens\/0\/sha256: expected 64 hex digits/,
    ],
    ["{ bad json", /Cannot parse API tokens in f/],
  ];
  for (const [text, message] of cases) await assertRejects(() => parseTokens(text, "f"), message);
});

Deno.test("TokenStore finds a token by what the client presents; scopes: admin covers all, write covers read", async () => {
  const tokens = await parseTokens(
    JSON.stringify({
      tokens: [
        { id: "w", sha256: hex("write-me"), scopes: ["write"] },
        { id: "r", sha256: hex("read-me"), scopes: ["read"] },
        { id: "adm", sha256: hex("admin-me"), scopes: ["admin"] },
      ],
    }),
    "t",
  );
  const store = new TokenStore(tokens);
  assertEquals(store.verify("read-me")?.id, "r");
  assertEquals(store.verify("read-m"), undefined);
  const [w, r, adm] = tokens;
  assertEquals([allows(w!, "read"), allows(w!, "write"), allows(w!, "admin")], [true, true, false]);
  assertEquals([allows(r!, "read"), allows(r!, "write")], [true, false]);
  assertEquals([allows(adm!, "admin"), allows(adm!, "trigger:x")], [true, true]);
});

Deno.test("FailureLimiter blocks an address after 5 failures until its window ends", async () => {
  const clock = new ManualClock();
  const l = new FailureLimiter({ clock, maxFailures: 5, windowMs: 60_000 });
  for (let i = 0; i < 4; i++) l.fail("10.0.0.9");
  assertEquals(l.retryAfter("10.0.0.9"), 0);
  l.fail("10.0.0.9");
  assertEquals(l.retryAfter("10.0.0.9"), 60);
  assertEquals(l.retryAfter("10.0.0.10"), 0);
  await clock.advance(59_500);
  assertEquals(l.retryAfter("10.0.0.9"), 1);
  await clock.advance(500);
  assertEquals(l.retryAfter("10.0.0.9"), 0);
});
