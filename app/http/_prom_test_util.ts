/**
 * @module
 * A strict parser of the Prometheus text format (0.0.4) for tests: it rejects what a
 * Prometheus server would reject or silently misread (a sample before its `# TYPE`, a family
 * split in two, a duplicate series, a malformed name, label or value, histogram buckets that
 * are not cumulative or whose `+Inf` bucket differs from `_count`).
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function familyOf(sample: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    if (types.get(base) === "histogram" || types.get(base) === "summary") return base;
  }
  return sample;
}

function parseValue(s: string, line: number): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new SyntaxError(`line ${line}: bad value "${s}"`);
  }
  return Number(s);
}

function parseLabels(s: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new SyntaxError(`line ${line}: label without "=" in {${s}}`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new SyntaxError(`line ${line}: bad label name "${name}"`);
    if (s[eq + 1] !== '"') throw new SyntaxError(`line ${line}: label value not quoted`);
    let v = "";
    let j = eq + 2;
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const n = s[++j];
        if (n === "n") v += "\n";
        else if (n === "\\" || n === '"') v += n;
        else throw new SyntaxError(`line ${line}: bad escape "\\${n}"`);
      } else v += s[j];
    }
    if (j >= s.length) throw new SyntaxError(`line ${line}: unterminated label value`);
    if (name in out) throw new SyntaxError(`line ${line}: label "${name}" twice`);
    out[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (i < s.length) throw new SyntaxError(`line ${line}: expected "," after a label`);
  }
  return out;
}

function checkHistograms(f: Family): void {
  const series = new Map<string, { le: number; v: number }[]>();
  const counts = new Map<string, number>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new SyntaxError(`${f.name}: bucket without le`);
      const b = series.get(key) ?? [];
      b.push({ le: parseValue(le, 0), v: s.value });
      series.set(key, b);
    } else if (s.name === `${f.name}_count`) counts.set(key, s.value);
  }
  for (const [key, b] of series) {
    for (let i = 1; i < b.length; i++) {
      if (!(b[i]!.le > b[i - 1]!.le) || b[i]!.v < b[i - 1]!.v) {
        throw new SyntaxError(`${f.name}${key}: buckets not increasing or not cumulative`);
      }
    }
    const last = b[b.length - 1];
    if (last?.le !== Infinity) throw new SyntaxError(`${f.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== last.v) throw new SyntaxError(`${f.name}${key}: +Inf != _count`);
  }
}

/** Parses an exposition; throws a SyntaxError naming the line on anything malformed. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const types = new Map<string, string>();
  const seen = new Set<string>();
  let current: string | undefined;
  if (!text.endsWith("\n")) throw new SyntaxError("exposition does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.startsWith("# HELP ") || raw.startsWith("# TYPE ")) {
      const [, kw, name, ...rest] = raw.split(" ");
      if (!name || !NAME.test(name)) throw new SyntaxError(`line ${line}: bad name "${name}"`);
      let f = families.get(name);
      if (f && current !== name) throw new SyntaxError(`line ${line}: family "${name}" split`);
      f ??= { name, type: "untyped", help: "", samples: [] };
      families.set(name, f);
      current = name;
      if (kw === "TYPE") {
        if (f.samples.length > 0) throw new SyntaxError(`line ${line}: TYPE after samples`);
        const t = rest.join(" ");
        if (!TYPES.has(t)) throw new SyntaxError(`line ${line}: unknown type "${t}"`);
        f.type = t;
        types.set(name, t);
      } else f.help = rest.join(" ");
      return;
    }
    if (raw.startsWith("#") || raw.trim() === "") return;
    const m = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(raw);
    if (!m) throw new SyntaxError(`line ${line}: not a sample: ${raw}`);
    const name = m[1]!;
    if (!NAME.test(name)) throw new SyntaxError(`line ${line}: bad metric name "${name}"`);
    const fam = familyOf(name, types);
    if (!types.has(fam)) throw new SyntaxError(`line ${line}: "${name}" has no # TYPE before it`);
    if (fam !== current) throw new SyntaxError(`line ${line}: family "${fam}" split`);
    const labels = parseLabels(m[2] ?? "", line);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new SyntaxError(`line ${line}: duplicate series ${raw}`);
    seen.add(key);
    families.get(fam)!.samples.push({ name, labels, value: parseValue(m[3]!, line) });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistograms(f);
  return families;
}

/** The value of the one sample `name` whose labels include `labels`; throws if not one. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const all = [...families.values()].flatMap((f) => f.samples);
  const hits = all.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (hits.length !== 1) {
    throw new Error(`${hits.length} samples of ${name}${JSON.stringify(labels)}, expected 1`);
  }
  return hits[0]!.value;
}
