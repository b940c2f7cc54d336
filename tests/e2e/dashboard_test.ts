/**
 * @module
 * The dashboard end to end in a real headless Chromium (Debian's `chromium` driven by
 * playwright-core): a gateway polls the Modbus simulator with SQLite history and API tokens;
 * the page asks for a token, shows the simulator's changing value live, draws the trend
 * from the history API, draws the flow graph, refuses a write with a read-only token and
 * sends it with a token that may write; the simulator holds the value written and the page's
 * recent writes show it.
 *
 * Needs `/usr/bin/chromium` (or `CHROMIUM`); without it the test reports itself skipped,
 * by name and reason.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { assert, assertEquals } from "../_assert.ts";
import { hashToken } from "../../app/http/auth.ts";
import { liveParts } from "../../app/http/parts.ts";
import { startTestGateway } from "../../app/http/_test_gateway.ts";
import { startHttp } from "../../app/http/serve.ts";
import { registries } from "../../app/registries.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import { loadFlows } from "../../engine/flow/mod.ts";
import { nullLogger } from "../../engine/log.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";

const NAME = "dashboard: live value, trend, flow graph and a write with a token, in Chromium";
const CHROMIUM = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  .find((p) => p && existsSync(p));
const missing = CHROMIUM ? undefined : "no Chromium (apt-get install chromium, or set CHROMIUM)";

const hex = (t: string) =>
  Array.from(hashToken(t), (b) => b.toString(16).padStart(2, "0")).join("");
const VIEWER = "viewer-token-0123456789";
const OPERATOR = "operator-token-9876543210";

Deno.test({
  name: missing ? `${NAME} (skipped: ${missing})` : NAME,
  ignore: missing !== undefined,
  // Chromium's pipes and the gateway's pollers outlive single steps; everything is closed
  // at the end.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bifrost-dash-" });
    const tokensFile = join(dir, "tokens.yaml");
    await Deno.writeTextFile(
      tokensFile,
      `tokens:
  - { id: viewer, sha256: ${hex(VIEWER)}, scopes: [read] }
  - { id: operator, sha256: ${hex(OPERATOR)}, scopes: [admin] }
`,
    );
    let parts: ReturnType<typeof liveParts> | undefined;
    await using t = await startTestGateway({ tokensFile }, {
      parts: (gateway) => (parts = liveParts(gateway)).mount,
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const errors: string[] = [];
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      page.on("pageerror", (e) => errors.push(e.message));
      // 401 and 403 are how the gateway asks for a token: the browser logs them, expectedly.
      page.on("response", (r) => {
        if (r.status() >= 400 && r.status() !== 401 && r.status() !== 403) {
          errors.push(`${r.status()} ${r.url()}`);
        }
      });
      page.on("console", (m) => {
        if (m.type() === "error" && !/status of 40[13]/.test(m.text())) errors.push(m.text());
      });
      await page.goto(`${t.http.url}/`);
      assertEquals(new URL(page.url()).pathname, "/dashboard/");

      // Tokens are configured: the page asks for one before it shows anything.
      const dialog = page.locator("#token-dialog");
      await dialog.waitFor({ state: "visible" });
      assert((await page.locator("#token-why").textContent())!.includes("needs an API token"));
      await page.fill("#token-input", VIEWER);
      await page.click("#token-ok");

      // The simulator's value, live over the WebSocket, and a change of it.
      const pressure = page.locator('tr[data-tag="plc/pressure"] td.value');
      await page.waitForFunction(() =>
        (globalThis as { bifrost?: { wsOpen: boolean } }).bifrost?.wsOpen
      );
      await assertText(pressure, "1234");
      t.sim.setValue("HR2", 4321, { type: "int16" });
      await assertText(pressure, "4321");
      t.sim.setValue("HR2", -17, { type: "int16" });
      await assertText(pressure, "-17");
      await assertText(page.locator('tr[data-device="plc"] td.state'), "connected");

      // The trend of the first numeric tag (plc/setpoint) from the history sink.
      await page.waitForFunction(() => {
        const p = (globalThis as { bifrost?: { trend: { plot?: { data: unknown[][] } } } })
          .bifrost?.trend.plot;
        return (p?.data[1]?.filter((v) => v !== null).length ?? 0) >= 2;
      });
      // Inked pixels of the chart's canvas (a string: the test has no DOM types).
      const inked = await page.evaluate(`(() => {
        const c = document.querySelector("#trend canvas");
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
        return { n, w: c.width, h: c.height };
      })()`) as { n: number; w: number; h: number };
      assert(inked.n > 100, `the trend canvas (${inked.w}×${inked.h}) has ${inked.n} inked pixels`);
      assert((await page.textContent("#trend-info"))!.includes('from sink "history"'));

      // The flow graph: the device feeds the poll, the poll the history sink.
      await page.locator('#graph [data-node="sink:history"]').waitFor();
      assertEquals(await page.locator('#graph [data-edge="device:plc>poll:fast"]').count(), 1);
      assertEquals(await page.locator('#graph [data-edge="poll:fast>sink:history"]').count(), 1);
      await assertText(page.locator('#sinks tr[data-sink="history"] td:nth-child(2)'), "sqlite");

      // A write with the read-only token is refused: the page asks for another token.
      const row = page.locator('tr[data-tag="plc/setpoint"]');
      await row.locator("input").fill("42.5");
      await row.locator("button").click();
      await dialog.waitFor({ state: "visible" });
      assert(
        (await page.locator("#token-why").textContent())!.includes('lacks the scope "write"'),
        await page.locator("#token-why").textContent() ?? "",
      );
      assertEquals(t.sim.getValue("HR0", { type: "float32" }), 20.5);
      await page.fill("#token-input", OPERATOR);
      await page.click("#token-ok");
      await assertText(row.locator(".result"), "ok (was 20.5)");
      assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.5);
      await assertText(row.locator("td.value"), "42.5");
      // The write is audited, under the token's id, and the page lists it.
      await assertText(page.locator("#audit tbody tr:first-child td:nth-child(2)"), "operator");
      await assertText(page.locator("#audit tbody tr:first-child td:nth-child(3)"), "plc/setpoint");
      assertEquals(errors, []);
      const shot = Deno.env.get("DASHBOARD_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot, fullPage: true });
    } finally {
      await browser.close();
      parts?.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Waits until `locator`'s text is `want` (30 s), then checks it. */
