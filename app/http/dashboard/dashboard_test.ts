/**
 * @module
 * Tests of the dashboard's server side: its files (embedded, gzip, ETag, CSP), the flow
 * graph route, the WebSocket token a browser sends as a subprotocol, and the refusal of
 * state-changing requests from a foreign Origin (CSRF on a loopback gateway). The page
 * itself runs in Chromium in `tests/e2e/dashboard_test.ts`.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { hashToken } from "../auth.ts";
import { liveParts } from "../parts.ts";
import { call, startTestGateway } from "../_test_gateway.ts";
import { foreignOrigin } from "../api.ts";

const hex = (s: string) =>
  Array.from(hashToken(s), (b) => b.toString(16).padStart(2, "0")).join("");

async function withParts(
  options: Parameters<typeof startTestGateway>[0],
  fn: (t: Awaited<ReturnType<typeof startTestGateway>>) => Promise<void>,
) {
  let parts: ReturnType<typeof liveParts> | undefined;
  await using t = await startTestGateway(options, {
    parts: (gateway) => (parts = liveParts(gateway)).mount,
  });
  try {
    await fn(t);
  } finally {
    parts?.close();
  }
}

Deno.test("the dashboard's files are served from memory, gzipped, with ETag and a CSP", async () => {
  await withParts({}, async (t) => {
    const root = await fetch(`${t.http.url}/`, { redirect: "manual" });
    assertEquals(root.status, 302);
    assertEquals(root.headers.get("location"), "/dashboard/");
    await root.body?.cancel();

    const page = await fetch(`${t.http.url}/dashboard/`);
    assertEquals(page.status, 200);
    assertMatch(page.headers.get("content-type")!, /^text\/html/);
    assertMatch(page.headers.get("content-security-policy")!, /script-src 'self';/);
    assertMatch(page.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
    const html = await page.text();
    for (const f of ["uplot.js", "uplot.css", "app.js", "app.css"]) assert(html.includes(f), f);

    // fetch asks for gzip and decodes it: the body is uPlot's, the header says gzip.
    const js = await fetch(`${t.http.url}/dashboard/uplot.js`);
    assertEquals(js.headers.get("content-encoding"), "gzip");
    assertMatch(js.headers.get("content-type")!, /^text\/javascript/);
    const etag = js.headers.get("etag")!;
    const text = await js.text();
    assert(text.length > 40_000 && text.includes("uPlot"), `uplot.js: ${text.length} chars`);
    const again = await fetch(`${t.http.url}/dashboard/uplot.js`, {
      headers: { "if-none-match": etag },
    });
    assertEquals(again.status, 304);
    await again.body?.cancel();
    const plain = await fetch(`${t.http.url}/dashboard/app.js`, {
      headers: { "accept-encoding": "identity" },
    });
    assertEquals(plain.headers.get("content-encoding"), null);
    assertMatch(await plain.text(), /from "\.\/api\.js"/);

    const none = await fetch(`${t.http.url}/dashboard/nope.js`);
    assertEquals(none.status, 404);
    await none.body?.cancel();
  });
});

Deno.test("GET /api/v1/graph links devices to polls and polls to sinks", async () => {
  await withParts({}, async (t) => {
    const r = await call(`${t.api}/graph`);
    assertEquals(r.status, 200);
    assertEquals(r.body.nodes, [
      { id: "device:plc", kind: "device", name: "plc", use: "modbus-tcp" },
      { id: "poll:fast", kind: "poll", name: "fast" },
      { id: "sink:history", kind: "sink", name: "history", use: "sqlite" },
    ]);
    assertEquals(r.body.edges, [
      { from: "device:plc", to: "poll:fast" },
      { from: "poll:fast", to: "sink:history" },
    ]);
    const doc = await call(`${t.api}/openapi.json`);
    assert(doc.body.paths["/api/v1/graph"]?.get, "the graph route is in the OpenAPI document");
  });
});

Deno.test("a browser's WebSocket carries its token as a subprotocol, never echoed", async () => {
  const tokensEnv = JSON.stringify({
    tokens: [{ id: "screen", sha256: hex("screen-secret"), scopes: ["read"] }],
  });
  await withParts({ tokensEnv }, async (t) => {
    const url = `${t.http.url.replace(/^http/, "ws")}/ws`;
    const refused = await fetch(`${t.http.url}/ws`, {
      headers: { upgrade: "websocket", "sec-websocket-protocol": "bifrost, bearer.wrong" },
    });
    assertEquals(refused.status, 401);
    await refused.body?.cancel();

    const ws = new WebSocket(url, ["bifrost", "bearer.screen-secret"]);
    const first = new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("the WebSocket failed"));
    });
    await new Promise((r) => (ws.onopen = r));
    assertEquals(ws.protocol, "bifrost");
    ws.send(JSON.stringify({ type: "subscribe", patterns: ["plc/*"], id: 1 }));
    const snap = JSON.parse(await first);
    assertEquals(snap.type, "snapshot");
    assertEquals(snap.tags, 4);
    const closed = new Promise((r) => (ws.onclose = r));
    ws.close();
    await closed;
  });
});

Deno.test("writes and WebSockets from a foreign Origin are refused; the gateway's own pass", async () => {
  await withParts({}, async (t) => {
    const host = new URL(t.http.url).host;
    const write = (origin?: string) =>
      fetch(`${t.api}/write`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(origin ? { origin } : {}) },
        body: JSON.stringify({ device: "plc", tag: "mode", value: 3 }),
      });
    const evil = await write("http://evil.example");
    assertEquals(evil.status, 403);
    assertMatch((await evil.json()).error.message, /Origin http:\/\/evil\.example is not this/);
    assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 7, "nothing written");

    const ws = await fetch(`${t.http.url}/ws`, {
      headers: { upgrade: "websocket", origin: "http://evil.example" },
    });
    assertEquals(ws.status, 403);
    await ws.body?.cancel();

    // A page of the gateway itself, and a script without Origin, may write.
    const own = await write(`http://${host}`);
    assertEquals(own.status, 200, await own.text());
    assertEquals(t.sim.getValue("HR3", { type: "uint16" }), 3);
    const script = await write();
    assertEquals(script.status, 200);
    await script.body?.cancel();
    // Reads are not refused: without CORS a foreign page cannot see their answer anyway.
    const read = await fetch(`${t.api}/tags`, { headers: { origin: "http://evil.example" } });
    assertEquals(read.status, 200);
    await read.body?.cancel();
  });
});

Deno.test("foreignOrigin allows origins given with --cors", () => {
  const req = (origin: string, method = "POST") =>
    new Request("http://127.0.0.1:8720/api/v1/write", {
      method,
      headers: { origin, host: "127.0.0.1:8720" },
    });
  assertEquals(foreignOrigin(req("http://127.0.0.1:8720"), []), undefined);
  assertEquals(foreignOrigin(req("http://localhost:8720"), []), "http://localhost:8720");
  assertEquals(foreignOrigin(req("https://scada.plant"), ["https://scada.plant"]), undefined);
  assertEquals(foreignOrigin(req("null"), []), "null");
  assertEquals(foreignOrigin(req("https://x.example", "GET"), []), undefined);
});
