// The flow graph as SVG: one column per layer (devices, then polls and triggers, then steps
// by depth, then sinks), links as curves. No layout library: flows are small and layered.

const SVG = "http://www.w3.org/2000/svg";
const W = 150, H = 34, GAP_X = 60, GAP_Y = 12;

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** Layer of every node: longest path from a source, sinks in the last layer. */
function layers(graph) {
  const into = new Map(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) into.get(e.to)?.push(e.from);
  const memo = new Map();
  const depth = (id, seen = new Set()) => {
    if (memo.has(id)) return memo.get(id);
    if (seen.has(id)) return 0; // a cycle cannot pass `bifrost check`; stay finite anyway
    seen.add(id);
    const from = into.get(id) ?? [];
    const d = from.length === 0 ? 0 : 1 + Math.max(...from.map((f) => depth(f, seen)));
    memo.set(id, d);
    return d;
  };
  const of = new Map(graph.nodes.map((n) => [n.id, n.kind === "trigger" ? 1 : depth(n.id)]));
  const last = Math.max(0, ...[...of.values()]);
  for (const n of graph.nodes) if (n.kind === "sink") of.set(n.id, Math.max(last, 2));
  return of;
}

/** Draws `graph` (`GET /api/v1/graph`) into `host`. */
export function drawGraph(host, graph) {
  const of = layers(graph);
  const columns = [];
  for (const n of graph.nodes) (columns[of.get(n.id)] ??= []).push(n);
  const at = new Map();
  let rows = 0;
  columns.forEach((col, x) => {
    col?.forEach((n, y) => at.set(n.id, { x: x * (W + GAP_X) + 4, y: y * (H + GAP_Y) + 4 }));
    rows = Math.max(rows, col?.length ?? 0);
  });
  const svg = el("svg", {
    width: columns.length * (W + GAP_X),
    height: Math.max(1, rows) * (H + GAP_Y) + 8,
    role: "img",
    "aria-label": "Flow graph",
  });
  for (const e of graph.edges) {
    const a = at.get(e.from), b = at.get(e.to);
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, m = (x1 + x2) / 2;
    el("path", {
      d: `M${x1},${y1} C${m},${y1} ${m},${y2} ${x2},${y2}`,
      "data-edge": `${e.from}>${e.to}`,
    }, svg);
  }
  for (const n of graph.nodes) {
    const p = at.get(n.id);
    const g = el("g", {
      class: `node ${n.kind}`,
      "data-node": n.id,
      transform: `translate(${p.x},${p.y})`,
    }, svg);
    el("rect", { width: W, height: H, rx: 4 }, g);
    el("text", { x: 8, y: 14, class: "kind" }, g).textContent = n.use
      ? `${n.kind} · ${n.use}`
      : n.kind;
    el("text", { x: 8, y: 28 }, g).textContent = n.name.length > 20
      ? n.name.slice(0, 19) + "…"
      : n.name;
    el("title", {}, g).textContent = `${n.kind} ${n.name}${n.use ? ` (${n.use})` : ""}`;
  }
  host.replaceChildren(svg);
}
