/**
 * @module
 * A small writer of the Prometheus text exposition format (version 0.0.4): one `# HELP` and
 * `# TYPE` per family, samples with escaped label values, histograms as cumulative `_bucket`
 * lines plus `_sum` and `_count`. Samples are grouped by family whatever the order they are
 * added in (the format requires a family's samples together). Hand-written rather than prom-client: the gateway's figures
 * already live in its own counters, so a scrape only reads them; nothing is registered or
 * kept between scrapes.
 */

import type { Histogram } from "../../engine/runtime/histogram.ts";

/** Labels of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of the text format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: string): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function num(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v !== v) return "NaN";
  return String(v);
}

/** Builds one exposition: families in the order they are declared. */
export class Exposition {
  #families = new Map<string, string[]>();

  #declare(name: string, type: string, help: string): string[] {
    let lines = this.#families.get(name);
    if (lines) return lines;
    const h = help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
    lines = [`# HELP ${name} ${h}`, `# TYPE ${name} ${type}`];
    this.#families.set(name, lines);
    return lines;
  }

  /** A family declared up front, so that it appears (with no samples) even when empty. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.#declare(name, type, help);
    return this;
  }

  /** A counter or gauge sample (its family declared on first use). */
  sample(
    name: string,
    type: "counter" | "gauge",
    help: string,
    labels: Labels,
    value: number,
  ): this {
    this.#declare(name, type, help).push(`${name}${labelText(labels)} ${num(value)}`);
    return this;
  }

  /** A histogram's samples; `scale` converts the histogram's unit (ms to seconds: 0.001). */
  histogram(name: string, help: string, labels: Labels, h: Histogram, scale = 1): this {
    const lines = this.#declare(name, "histogram", help);
    const cum = h.cumulative();
    for (let i = 0; i < h.bounds.length; i++) {
      const le = `le="${num(round(h.bounds[i]! * scale))}"`;
      lines.push(`${name}_bucket${labelText(labels, le)} ${cum[i]}`);
    }
    lines.push(`${name}_bucket${labelText(labels, 'le="+Inf"')} ${h.count}`);
    lines.push(`${name}_sum${labelText(labels)} ${num(h.sum * scale)}`);
    lines.push(`${name}_count${labelText(labels)} ${h.count}`);
    return this;
  }

  /** The text, ending with a newline. */
  text(): string {
    const out: string[] = [];
    for (const lines of this.#families.values()) out.push(...lines);
    return out.join("\n") + "\n";
  }
}

/** Rounds away binary noise of a unit conversion (0.1 * 0.001 → 0.0001). */
function round(v: number): number {
  return Number(v.toPrecision(12));
}
