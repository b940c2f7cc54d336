/**
 * @module
 * A tag's trend from the history as a chart: plain SVG drawn here (no charting library to
 * bundle, nothing fetched: a webview shows it offline and under a strict Content Security
 * Policy). The line of the values, the min–max band of downsampled buckets, bad and
 * uncertain points marked, time and value axes with round ticks; booleans drawn as a step
 * line between 0 and 1. Also the webview's page: a range picker, export buttons, the chart.
 * Pure: no `vscode` import, tested with Deno.
 */

import type { History } from "./gateway.ts";

/** The ranges offered, newest data last. */
export const TREND_RANGES: readonly { label: string; ms: number }[] = [
  { label: "Last 15 minutes", ms: 15 * 60_000 },
  { label: "Last hour", ms: 3_600_000 },
  { label: "Last 6 hours", ms: 6 * 3_600_000 },
  { label: "Last 24 hours", ms: 86_400_000 },
  { label: "Last 7 days", ms: 7 * 86_400_000 },
];

/** Size and labels of a chart. */
export interface ChartOptions {
  width?: number;
  height?: number;
  unit?: string;
  /** The range shown (defaults to the history's `from`..`to`). */
  from?: number;
  to?: number;
  /** Time zone offset for labels, minutes east of UTC (default: the process's). */
  tzOffsetMin?: number;
}

/** A point placed on the chart. */
interface Placed {
  ts: number;
  v: number;
  min?: number;
  max?: number;
  quality: string;
}

/** Escapes text for SVG and HTML. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round values from `lo` to `hi` (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  // The round step whose number of ticks is nearest `count` (the finer one on a tie).
  const ticksOf = (s: number) => Math.floor(hi / s) - Math.ceil(lo / s) + 1;
  let step = mag;
  for (const m of [2, 5, 10]) {
    if (Math.abs(ticksOf(m * mag) - count) < Math.abs(ticksOf(step) - count)) step = m * mag;
  }
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

const TIME_STEPS = [
  1_000,
  5_000,
  15_000,
  30_000,
  60_000,
  5 * 60_000,
  15 * 60_000,
  30 * 60_000,
  3_600_000,
  3 * 3_600_000,
  6 * 3_600_000,
  12 * 3_600_000,
  86_400_000,
];

/** About `count` round times from `from` to `to` (in local time of `tzOffsetMin`). */
export function timeTicks(from: number, to: number, tzOffsetMin: number, count = 6): number[] {
  if (!(to > from)) return [];
  const raw = (to - from) / count;
  const step = TIME_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 86_400_000) * 86_400_000;
  const shift = tzOffsetMin * 60_000;
  const out: number[] = [];
  for (let t = Math.ceil((from + shift) / step) * step - shift; t <= to; t += step) out.push(t);
  return out;
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** A tick's label: `HH:MM` (`HH:MM:SS` under a minute apart), with the date over a day. */
export function timeLabel(ts: number, spanMs: number, tzOffsetMin: number): string {
  const d = new Date(ts + tzOffsetMin * 60_000);
  const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  if (spanMs <= 5 * 60_000) return `${hm}:${two(d.getUTCSeconds())}`;
  if (spanMs > 86_400_000) return `${two(d.getUTCDate())}.${two(d.getUTCMonth() + 1)} ${hm}`;
  return hm;
}

