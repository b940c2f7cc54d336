// The dashboard: devices and their health, live tag values over the WebSocket, a trend of
// any tag, the flow graph, sink backlogs and recent writes. Writes need a token with the
// write scope: the page asks for it when the gateway says so (401/403) and keeps it in this
// tab's sessionStorage. `window.bifrost` exposes the page's state to tests.

import { api, ApiError, askToken, showTokenState, token, withToken } from "./api.js";
import { drawGraph } from "./graph.js";
import { Trend } from "./trend.js";

const $ = (id) => document.getElementById(id);
const tags = new Map(); // "device/tag" -> { meta, row }
const trend = new Trend($("trend"), $("trend-info"));
const state = { ws: undefined, wsOpen: false, updates: 0, revision: undefined, trend };
globalThis.bifrost = state;

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function fmtValue(v) {
  if (v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(+v.toPrecision(7));
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "");

function notice(text, error = false) {
  const n = $("notice");
  n.hidden = !text;
  n.textContent = text ?? "";
  n.classList.toggle("error", error);
}

// ── Devices ──────────────────────────────────────────────────────────────────────────
async function refreshDevices() {
  const { devices } = await api("/devices");
  const body = $("devices").tBodies[0];
  body.replaceChildren();
  for (const d of devices) {
    const row = body.insertRow();
    row.dataset.device = d.name;
    cell(row, d.name);
    cell(row, d.driver);
    cell(row, d.state, `state state-${d.state}`);
    cell(row, fmtTime(d.since));
    cell(row, d.latencyMs === undefined ? "" : `${d.latencyMs.toFixed(1)} ms`, "num");
    cell(row, String(d.reads), "num");
    cell(row, String(d.readErrors + d.timeouts + d.malformed), "num");
    cell(row, d.lastError ?? "");
  }
}

// ── Live tags and writes ────────────────────────────────────────────────────────────
// Rows exist for at most MAX_ROWS tags (those the filter matches): a gateway of 50,000 tags
// must not make 50,000 rows. Values land in `tags` as they come and are painted once per
// animation frame, whatever the rate of updates.
const MAX_ROWS = 500;
const dirty = new Set();
let painting = false;

function paint(key) {
  const t = tags.get(key);
  if (!t?.row || !t.v) return;
  const v = t.v;
  const [value, quality, time] = [t.row.cells[1], t.row.cells[3], t.row.cells[4]];
  value.textContent = fmtValue(v.value);
  quality.textContent = v.quality ?? "";
  quality.className = `q-${v.quality}`;
  quality.title = v.reason ?? "";
  time.textContent = fmtTime(v.ts);
  t.row.dataset.ts = String(v.ts ?? "");
}

function showValue(key, v) {
  const t = tags.get(key);
  if (!t) return;
  t.v = v;
  if (!t.row) return;
  dirty.add(key);
  if (painting) return;
  painting = true;
  requestAnimationFrame(() => {
    painting = false;
    for (const k of dirty) paint(k);
    dirty.clear();
  });
}

async function write(key, text, result) {
  const t = tags.get(key);
  // Numbers and booleans travel as JSON; anything else as the text the gateway parses.
  let value = text;
  if (t.meta.kind !== "string" && t.meta.type !== "string") {
    try {
      value = JSON.parse(text);
    } catch { /* the gateway parses the text and says what is wrong */ }
  }
  result.className = "result";
  result.textContent = "writing…";
  try {
    const r = await withToken(
      () => api("/write", { body: { device: t.meta.device, tag: t.meta.name, value } }),
      "Writing a tag",
    );
    const o = r.results[0];
    result.className = `result ${o.ok ? "ok" : "bad"}`;
    result.textContent = o.ok ? `ok (was ${fmtValue(o.previous)})` : o.error?.message ?? "failed";
  } catch (e) {
    result.className = "result bad";
    result.textContent = e.message;
  }
  refreshAudit().catch(() => {});
}

function makeRow(body, key, t) {
  const row = body.insertRow();
  row.dataset.tag = key;
  const name = cell(row, key, "tagname");
  name.title = t.description ?? "Show its trend";
  name.addEventListener("click", () => {
    $("trend-tag").value = key;
    showTrend();
  });
  cell(row, "", "value");
  cell(row, t.unit ?? "");
  cell(row, "");
  cell(row, "");
  const w = cell(row, "", "write");
  if (t.writable) {
    const form = document.createElement("form");
    const input = document.createElement("input");
    input.name = "value";
    input.setAttribute("aria-label", `New value of ${key}`);
    const button = document.createElement("button");
    button.textContent = "Write";
    const result = document.createElement("span");
    result.className = "result";
    form.append(input, button, result);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      write(key, input.value, result);
    });
    w.append(form);
  }
  return row;
}

/** Rows for the tags the filter matches, at most MAX_ROWS of them. */
function renderRows() {
  const f = $("tag-filter").value.trim().toLowerCase();
  const body = $("tags").tBodies[0];
  body.replaceChildren();
  let matched = 0;
  for (const [key, t] of tags) {
    const match = f === "" || key.toLowerCase().includes(f);
    if (match) matched++;
    t.row = match && matched <= MAX_ROWS ? makeRow(body, key, t.meta) : undefined;
    if (t.row) paint(key);
  }
  $("tags-info").textContent = matched > MAX_ROWS
    ? `Showing ${MAX_ROWS} of ${matched} tags: type a filter to narrow.`
    : "";
}

