// Drives code-server in headless Chromium with playwright-core (run by Node from the e2e
// test, which started code-server, the gateway and its simulator). Prints one JSON line of
// findings on stdout; the Deno test asserts on them. Argument: a JSON object
// { url, playwright, chromium, hostLine, shots }.
"use strict";
const args = JSON.parse(process.argv[2]);
const { chromium } = require(args.playwright);

const out = { steps: [] };
const step = (s) => {
  out.steps.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${s}`);
};
const t0 = Date.now();

async function main() {
  const browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Generous: CI machines run this beside the rest of the suite, on two shared cores.
  page.setDefaultTimeout(120_000);
  try {
    await run(page);
  } catch (e) {
    out.error = String(e && e.stack || e);
    if (args.shots) await page.screenshot({ path: `${args.shots}/failure.png` }).catch(() => {});
  } finally {
    await browser.close();
  }
}

/** The tree row whose label is `name`, found by its text (no CSS text selectors). */
async function treeRow(page, name, timeout = 120_000) {
  await page.waitForFunction(
    (n) =>
      [...document.querySelectorAll(".monaco-list-row .label-name")]
        .some((e) => (e.textContent || "").trim() === n),
    name,
    { timeout },
  );
  return await page.evaluateHandle(
    (n) =>
      [...document.querySelectorAll(".monaco-list-row")]
        .find((r) => (r.querySelector(".label-name")?.textContent || "").trim() === n),
    name,
  );
}

async function description(page, name) {
  return await page.evaluate(
    (n) => {
      const row = [...document.querySelectorAll(".monaco-list-row")]
        .find((r) => (r.querySelector(".label-name")?.textContent || "").trim() === n);
      return row?.querySelector(".label-description")?.textContent || "";
    },
    name,
  );
}

async function rowsText(page, selector) {
  return await page.$$eval(selector, (els) => els.map((e) => e.textContent || ""));
}

async function run(page) {
  await page.goto(args.url);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  step("workbench loaded");
  // The gateway connected (its tag in the Devices view) before the first save: the check on
  // save then runs on the gateway, and the Problems panel names it.
  await page.click('.activitybar [aria-label^="Bifrost"]');
  await treeRow(page, "level");
  step("gateway connected");

  // ── A typo in the flow shows a diagnostic on its line, and its quick fix clears it ──
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input");
  await page.keyboard.type("plant.yaml");
  await page.waitForSelector(".quick-input-list .monaco-list-row");
  await page.keyboard.press("Enter");
  await page.waitForSelector(".monaco-editor .view-lines");
  await page.waitForTimeout(500);
  step("flow opened");
  const gotoLine = async (n) => {
    await page.keyboard.press("Control+G");
    await page.waitForSelector(".quick-input-widget input");
    await page.keyboard.type(String(n));
    await page.keyboard.press("Enter");
    await page.waitForTimeout(200);
  };
  await gotoLine(args.hostLine);
  await page.keyboard.press("Home");
  await page.keyboard.press("Shift+End");
  await page.keyboard.type("hots: 127.0.0.1");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+S");
  step("typo saved");
  await page.keyboard.press("Control+Shift+M");
  const problem = await page.waitForSelector(
    '.markers-panel .monaco-list-row:has-text("did you mean")',
    { timeout: 120_000 },
  );
  out.problem = await problem.textContent();
  step(`problem shown: ${out.problem}`);

  await gotoLine(args.hostLine);
  await page.keyboard.press("Home");
  await page.keyboard.press("Control+.");
  const fix = await page.waitForSelector('.action-widget .monaco-list-row:has-text("Change")', {
    timeout: 60_000,
  });
  out.quickFix = await fix.textContent();
  // The menu has the focus; its first item is the preferred fix.
  await page.keyboard.press("Enter");
  await page.waitForTimeout(300);
  await page.keyboard.press("Control+S");
  await page.waitForFunction(
    () =>
      ![...document.querySelectorAll(".markers-panel .monaco-list-row")]
        .some((e) => (e.textContent || "").includes("did you mean")),
    undefined,
    { timeout: 120_000 },
  );
  step(`quick fix applied: ${out.quickFix}`);

  // ── The Devices tree shows the simulator's changing value (the side bar is open) ──
  await treeRow(page, "level");
  step("devices tree shown");
  const seen = new Set();
  const deadline = Date.now() + 60_000;
  while (seen.size < 3 && Date.now() < deadline) {
    const d = await description(page, "level");
    if (d && d !== "—") seen.add(d);
    await page.waitForTimeout(300);
  }
  out.levelValues = [...seen];
  out.treeRows = await rowsText(page, ".monaco-list-row .label-name");
  step(`level values: ${out.levelValues.join(" | ")}`);

  // ── A write from the tree reaches the simulator ──
  const spRow = await treeRow(page, "setpoint");
  await spRow.asElement().click({ button: "right" });
  const item = await page.waitForSelector('.monaco-menu .action-label:has-text("Write Value")', {
    timeout: 60_000,
  });
  await item.click();
  // On a loaded machine a click can land while the menu still settles (the row under it
  // refreshes with live values): the highlighted item then takes Enter.
  const box = await page.waitForSelector(".quick-input-widget input", { timeout: 5_000 })
    .catch(() => undefined);
  if (!box) {
    if (await page.$(".monaco-menu")) await page.keyboard.press("Enter");
    await page.waitForSelector(".quick-input-widget input");
  }
  await page.keyboard.type("55.5");
  await page.keyboard.press("Enter");
  const confirm = await page.waitForSelector(
    '.monaco-dialog-box .monaco-button:has-text("Write")',
    {
      timeout: 60_000,
    },
  );
  out.confirm = await page.$eval(".monaco-dialog-box", (e) => e.textContent || "");
  await confirm.click();
  const toast = await page.waitForSelector(
    '.notifications-toasts .notification-list-item-message:has-text("Wrote")',
    { timeout: 60_000 },
  );
  out.writeAnswer = await toast.textContent();
  step(`write answered: ${out.writeAnswer}`);
  // The tree shows the new value with the next poll.
  const until = Date.now() + 60_000;
  while (!(await description(page, "setpoint")).startsWith("55.5") && Date.now() < until) {
    await page.waitForTimeout(200);
  }
  out.setpointText = await description(page, "setpoint");
  step("tree shows the written value");
  // ── The CodeLens over each poll: bifrost plan's requests ──
  await page.click(".monaco-editor .view-lines");
  await gotoLine(args.pollLine);
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll(".codelens-decoration")]
        .some((e) => /request\(s\): FC/.test(e.textContent || "")),
    undefined,
    { timeout: 120_000 },
  );
  out.lenses = await rowsText(page, ".codelens-decoration");
  step(`code lenses: ${out.lenses.join(" | ")}`);

  // ── A tag's trend: a chart in a webview, its range selectable ──
  // The Bifrost side bar is still open (clicking its icon again would close it).
  const levelRow = await treeRow(page, "level");
  await levelRow.asElement().click({ button: "right" });
  const trendItem = await page.waitForSelector(
    '.monaco-menu .action-label:has-text("Show Trend")',
    { timeout: 60_000 },
  );
  await trendItem.click();
  await page.waitForTimeout(1_000);
  if (await page.$(".monaco-menu")) await page.keyboard.press("Enter");
  // The webview's page sits in nested iframes: look in every frame for the drawn chart.
  const chartFrame = async (test) => {
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      for (const f of page.frames()) {
        const found = await f.evaluate(test).catch(() => undefined);
        if (found) return { frame: f, found };
      }
      await page.waitForTimeout(300);
    }
    throw new Error("no trend chart in any frame");
  };
  const chartOf = () => {
    const path = document.querySelector("#chart svg path.line");
    if (!path) return undefined;
    return {
      points: (path.getAttribute("d") || "").split(/[MLHV]/).filter(Boolean).length,
      ticks: [...document.querySelectorAll("#chart svg text.tick")].map((t) => t.textContent),
      summary: document.getElementById("summary")?.textContent || "",
    };
  };
  const first = await chartFrame(chartOf);
  out.trend = first.found;
  step(`trend drawn: ${first.found.points} point(s); ${first.found.summary}`);
  // The cursor readout: hovering the middle of the plot shows a time and a value in %.
  const svgBox = await (await first.frame.$("#chart svg")).boundingBox();
  await first.frame.hover("#chart svg", {
    position: { x: svgBox.width / 2, y: svgBox.height / 3 },
  });
  const readout = await chartFrame(() => {
    const g = document.querySelector("#chart svg .cursor");
    return g && g.getAttribute("visibility") === "visible"
      ? g.querySelector(".cursor-label").textContent
      : undefined;
  });
  out.trendCursor = readout.found;
  step(`trend cursor: ${readout.found}`);
  // Seven days: the time axis labels carry the date.
  await first.frame.selectOption("#range", String(7 * 86_400_000));
  const week = await chartFrame(() => {
    const ticks = [...document.querySelectorAll("#chart svg text.tick")].map((t) => t.textContent);
    return ticks.some((t) => /^\d\d\.\d\d \d\d:\d\d$/.test(t || "")) ? ticks : undefined;
  });
  out.trendWeekTicks = week.found;
  step(`trend over 7 days: ${week.found.join(" ")}`);

  if (args.shots) await page.screenshot({ path: `${args.shots}/final.png` });
}

main().then(() => {
  process.stdout.write(JSON.stringify(out) + "\n");
}, (e) => {
  out.error = String(e && e.stack || e);
  process.stdout.write(JSON.stringify(out) + "\n");
});