/** A value's label: at most 4 significant digits, no trailing zeros. */
export function valueLabel(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

function placed(h: History): { points: Placed[]; boolean: boolean } {
  const bool = h.points.length > 0 && h.points.every((p) => typeof p.value === "boolean");
  const points: Placed[] = [];
  for (const p of h.points) {
    const v = typeof p.value === "boolean"
      ? (p.value ? 1 : 0)
      : typeof p.value === "number"
      ? p.value
      : typeof p.value === "string" && /^-?\d+$/.test(p.value)
      ? Number(p.value)
      : NaN;
    if (!Number.isFinite(v)) continue;
    points.push({
      ts: p.ts,
      v,
      ...(typeof p.min === "number" ? { min: p.min } : {}),
      ...(typeof p.max === "number" ? { max: p.max } : {}),
      quality: p.quality,
    });
  }
  return { points, boolean: bool };
}

/**
 * The numeric points as the page's cursor readout needs them: `[ts, x, y, value]`, x and y
 * in the chart's coordinates (same options as {@linkcode trendSvg}).
 */
export function trendPoints(h: History, o: ChartOptions = {}): [number, number, number, number][] {
  return draw(h, o).xy;
}

/** Summary figures of the numeric points (for the line under the chart). */
export function trendSummary(h: History, unit?: string): string {
  const { points } = placed(h);
  const u = unit ? ` ${unit}` : "";
  const what = `${h.records} record(s)${
    h.downsampled ? `, downsampled to ${h.points.length} point(s)` : ""
  }${h.truncated ? ", truncated" : ""}`;
  if (points.length === 0) return `${what}; no numeric values`;
  const lo = Math.min(...points.map((p) => p.min ?? p.v));
  const hi = Math.max(...points.map((p) => p.max ?? p.v));
  const last = points.at(-1)!.v;
  return `${what}; min ${valueLabel(lo)}${u}, max ${valueLabel(hi)}${u}, last ${
    valueLabel(last)
  }${u}`;
}

/** The chart as one `<svg>` element (sized by its viewBox, scaling to its container). */
export function trendSvg(h: History, o: ChartOptions = {}): string {
  return draw(h, o).svg;
}

function draw(
  h: History,
  o: ChartOptions,
): { svg: string; xy: [number, number, number, number][] } {
  const W = o.width ?? 800;
  const H = o.height ?? 320;
  const tz = o.tzOffsetMin ?? -new Date().getTimezoneOffset();
  const left = 64, right = 16, top = 16, bottom = 32;
  const from = o.from ?? h.from;
  const to = Math.max(o.to ?? h.to, from + 1);
  const { points, boolean } = placed(h);
  // The plot's geometry rides along for the page's cursor readout (see trendHtml).
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" ` +
    `role="img" aria-label="${esc(`Trend of ${h.device}/${h.tag}`)}" class="trend" ` +
    `data-left="${left}" data-right="${W - right}" data-from="${from}" data-to="${to}">`;
  if (points.length === 0) {
    return {
      svg: `${open}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">` +
        `No numeric values of ${esc(`${h.device}/${h.tag}`)} in this range</text></svg>`,
      xy: [],
    };
  }
  let lo = boolean ? 0 : Math.min(...points.map((p) => p.min ?? p.v));
  let hi = boolean ? 1 : Math.max(...points.map((p) => p.max ?? p.v));
  if (hi === lo) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  } else if (!boolean) {
    const pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const x = (ts: number) => left + ((ts - from) / (to - from)) * (W - left - right);
  const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom);
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [open];
  // Grid and axes.
  const vTicks = boolean ? [0, 1] : niceTicks(lo, hi, 5);
  for (const v of vTicks) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${W - right}" y1="${f(y(v))}" y2="${f(y(v))}"/>`,
      `<text class="tick" x="${left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${
        esc(boolean ? (v ? "true" : "false") : valueLabel(v))
      }</text>`,
    );
  }
  for (const t of timeTicks(from, to, tz)) {
    parts.push(
      `<line class="grid" x1="${f(x(t))}" x2="${f(x(t))}" y1="${top}" y2="${H - bottom}"/>`,
      `<text class="tick" x="${f(x(t))}" y="${H - bottom + 18}" text-anchor="middle">${
        esc(timeLabel(t, to - from, tz))
      }</text>`,
    );
  }
  parts.push(
    `<rect class="frame" x="${left}" y="${top}" width="${W - left - right}" height="${
      H - top - bottom
    }" fill="none"/>`,
  );
  if (o.unit) {
    parts.push(`<text class="unit" x="${left + 4}" y="${top + 12}">${esc(o.unit)}</text>`);
  }
  // The min–max band of downsampled buckets.
  const banded = points.filter((p) => p.min !== undefined && p.max !== undefined);
  if (!boolean && banded.length > 1) {
    const upper = banded.map((p) => `${f(x(p.ts))},${f(y(p.max!))}`);
    const lower = banded.slice().reverse().map((p) => `${f(x(p.ts))},${f(y(p.min!))}`);
    parts.push(`<polygon class="band" points="${[...upper, ...lower].join(" ")}"/>`);
  }
  // The line (a step line for booleans: a state holds until the next change).
  let d = `M${f(x(points[0]!.ts))},${f(y(points[0]!.v))}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i]!;
    if (boolean) d += `H${f(x(p.ts))}V${f(y(p.v))}`;
    else d += `L${f(x(p.ts))},${f(y(p.v))}`;
  }
  parts.push(`<path class="line" fill="none" d="${d}"/>`);
  for (const p of points) {
    if (p.quality === "good") continue;
    parts.push(
      `<circle class="q-${esc(p.quality)}" cx="${f(x(p.ts))}" cy="${f(y(p.v))}" r="3">` +
        `<title>${
          esc(`${new Date(p.ts).toISOString()} ${valueLabel(p.v)} (${p.quality})`)
        }</title>` +
        `</circle>`,
    );
  }
  if (points.length === 1) {
    const p = points[0]!;
    parts.push(`<circle class="dot" cx="${f(x(p.ts))}" cy="${f(y(p.v))}" r="3"/>`);
  }
  parts.push(
    `<g class="cursor" visibility="hidden"><line class="cursor-line" y1="${top}" y2="${
      H - bottom
    }"/><circle class="cursor-dot" r="3"/><text class="cursor-label" y="${top + 12}"></text></g>`,
  );
  parts.push("</svg>");
  const xy = points.map((p): [number, number, number, number] => [
    p.ts,
    Number(f(x(p.ts))),
    Number(f(y(p.v))),
    p.v,
  ]);
  return { svg: parts.join(""), xy };
}

