// The trend: one tag's history (`GET /api/v1/history`, downsampled by the gateway to the
// chart's width) drawn with uPlot (served by the gateway, global `uPlot`), then extended with
// the live values the WebSocket brings.

import { api } from "./api.js";

/** Numbers a chart can draw: booleans as 0/1, anything else not a number as a gap. */
export function plottable(v) {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** A trend chart in `host`. */
export class Trend {
  constructor(host, info) {
    this.host = host;
    this.info = info;
    this.key = undefined;
    this.plot = undefined;
    this.xs = [];
    this.ys = [];
    // Each downsampled point's min and max: a band, so that a spike a bucket averaged away
    // still shows.
    this.mins = [];
    this.maxs = [];
    this.pending = false;
  }

  #make(label) {
    this.plot?.destroy();
    const width = Math.max(300, this.host.clientWidth - 8);
    // deno-lint-ignore no-undef
    this.plot = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: true } },
        series: [
          {},
          { label, stroke: "#1f6fd1", width: 1.5, spanGaps: false },
          { label: "min", stroke: "rgba(31,111,209,0.25)", width: 1 },
          { label: "max", stroke: "rgba(31,111,209,0.25)", width: 1 },
        ],
        bands: [{ series: [3, 2], fill: "rgba(31,111,209,0.12)" }],
        axes: [{}, { size: 60 }],
      },
      this.#data(),
      this.host,
    );
  }

  #data() {
    return [this.xs, this.ys, this.mins, this.maxs];
  }

  /** Shows `device/tag` over the last `rangeMs`, read from the history API. */
  async show(key, rangeMs) {
    this.key = key;
    if (!key) return;
    const [device, tag] = key.split("/");
    const to = Date.now();
    const points = Math.max(50, Math.min(2000, Math.round(this.host.clientWidth || 600)));
    const q = new URLSearchParams({
      device,
      tag,
      from: String(to - rangeMs),
      to: String(to),
      points: String(points),
    });
    let h;
    try {
      h = await api(`/history?${q}`);
    } catch (e) {
      this.info.textContent = `No history: ${e.message}`;
      this.xs = [];
      this.ys = [];
      this.mins = [];
      this.maxs = [];
      this.#make(key);
      return;
    }
    if (this.key !== key) return; // another tag was chosen meanwhile
    this.xs = h.points.map((p) => p.ts / 1000);
    this.ys = h.points.map((p) => plottable(p.value));
    this.mins = h.points.map((p, i) => p.min ?? this.ys[i]);
    this.maxs = h.points.map((p, i) => p.max ?? this.ys[i]);
    this.info.textContent = `${h.records} records from sink "${h.sink}"` +
      (h.downsampled ? `, ${h.points.length} points` : "");
    this.#make(key);
  }

  /** Appends a live value of the shown tag. */
  push(key, ts, value) {
    if (key !== this.key || !this.plot) return;
    const t = ts / 1000;
    if (this.xs.length > 0 && t <= this.xs[this.xs.length - 1]) return;
    const y = plottable(value);
    this.xs.push(t);
    this.ys.push(y);
    this.mins.push(y);
    this.maxs.push(y);
    if (this.xs.length > 5000) {
      for (const a of this.#data()) a.splice(0, 1000);
    }
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.plot?.setData(this.#data());
    });
  }
}