async function loadTags() {
  const list = (await api("/tags")).tags;
  const old = new Map(tags);
  tags.clear();
  const select = $("trend-tag");
  const chosen = select.value;
  select.replaceChildren();
  for (const t of list) {
    const key = `${t.device}/${t.name}`;
    const v = t.value === undefined
      ? old.get(key)?.v
      : { value: t.value, quality: t.quality, reason: t.reason, ts: t.sourceTs };
    tags.set(key, { meta: t, row: undefined, v });
    if (t.kind !== "string" && t.type !== "string") select.add(new Option(key, key));
  }
  if (chosen && tags.has(chosen)) select.value = chosen;
  renderRows();
}

let filterTimer;
function filterTags() {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(renderRows, 150);
}

function connect() {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  // A browser cannot set Authorization on a WebSocket: the token rides as a subprotocol
  // (the gateway answers with "bifrost", never echoing the token).
  const t = token();
  const ws = new WebSocket(url, t ? ["bifrost", `bearer.${t}`] : ["bifrost"]);
  state.ws = ws;
  ws.onopen = () => {
    state.wsOpen = true;
    $("live").textContent = "live";
    $("live").className = "badge ok";
    ws.send(JSON.stringify({ type: "subscribe", patterns: ["*/*"], id: 1 }));
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "snapshot" || m.type === "update") {
      for (const v of m.values) {
        showValue(v.tag, v);
        trend.push(v.tag, v.ts, v.value);
      }
      state.updates++;
    } else if (m.type === "dropped") {
      // This tab read too slowly: the gateway kept the latest of each value (nothing stale).
      state.dropped = (state.dropped ?? 0) + m.count;
      $("live").title = `${state.dropped} values superseded before this tab could read them`;
    } else if (m.type === "error") notice(`Live values: ${m.message}`, true);
  };
  ws.onclose = () => {
    state.wsOpen = false;
    $("live").textContent = "disconnected";
    $("live").className = "badge bad";
    if (state.ws === ws) setTimeout(connect, 2000);
  };
}

function reconnect() {
  const old = state.ws;
  state.ws = undefined;
  old?.close();
  connect();
}

// ── Trend, graph, sinks, audit ──────────────────────────────────────────────────────
function showTrend() {
  return trend.show($("trend-tag").value, Number($("trend-range").value));
}

async function refreshFlows() {
  const f = await api("/flows");
  $("revision").textContent = `flows ${f.revision}${f.valid ? "" : " (invalid)"}`;
  // A change on disk that was rejected: the running flows carry on, the operator should know.
  const r = f.reload;
  $("reload-state").hidden = !r || r.ok;
  $("reload-state").textContent = r && !r.ok
    ? `The last flow change was rejected (${fmtTime(r.attemptedAt)}); revision ${r.revision} ` +
      `runs on:\n${r.errors.join("\n")}`
    : "";
  if (f.revision === state.revision) return false;
  state.revision = f.revision;
  drawGraph($("graph"), await api("/graph"));
  return true;
}

async function refreshSinks() {
  const s = await api("/stats");
  const body = $("sinks").tBodies[0];
  body.replaceChildren();
  for (const [name, { use, counters }] of Object.entries(s.sinks)) {
    const row = body.insertRow();
    row.dataset.sink = name;
    const { depth, processed, dropped, errors, ...rest } = counters;
    cell(row, name);
    cell(row, use);
    cell(row, String(depth ?? ""), "num");
    cell(row, String(processed ?? ""), "num");
    cell(row, String(dropped ?? ""), "num");
    cell(row, String(errors ?? ""), "num");
    cell(row, Object.entries(rest).map(([k, v]) => `${k} ${v}`).join(", "));
  }
}

async function refreshAudit() {
  let r;
  try {
    r = await api("/audit?limit=20");
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      $("audit-info").textContent =
        `Recent writes need a token with the admin scope (${e.message}).`;
      $("audit").tBodies[0].replaceChildren();
      return;
    }
    $("audit-info").textContent = e.message;
    return;
  }
  $("audit-info").textContent = r.entries.length ? "" : "No writes yet.";
  const body = $("audit").tBodies[0];
  body.replaceChildren();
  for (const a of r.entries) {
    const row = body.insertRow();
    cell(row, new Date(a.ts).toLocaleString());
    cell(row, a.who);
    cell(row, `${a.device}/${a.tag}`);
    cell(row, fmtValue(a.oldValue));
    cell(row, fmtValue(a.newValue));
    cell(row, a.result, a.result === "ok" ? "result ok" : "result bad").title = a.message ?? "";
  }
}

/** Runs `fn` now and every `ms`, showing its failure without stopping. */
function every(ms, fn) {
  const run = () =>
    fn().then(() => notice(), (e) => notice(e.message, true)).finally(() => setTimeout(run, ms));
  run();
}

async function start() {
  showTokenState();
  $("token-button").addEventListener("click", async () => {
    await askToken("An API token (read, write or admin scope).");
    reconnect();
    await loadTags().catch(() => {});
    refreshAudit().catch(() => {});
  });
  $("tag-filter").addEventListener("input", filterTags);
  $("trend-tag").addEventListener("change", showTrend);
  $("trend-range").addEventListener("change", showTrend);
  // The first call says whether the gateway wants a token to be read at all.
  await withToken(() => refreshFlows(), "Reading the gateway").catch((e) =>
    notice(e.message, true)
  );
  await loadTags().catch((e) => notice(e.message, true));
  connect();
  every(2000, refreshDevices);
  every(2000, refreshSinks);
  every(5000, refreshAudit);
  every(10_000, async () => {
    if (await refreshFlows()) await loadTags();
  });
  every(30_000, showTrend);
  state.ready = true;
}

start();