/** The webview page: its script asks for ranges and exports, and draws what it is sent. */
export function trendHtml(o: { title: string; nonce: string; cspSource: string }): string {
  const options = TREND_RANGES.map((r, i) =>
    `<option value="${r.ms}"${i === 1 ? " selected" : ""}>${esc(r.label)}</option>`
  ).join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${o.cspSource} 'nonce-${o.nonce}'; script-src 'nonce-${o.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<style nonce="${o.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 16px; }
header { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
h1 { font-size: 1.1em; margin: 0 12px 0 0; }
select, button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; }
select { color: var(--vscode-dropdown-foreground); background: var(--vscode-dropdown-background); }
#chart svg { width: 100%; height: auto; max-height: 70vh; }
.grid { stroke: var(--vscode-editorWidget-border, #8884); stroke-width: 0.5; }
.frame { stroke: var(--vscode-editorWidget-border, #888); }
.tick, .unit, .empty { fill: var(--vscode-descriptionForeground, #888); font-size: 11px; }
.line { stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 1.5; }
.band { fill: var(--vscode-charts-blue, #3794ff); opacity: 0.18; }
.q-bad { fill: var(--vscode-charts-red, #f14c4c); }
.q-uncertain { fill: var(--vscode-charts-yellow, #cca700); }
.dot, .cursor-dot { fill: var(--vscode-charts-blue, #3794ff); }
.cursor-line { stroke: var(--vscode-foreground, #ccc); stroke-width: 0.5; stroke-dasharray: 3 3; }
.cursor-label { fill: var(--vscode-foreground, #ccc); font-size: 12px; }
#summary { color: var(--vscode-descriptionForeground); margin-top: 4px; }
#error { color: var(--vscode-errorForeground); }
</style></head>
<body>
<header><h1>${esc(o.title)}</h1>
<select id="range" aria-label="Range">${options}</select>
<button id="csv">Export CSV…</button><button id="json">Export JSON…</button>
<span id="error"></span></header>
<div id="chart">Loading…</div>
<div id="summary"></div>
<script nonce="${o.nonce}">
const vscode = acquireVsCodeApi();
const range = document.getElementById("range");
const ms = () => Number(range.value);
range.addEventListener("change", () => vscode.postMessage({ type: "range", ms: ms() }));
document.getElementById("csv").addEventListener("click", () => vscode.postMessage({ type: "export", format: "CSV", ms: ms() }));
document.getElementById("json").addEventListener("click", () => vscode.postMessage({ type: "export", format: "JSON", ms: ms() }));
// The cursor readout: the point nearest the mouse in time, its time and value.
let points = [];
let unit = "";
const chart = document.getElementById("chart");
chart.addEventListener("mousemove", (e) => {
  const svg = chart.querySelector("svg");
  const g = svg && svg.querySelector(".cursor");
  if (!g || points.length === 0) return;
  const box = svg.getBoundingClientRect();
  const x = (e.clientX - box.left) * svg.viewBox.baseVal.width / box.width;
  const left = Number(svg.dataset.left), right = Number(svg.dataset.right);
  if (x < left || x > right) return g.setAttribute("visibility", "hidden");
  let lo = 0, hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid][1] < x) lo = mid; else hi = mid;
  }
  const p = Math.abs(points[lo][1] - x) <= Math.abs(points[hi][1] - x) ? points[lo] : points[hi];
  const line = g.querySelector(".cursor-line"), dot = g.querySelector(".cursor-dot");
  const label = g.querySelector(".cursor-label");
  line.setAttribute("x1", p[1]); line.setAttribute("x2", p[1]);
  dot.setAttribute("cx", p[1]); dot.setAttribute("cy", p[2]);
  label.textContent = new Date(p[0]).toLocaleString() + "  " + Number(p[3].toPrecision(6)) + (unit ? " " + unit : "");
  const flip = p[1] > (left + right) / 2;
  label.setAttribute("x", flip ? p[1] - 6 : p[1] + 6);
  label.setAttribute("text-anchor", flip ? "end" : "start");
  g.setAttribute("visibility", "visible");
});
chart.addEventListener("mouseleave", () => {
  const g = chart.querySelector("svg .cursor");
  if (g) g.setAttribute("visibility", "hidden");
});
window.addEventListener("message", (e) => {
  const m = e.data;
  if (m.type === "chart") {
    points = m.points || [];
    unit = m.unit || "";
    document.getElementById("chart").innerHTML = m.svg;
    document.getElementById("summary").textContent = m.summary;
    document.getElementById("error").textContent = "";
  } else if (m.type === "error") {
    document.getElementById("error").textContent = m.message;
  }
});
vscode.postMessage({ type: "range", ms: ms() });
</script>
</body></html>
`;
}