async function assertText(
  locator: { textContent(): Promise<string | null>; waitFor(o?: object): Promise<void> },
  want: string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  let seen: string | null = null;
  while (Date.now() < deadline) {
    seen = (await locator.textContent().catch(() => null))?.trim() ?? null;
    if (seen === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assertEquals(seen, want);
}

const MANY = "dashboard: 1,200 tags make at most 500 rows; the filter finds any tag, live";

Deno.test({
  name: missing ? `${MANY} (skipped: ${missing})` : MANY,
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using sim = await startModbusSimulator({ units: { 1: {} } });
    const dir = await Deno.makeTempDir({ prefix: "bifrost-dash-many-" });
    const tagLines = Array.from(
      { length: 1200 },
      (_, i) => `      r${i}: { address: HR${i}, type: uint16 }`,
    );
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
${tagLines.join("\n")}
polls:
  all: { device: plc, tags: "*", every: 200ms }
sinks:
  history: { use: sqlite, from: all, path: ${join(dir, "h.db")} }
`,
    );
    const r = await loadFlows(dir, { env: {}, sources: registries, typeCheck: false });
    if (!r.flows) throw new Error(r.errors.map((e) => e.message).join("; "));
    const gateway = new Gateway(r.flows, { sources: registries, dataDir: dir });
    const parts = liveParts(gateway);
    const http = await startHttp(gateway, {
      listen: { host: "127.0.0.1", port: 0 },
      dataDir: dir,
      drivers: registries.drivers,
      log: nullLogger,
      mount: parts.mount,
    });
    await gateway.start();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(`${http.url}/dashboard/`);
      await page.locator('tr[data-tag="plc/r0"]').waitFor();
      assertEquals(await page.locator("#tags tbody tr").count(), 500);
      await assertText(
        page.locator("#tags-info"),
        "Showing 500 of 1200 tags: type a filter to narrow.",
      );
      await page.fill("#tag-filter", "r1177");
      await page.locator('tr[data-tag="plc/r1177"]').waitFor();
      assertEquals(await page.locator("#tags tbody tr").count(), 1);
      sim.setValue("HR1177", 4242, { type: "uint16" });
      await assertText(page.locator('tr[data-tag="plc/r1177"] td.value'), "4242");
    } finally {
      await browser.close();
      parts.close();
      await http.close();
      await gateway.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
