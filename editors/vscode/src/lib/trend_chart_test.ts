/**
 * @module
 * The trend chart: round ticks, labels, the SVG's line, band and quality marks at the right
 * coordinates, booleans as steps, text escaped; the page's strict CSP; and a chart of a real
 * gateway's history.
 */

import assert from "node:assert/strict";
import type { History } from "./gateway.ts";
import {
  esc,
  niceTicks,
  timeLabel,
  timeTicks,
  TREND_RANGES,
  trendHtml,
  trendPoints,
  trendSummary,
  trendSvg,
  valueLabel,
} from "./trend_chart.ts";
import { GatewayClient } from "./gateway.ts";
import { startGatewayProcess } from "../../test/_gateway.ts";

const hist = (points: History["points"], o: Partial<History> = {}): History => ({
  device: "plc",
  tag: "level",
  sink: "history",
  from: 0,
  to: 1000,
  downsampled: false,
  records: points.length,
  truncated: false,
  points,
  ...o,
});

Deno.test("niceTicks() and timeTicks() fall on round values", () => {
  assert.deepEqual(niceTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(-0.3, 0.9, 4), [-0.2, 0, 0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(5, 5), [5]);
  const hour = Date.UTC(2026, 11, 5, 12, 0, 0);
  // One hour from 12:07 UTC: ticks every 15 minutes, on the quarter.
  const t = timeTicks(hour + 7 * 60_000, hour + 67 * 60_000, 0);
  assert.deepEqual(t.map((x) => timeLabel(x, 3_600_000, 0)), ["12:15", "12:30", "12:45", "13:00"]);
  // In UTC+1 the labels are local.
  assert.equal(timeLabel(hour, 3_600_000, 60), "13:00");
  assert.equal(timeLabel(hour + 5_000, 60_000, 0), "12:00:05");
  assert.equal(timeLabel(hour, 7 * 86_400_000, 0), "05.12 12:00");
  assert.deepEqual(timeTicks(10, 10, 0), []);
});

Deno.test("valueLabel() keeps four significant digits", () => {
  assert.deepEqual(
    [0, 1234.5678, -0.5, 1e7, 0.0001, 20].map(valueLabel),
    ["0", "1235", "-0.5", "1e+7", "1e-4", "20"],
  );
});

Deno.test("trendSvg() draws the values, the min-max band and bad points where they belong", () => {
  const h = hist([
    { ts: 0, value: 0, min: -10, max: 10, count: 3, quality: "good" },
    { ts: 500, value: 50, min: 40, max: 60, count: 3, quality: "bad" },
    { ts: 1000, value: 100, min: 90, max: 110, count: 3, quality: "good" },
  ], { downsampled: true, records: 9 });
  const svg = trendSvg(h, { width: 800, height: 320, unit: "%", tzOffsetMin: 0 });
  // Plot area x 64..784, y 16..288; values -10..110 padded by 5 % (6): -16..116.
  const y = (v: number) => (16 + (1 - (v + 16) / 132) * 272).toFixed(1);
  const path = /<path class="line" fill="none" d="([^"]+)"/.exec(svg)![1]!;
  assert.equal(path, `M64.0,${y(0)}L424.0,${y(50)}L784.0,${y(100)}`);
  assert.match(svg, new RegExp(`<polygon class="band" points="64.0,${y(10)} 424.0,${y(60)} `));
  assert.match(svg, new RegExp(`<circle class="q-bad" cx="424.0" cy="${y(50)}" r="3"><title>`));
  assert.match(svg, /<text class="unit"[^>]*>%<\/text>/);
  // The cursor readout gets each point where it is drawn, and the plot's geometry.
  assert.deepEqual(trendPoints(h, { width: 800, height: 320, unit: "%", tzOffsetMin: 0 }), [
    [0, 64, Number(y(0)), 0],
    [500, 424, Number(y(50)), 50],
    [1000, 784, Number(y(100)), 100],
  ]);
  assert.match(svg, /data-left="64" data-right="784" data-from="0" data-to="1000"/);
  assert.match(svg, /<g class="cursor" visibility="hidden">/);
  assert.match(svg, /<text class="tick"[^>]*>100<\/text>/);
  assert.equal(svg.match(/<svg /g)?.length, 1);
  assert.ok(svg.endsWith("</svg>"));
  assert.equal(
    trendSummary(h, "%"),
    "9 record(s), downsampled to 3 point(s); min -10 %, max 110 %, last 100 %",
  );
});

Deno.test("trendSvg() draws booleans as steps, says when nothing is numeric, escapes names", () => {
  const b = trendSvg(
    hist([
      { ts: 0, value: false, count: 1, quality: "good" },
      { ts: 500, value: true, count: 1, quality: "good" },
    ]),
    { tzOffsetMin: 0 },
  );
  assert.match(b, /d="M64\.0,288\.0H424\.0V16\.0"/);
  assert.match(b, />true<\/text>/);
  const empty = trendSvg(hist([{ ts: 0, value: "on", count: 1, quality: "good" }], {
    tag: "<x>",
  }));
  assert.match(empty, /No numeric values of plc\/&#60;x&#62; in this range/);
  assert.equal(trendSummary(hist([])), "0 record(s); no numeric values");
  assert.equal(esc(`"a'&`), "&#34;a&#39;&#38;");
  // A flat line still has a height to draw in.
  assert.match(trendSvg(hist([{ ts: 0, value: 7, count: 1, quality: "good" }])), /class="dot"/);
});

Deno.test("trendHtml() allows only its own nonce'd script and style, and offers every range", () => {
  const html = trendHtml({ title: "plc/<level>", nonce: "abc123", cspSource: "vscode-resource:" });
  const csp = /content="(default-src[^"]+)"/.exec(html)![1]!;
  assert.equal(
    csp,
    "default-src 'none'; style-src vscode-resource: 'nonce-abc123'; script-src 'nonce-abc123';",
  );
  assert.equal(html.match(/<script nonce="abc123">/g)?.length, 1);
  assert.ok(!/https?:\/\//.test(html.replace("http://www.w3.org/2000/svg", "")));
  assert.match(html, /plc\/&#60;level&#62;/);
  for (const r of TREND_RANGES) assert.ok(html.includes(`<option value="${r.ms}"`), r.label);
});

Deno.test("a real gateway's history makes a chart with a line through every point", async () => {
  await using gw = await startGatewayProcess();
  const c = new GatewayClient({ url: gw.url });
  let h: History | undefined;
  for (let i = 0; i < 60; i++) {
    h = await c.history("plc", "level", { points: 50 });
    if (h.points.length >= 3) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(h && h.points.length >= 3, JSON.stringify(h));
  const svg = trendSvg(h, { unit: "%" });
  const d = /<path class="line" fill="none" d="([^"]+)"/.exec(svg)![1]!;
  assert.equal(d.split(/[ML]/).filter(Boolean).length, h.points.length);
  assert.match(trendSummary(h, "%"), /min -?[0-9.]+ %, max [0-9.]+ %, last/);
});
