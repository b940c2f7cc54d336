/** @module Tests of the parts `bifrost run` serves beside the API: public probes, guarded live data. */

import { assert, assertEquals, assertMatch } from "../../tests/_assert.ts";
import { hashToken } from "./auth.ts";
import { liveParts } from "./parts.ts";
import { startTestGateway } from "./_test_gateway.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

const TOKENS = JSON.stringify({
  tokens: [{ id: "prometheus", sha256: hex("scrape-secret"), scopes: ["read"] }],
});

Deno.test("with tokens, probes stay public while /metrics and /ws need the read scope", async () => {
  let parts: ReturnType<typeof liveParts> | undefined;
  await using t = await startTestGateway(
    { tokensEnv: TOKENS },
    { parts: (gateway) => (parts = liveParts(gateway)).mount },
  );
  try {
    assertEquals((await fetch(`${t.http.url}/healthz`)).status, 200);
    const ready = await fetch(`${t.http.url}/readyz`);
    assertEquals(ready.status, 200, await ready.text());

    const anonymous = await fetch(`${t.http.url}/metrics`);
    assertEquals(anonymous.status, 401);
    await anonymous.body?.cancel();
    const scraped = await fetch(`${t.http.url}/metrics`, {
      headers: { authorization: "Bearer scrape-secret" },
    });
    assertEquals(scraped.status, 200);
    const text = await scraped.text();
    assertMatch(text, /^bifrost_device_reads_total\{device="plc"\} [1-9]/m);
    assertMatch(text, /^# TYPE bifrost_process_resident_memory_bytes gauge$/m);

    const ws = await fetch(`${t.http.url}/ws`, { headers: { upgrade: "websocket" } });
    assertEquals(ws.status, 401);
    await ws.body?.cancel();
  } finally {
    parts?.close();
  }
});

Deno.test("without tokens on loopback, the WebSocket serves live values", async () => {
  let parts: ReturnType<typeof liveParts> | undefined;
  await using t = await startTestGateway({}, {
    parts: (gateway) => (parts = liveParts(gateway)).mount,
  });
  const ws = new WebSocket(`${t.http.url.replace(/^http/, "ws")}/ws`);
  try {
    const got = Promise.withResolvers<Record<string, unknown>>();
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data));
      if (m.type === "update" || (m.type === "snapshot" && Object.keys(m.values ?? {}).length)) {
        got.resolve(m);
      }
    };
    ws.onerror = () => got.reject(new Error("WebSocket failed"));
    await new Promise((r) => ws.onopen = r);
    ws.send(JSON.stringify({ type: "subscribe", id: 1, patterns: ["plc/*"] }));
    const m = await got.promise;
    assert(JSON.stringify(m).includes("plc/pressure"), JSON.stringify(m));
  } finally {
    ws.close();
    parts?.close();
  }
});
