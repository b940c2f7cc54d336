/**
 * @module
 * Compares V8 heap snapshots by what holds the memory: self size and count per constructor
 * (objects), per node type otherwise (strings, code, closures by name, arrays...), largest
 * differences first. For a build against another at the same moment of a benchmark (see
 * `BENCH_HEAP_SNAPSHOT` in `_modbus_gateway.ts`).
 *
 * ```sh
 * deno run -A scripts/bench/heap_summary.ts base.heapsnapshot head.heapsnapshot [--top 40]
 * ```
 */

import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { top: { type: "string", default: "40" } },
});

interface Row {
  count: number;
  size: number;
}

/** Self size and count per kind of node of one snapshot. */
async function summarize(path: string): Promise<Map<string, Row>> {
  const snap = JSON.parse(await Deno.readTextFile(path));
  const meta = snap.snapshot.meta;
  const fields: string[] = meta.node_fields;
  const types: string[] = meta.node_types[0];
  const nodes: number[] = snap.nodes;
  const strings: string[] = snap.strings;
  const width = fields.length;
  const fType = fields.indexOf("type");
  const fName = fields.indexOf("name");
  const fSize = fields.indexOf("self_size");
  const out = new Map<string, Row>();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + fType]!]!;
    const name = strings[nodes[i + fName]!]!;
    const key = type === "object" || type === "closure" || type === "native"
      ? `${type} ${name.slice(0, 60)}`
      : type === "code" || type === "hidden" || type === "array"
      ? `${type} ${name.slice(0, 40)}`
      : type;
    const row = out.get(key) ?? { count: 0, size: 0 };
    row.count++;
    row.size += nodes[i + fSize]!;
    out.set(key, row);
  }
  return out;
}

const maps: Map<string, Row>[] = [];
for (const p of positionals) maps.push(await summarize(p));
const keys = new Set(maps.flatMap((m) => [...m.keys()]));
const total = (m: Map<string, Row>) => [...m.values()].reduce((s, r) => s + r.size, 0);
const kb = (n: number) => (n / 1024).toFixed(0).padStart(8);
console.log(`totals: ${maps.map((m) => (total(m) / 1048576).toFixed(2) + " MB").join("  ")}`);
const rows = [...keys].map((k) => {
  const r = maps.map((m) => m.get(k) ?? { count: 0, size: 0 });
  return { k, r, d: r[r.length - 1]!.size - r[0]!.size };
});
rows.sort((a, b) => Math.abs(b.d) - Math.abs(a.d));
console.log(
  `${"diff KB".padStart(8)} ${
    positionals.map((_, i) => `KB #${i}`.padStart(8) + " count".padStart(9)).join(" ")
  }  kind`,
);
for (const { k, r, d } of rows.slice(0, Number(values.top))) {
  console.log(`${kb(d)} ${r.map((x) => kb(x.size) + String(x.count).padStart(9)).join(" ")}  ${k}`);
}
