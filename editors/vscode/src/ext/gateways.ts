/**
 * @module
 * The running gateways: connections (URL and token in VS Code's secret storage, see
 * lib/gateway_store.ts; the old `bifrost.gateways` setting is moved there once),
 * the Devices tree with live values over the WebSocket (only changed rows refreshed, at
 * most four times a second), the Performance view, and notifications of problems, once
 * each. Commands on a tag: read now, write (confirmed, with the gateway's answer), its trend
 * as a chart in a webview (lib/trend_chart.ts), export of its history.
 */

import * as vscode from "vscode";
import WebSocket from "ws";
import {
  type DeviceInfo,
  GatewayClient,
  type JsonValue,
  liveUrl,
  type Stats,
} from "../lib/gateway.ts";
import { LiveFeed, type SocketLike } from "../lib/live.ts";
import { deviceDescription, DevicesModel, formatValue, type TagRow } from "../lib/devices_model.ts";
import {
  flowsProblems,
  historyToCsv,
  historyToJson,
  NotifyOnce,
  type PerfRow,
  perfRows,
  problems,
} from "../lib/perf.ts";
import {
  TREND_RANGES,
  trendHtml,
  trendPoints,
  trendSummary,
  trendSvg,
} from "../lib/trend_chart.ts";
import { parseWriteInput } from "../lib/write_input.ts";
import { output } from "./cli.ts";
import { GatewayStore, legacyTokenKey } from "../lib/gateway_store.ts";

/** A configured gateway (the token only in memory, read from the secret storage). */
export interface GatewayConfig {
  name: string;
  url: string;
  token?: string;
}

const openSocket = (url: string, headers: Record<string, string>): SocketLike =>
  new WebSocket(url, { headers }) as unknown as SocketLike;

type Node =
  | { type: "gateway"; conn: Connection }
  | { type: "device"; conn: Connection; name: string }
  | { type: "tag"; conn: Connection; row: TagRow }
  | { type: "message"; text: string };

/** One connected gateway. */
class Connection {
  readonly model = new DevicesModel();
  readonly node: Node;
  state = "connecting";
  error: string | undefined;
  stats: Stats | undefined;
  revision: string | undefined;
  #tagNodes = new Map<TagRow, Node>();
  #deviceNodes = new Map<string, Node>();
  #feed: LiveFeed | undefined;

  constructor(readonly cfg: GatewayConfig, readonly client: GatewayClient) {
    this.node = { type: "gateway", conn: this };
  }

  deviceNode(name: string): Node {
    let n = this.#deviceNodes.get(name);
    if (!n) this.#deviceNodes.set(name, n = { type: "device", conn: this, name });
    return n;
  }

  tagNode(row: TagRow): Node {
    let n = this.#tagNodes.get(row);
    if (!n) this.#tagNodes.set(row, n = { type: "tag", conn: this, row });
    return n;
  }

  startLive(onRows: (rows: TagRow[]) => void, onState: () => void): void {
    this.#feed?.close();
    this.#feed = new LiveFeed({
      url: liveUrl(this.client.url),
      headers: this.client.headers(),
      patterns: ["*/*"],
      open: openSocket,
      onValues: (values) => onRows(this.model.applyLive(values)),
      onState: (s, detail) => {
        if (s === "closed") this.error = detail;
        onState();
      },
    });
  }

  close(): void {
    this.#feed?.close();
  }
}

function qualityIcon(q: TagRow["quality"]): vscode.ThemeIcon {
  switch (q) {
    case "good":
      return new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed"));
    case "uncertain":
      return new vscode.ThemeIcon("warning", new vscode.ThemeColor("list.warningForeground"));
    case "bad":
      return new vscode.ThemeIcon("error", new vscode.ThemeColor("list.errorForeground"));
    default:
      return new vscode.ThemeIcon("circle-outline");
  }
}

function deviceIcon(d: DeviceInfo | undefined): vscode.ThemeIcon {
  if (!d) return new vscode.ThemeIcon("question");
  if (d.state === "connected" && d.answering) {
    return new vscode.ThemeIcon("vm-running", new vscode.ThemeColor("testing.iconPassed"));
  }
  if (d.state === "backoff" || !d.answering) {
    return new vscode.ThemeIcon("vm-outline", new vscode.ThemeColor("list.errorForeground"));
  }
  return new vscode.ThemeIcon("vm-connect");
}

/** The Devices tree and Performance view over every configured gateway. */
export class Gateways implements vscode.TreeDataProvider<Node> {
  #conns = new Map<string, Connection>();
  #changed = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  #pending = new Set<Node>();
  #flush: ReturnType<typeof setTimeout> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #once = new NotifyOnce();
  readonly perf: PerfView;
  /** Gateways added at run time (a simulator started from the editor). */
  readonly transient: GatewayConfig[] = [];
  /** Names, URLs and tokens of the gateways added by the user. */
  readonly store: GatewayStore;
  #stored: GatewayConfig[] = [];

  #secrets: vscode.SecretStorage;

  constructor(ctx: vscode.ExtensionContext) {
    this.perf = new PerfView(this);
    this.#secrets = ctx.secrets;
    this.store = new GatewayStore(ctx.secrets, ctx.globalState);
  }

  /**
   * Entries still in the old setting (the secret storage refused them: see
   * {@linkcode migrateGatewaySettings}), so that they still connect.
   */
  async #unmoved(stored: string[]): Promise<GatewayConfig[]> {
    const list = vscode.workspace.getConfiguration("bifrost").get<unknown[]>("gateways") ?? [];
    const out: GatewayConfig[] = [];
    for (const e of Array.isArray(list) ? list : []) {
      const { name, url } = (e ?? {}) as { name?: unknown; url?: unknown };
      if (typeof name !== "string" || typeof url !== "string" || stored.includes(name)) continue;
      const token = await Promise.resolve(this.#secrets.get(legacyTokenKey(name))).catch(
        () => undefined,
      );
      out.push({ name, url, ...(token ? { token } : {}) });
    }
    return out;
  }

  /** The gateways as of the last (re)connect, then the transient ones. */
  configs(): GatewayConfig[] {
    return [...this.#stored, ...this.transient];
  }

  connections(): Connection[] {
    return [...this.#conns.values()];
  }

  /** The gateways in order, with their state (for the check on save). */
  candidates(): { name: string; state: string }[] {
    return this.connections().map((c) => ({ name: c.cfg.name, state: c.state }));
  }

  /** The client of a gateway by name. */
  client(name: string): GatewayClient | undefined {
    return this.#conns.get(name)?.client;
  }

  #reconnecting: Promise<void> = Promise.resolve();

  /**
   * (Re)connects to every configured gateway and starts the health refresh; one at a time
   * (a settings change during a reconnect would otherwise leave two feeds per gateway).
   */
  reconnect(): Promise<void> {
    const next = this.#reconnecting.then(() => this.#reconnect());
    this.#reconnecting = next.catch(() => {});
    return next;
  }

  async #reconnect(): Promise<void> {
    for (const c of this.#conns.values()) c.close();
    this.#conns.clear();
    const { gateways, missing } = await this.store.list().catch((e) => {
      void vscode.window.showErrorMessage(
        `Bifrost: cannot read the gateways from the secret storage: ${(e as Error).message}`,
      );
      return { gateways: [], missing: [] };
    });
    this.#stored = [...gateways, ...(await this.#unmoved(gateways.map((g) => g.name)))];
    for (const name of missing) {
      void vscode.window.showWarningMessage(
        `Bifrost: gateway "${name}" has no URL in the secret storage: add it again (Bifrost: Add Gateway)`,
      );
    }
    for (const cfg of this.configs()) {
      const token = cfg.token;
      let client: GatewayClient;
      try {
        client = new GatewayClient({ url: cfg.url, ...(token ? { token } : {}) });
      } catch (e) {
        void vscode.window.showErrorMessage(
          `Bifrost: gateway "${cfg.name}": ${(e as Error).message}`,
        );
        continue;
      }
      this.#conns.set(cfg.name, new Connection(cfg, client));
    }
    this.#changed.fire(undefined);
    await Promise.all(this.connections().map((c) => this.#load(c)));
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.refreshHealth(), 5000);
  }

  async #load(c: Connection): Promise<void> {
    try {
      c.model.setDevices(await c.client.devices());
      c.model.setTags(await c.client.tags());
      c.state = "connected";
      c.error = undefined;
      c.startLive((rows) => this.#queue(rows.map((r) => c.tagNode(r))), () => {});
    } catch (e) {
      c.state = "unreachable";
      c.error = (e as Error).message;
      this.#notify(
        [{ key: `${c.cfg.name}:unreachable`, severity: "error", message: `Bifrost: ${c.error}` }],
        `${c.cfg.name}:`,
      );
    }
    this.#changed.fire(undefined);
  }

  /** Device health, counters and the flows' revision; notifications of new problems. */
  async refreshHealth(): Promise<void> {
    for (const c of this.connections()) {
      if (c.state === "unreachable" && c.model.devices.size === 0) {
        // Never reached: load devices and tags and start the live feed once it answers.
        await this.#load(c);
        if (c.state === "unreachable") continue;
      }
      try {
        const prev = c.stats;
        const devices = await c.client.devices();
        const structure = c.model.setDevices(devices);
        c.stats = await c.client.stats();
        const flows = await c.client.flows();
        if (c.revision !== undefined && flows.revision !== c.revision) {
          // A reload: the tags may have changed.
          c.model.setTags(await c.client.tags());
          void vscode.window.showInformationMessage(
            `Bifrost: ${c.cfg.name} reloaded its flows (revision ${flows.revision})`,
          );
          this.#changed.fire(undefined);
        } else if (structure || c.state !== "connected") {
          c.state = "connected";
          this.#changed.fire(undefined);
        } else {
          this.#queue(devices.map((d) => c.deviceNode(d.name)));
        }
        c.revision = flows.revision;
        c.state = "connected";
        this.#notify(
          [...problems(c.cfg.name, devices, c.stats, prev), ...flowsProblems(c.cfg.name, flows)],
          `${c.cfg.name}:`,
        );
      } catch (e) {
        c.error = (e as Error).message;
        if (c.state !== "unreachable") {
          c.state = "unreachable";
          this.#changed.fire(undefined);
        }
        this.#notify([{
          key: `${c.cfg.name}:unreachable`,
          severity: "error",
          message: `Bifrost: ${c.error}`,
        }], `${c.cfg.name}:`);
      }
    }
    this.perf.refresh();
  }

  #notify(list: ReturnType<typeof problems>, scope?: string): void {
    for (const p of this.#once.fresh(list, scope)) {
      if (p.severity === "error") void vscode.window.showErrorMessage(p.message);
      else void vscode.window.showWarningMessage(p.message);
    }
  }

  #queue(nodes: Node[]): void {
    for (const n of nodes) this.#pending.add(n);
    if (this.#flush || this.#pending.size === 0) return;
    this.#flush = setTimeout(() => {
      this.#flush = undefined;
      const batch = [...this.#pending];
      this.#pending.clear();
      this.#changed.fire(batch);
    }, 250);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.type === "message") return new vscode.TreeItem(n.text);
    if (n.type === "gateway") {
      const item = new vscode.TreeItem(n.conn.cfg.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `gw:${n.conn.cfg.name}`;
      item.description = `${n.conn.state} · ${n.conn.client.url}`;
      item.tooltip = n.conn.error ?? n.conn.client.url;
      item.contextValue = "gateway";
      item.iconPath = new vscode.ThemeIcon(
        n.conn.state === "connected" ? "server" : "debug-disconnect",
      );
      return item;
    }
    if (n.type === "device") {
      const d = n.conn.model.devices.get(n.name);
      const item = new vscode.TreeItem(n.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `dev:${n.conn.cfg.name}/${n.name}`;
      item.description = d ? deviceDescription(d) : "";
      item.tooltip = d?.lastError ? `${d.driver}: ${d.lastError}` : d?.driver;
      item.iconPath = deviceIcon(d);
      item.contextValue = "device";
      return item;
    }
    const r = n.row;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.None);
    item.id = `tag:${n.conn.cfg.name}/${r.key}`;
    item.description = r.text;
    item.iconPath = qualityIcon(r.quality);
    item.contextValue = r.info.writable ? "tag-writable" : "tag";
    item.tooltip = [
      `${r.key} (${r.info.type}${r.info.writable ? ", writable" : ""})`,
      r.info.description,
      `quality: ${r.quality}${r.reason ? ` (${r.reason})` : ""}`,
      r.ts ? `at ${new Date(r.ts).toISOString()}` : undefined,
    ].filter(Boolean).join("\n");
    return item;
  }

  getChildren(n?: Node): Node[] {
    if (!n) {
      const conns = this.connections();
      if (conns.length === 0) {
        return [{ type: "message", text: "No gateway: use + (Bifrost: Add Gateway)" }];
      }
      return conns.map((c) => c.node);
    }
    if (n.type === "gateway") {
      return [...n.conn.model.devices.keys()].map((d) => n.conn.deviceNode(d));
    }
    if (n.type === "device") return n.conn.model.tagsOf(n.name).map((r) => n.conn.tagNode(r));
    return [];
  }

  getParent(n: Node): Node | undefined {
    if (n.type === "device") return n.conn.node;
    if (n.type === "tag") return n.conn.deviceNode(n.row.device);
    return undefined;
  }

  dispose(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#flush);
    for (const c of this.#conns.values()) c.close();
  }

  // ── Commands on a tag ─────────────────────────────────────────────────────────
  async readTag(n?: Node): Promise<void> {
    const t = await this.#pickTag(n);
    if (!t) return;
    try {
      const r = await t.conn.client.read(t.row.device, t.row.name);
      if (r.ok) {
        void vscode.window.showInformationMessage(
          `${t.row.key} = ${formatValue(r.value, t.row.info.unit)} (${r.quality})`,
        );
        t.conn.model.applyLive([{
          tag: t.row.key,
          value: r.value ?? null,
          quality: r.quality ?? "good",
          ts: Date.now(),
        }]);
        this.#queue([t]);
      } else {
        void vscode.window.showErrorMessage(`Cannot read ${t.row.key}: ${r.error?.message}`);
      }
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
    }
  }

  async writeTag(n?: Node): Promise<void> {
    const t = await this.#pickTag(n, true);
    if (!t) return;
    const kind = t.row.info.kind ?? t.row.info.type;
    const text = await vscode.window.showInputBox({
      title: `Write ${t.row.key}`,
      prompt: `New value (${kind}${
        t.row.info.unit ? `, ${t.row.info.unit}` : ""
      }); now ${t.row.text}`,
      validateInput: (s) => {
        try {
          parseWriteInput(s, kind);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (text === undefined) return;
    const value: JsonValue = parseWriteInput(text, kind);
    const ok = await vscode.window.showWarningMessage(
      `Write ${JSON.stringify(value)} to ${t.row.key} on ${t.conn.cfg.name}?`,
      { modal: true, detail: `Now: ${t.row.text}` },
      "Write",
    );
    if (ok !== "Write") return;
    try {
      const r = await t.conn.client.write(t.row.device, t.row.name, value);
      void vscode.window.showInformationMessage(
        `Wrote ${JSON.stringify(r.value)} to ${t.row.key}` +
          (r.previous === undefined ? "" : ` (was ${JSON.stringify(r.previous)})`),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Write refused: ${(e as Error).message}`);
    }
  }

  /** A webview with the tag's trend as a chart, its range selectable, and export buttons. */
  async trend(n?: Node): Promise<void> {
    const t = await this.#pickTag(n);
    if (!t) return;
    const panel = vscode.window.createWebviewPanel(
      "bifrost.trend",
      `Trend: ${t.row.key}`,
      vscode.ViewColumn.Active,
      { enableScripts: true, localResourceRoots: [] },
    );
    const nonce = Array.from(
      crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    let rangeMs = TREND_RANGES[1]!.ms;
    const draw = async () => {
      const to = Date.now();
      const from = to - rangeMs;
      try {
        const h = await t.conn.client.history(t.row.device, t.row.name, {
          from,
          to,
          points: 400,
        });
        const unit = t.row.info.unit;
        const o = { from, to, ...(unit ? { unit } : {}) };
        await panel.webview.postMessage({
          type: "chart",
          svg: trendSvg(h, o),
          points: trendPoints(h, o),
          unit: unit ?? "",
          summary: trendSummary(h, unit),
        });
      } catch (e) {
        await panel.webview.postMessage({
          type: "error",
          message: `No trend for ${t.row.key}: ${(e as Error).message}`,
        });
      }
    };
    panel.webview.onDidReceiveMessage((m: { type?: string; ms?: number; format?: string }) => {
      if (typeof m.ms === "number" && m.ms > 0) rangeMs = m.ms;
      if (m.type === "range") void draw();
      if (m.type === "export" && (m.format === "CSV" || m.format === "JSON")) {
        void this.#exportTo(t, m.format, rangeMs);
      }
    });
    // Newest data while the chart is visible.
    const timer = setInterval(() => {
      if (panel.visible) void draw();
    }, 10_000);
    panel.onDidDispose(() => clearInterval(timer));
    panel.webview.html = trendHtml({
      title: `${t.row.key} on ${t.conn.cfg.name}`,
      nonce,
      cspSource: panel.webview.cspSource,
    });
  }

  async exportHistory(n?: Node): Promise<void> {
    const t = await this.#pickTag(n);
    if (!t) return;
    const picked = await vscode.window.showQuickPick(["CSV", "JSON"], {
      title: `Export the history of ${t.row.key}`,
    });
    if (picked !== "CSV" && picked !== "JSON") return;
    const format = picked;
    const range = await vscode.window.showQuickPick(
      TREND_RANGES.map((r) => ({ label: r.label, ms: r.ms })),
      { title: "Range" },
    );
    if (!range) return;
    await this.#exportTo(t, format, range.ms);
  }

  async #exportTo(t: Node & { type: "tag" }, format: "CSV" | "JSON", ms: number): Promise<void> {
    const ext = format === "CSV" ? "csv" : "json";
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      ...(folder
        ? { defaultUri: vscode.Uri.joinPath(folder, `${t.row.device}-${t.row.name}.${ext}`) }
        : {}),
      filters: { [format]: [ext] },
    });
    if (!target) return;
    try {
      const to = Date.now();
      const h = await t.conn.client.history(t.row.device, t.row.name, {
        from: to - ms,
        to,
        points: 5000,
      });
      const text = format === "CSV" ? historyToCsv(h) : historyToJson(h);
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
      void vscode.window.showInformationMessage(
        `Exported ${h.points.length} points of ${t.row.key} to ${target.fsPath}` +
          (h.downsampled ? ` (downsampled from ${h.records} records)` : ""),
      );
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot export ${t.row.key}: ${(e as Error).message}`);
    }
  }

  async #pickTag(n?: Node, writable = false): Promise<(Node & { type: "tag" }) | undefined> {
    if (n?.type === "tag") return n;
    const all = this.connections().flatMap((c) =>
      [...c.model.devices.keys()].flatMap((d) => c.model.tagsOf(d).map((r) => c.tagNode(r)))
    ) as (Node & { type: "tag" })[];
    const items = all.filter((t) => !writable || t.row.info.writable).map((t) => ({
      label: t.row.key,
      description: `${t.conn.cfg.name} · ${t.row.text}`,
      t,
    }));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(
        writable ? "Bifrost: no writable tag on the connected gateways" : "Bifrost: no tag",
      );
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { title: "Tag" }))?.t;
  }

  async status(): Promise<void> {
    const lines: string[] = [];
    for (const c of this.connections()) {
      try {
        const f = await c.client.flows();
        lines.push(
          `${c.cfg.name}: revision ${f.revision}, ${
            f.valid ? "valid" : "INVALID"
          }, ${f.files.length} file(s), ` +
            `${f.devices} device(s), ${f.polls} poll(s), ${f.steps} step(s), ${f.sinks} sink(s)`,
        );
      } catch (e) {
        lines.push(`${c.cfg.name}: ${(e as Error).message}`);
      }
    }
    void vscode.window.showInformationMessage(lines.join("\n") || "Bifrost: no gateway configured");
  }
}

type PerfNode = { group: string; rows: PerfRow[] } | PerfRow;

/** Per-device latency and errors, poll lateness, sink backlogs. */
class PerfView implements vscode.TreeDataProvider<PerfNode> {
  #changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.#changed.event;
  constructor(private readonly gws: Gateways) {}

  refresh(): void {
    this.#changed.fire(undefined);
  }

  getTreeItem(n: PerfNode): vscode.TreeItem {
    if ("rows" in n) {
      const item = new vscode.TreeItem(n.group, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `perf:${n.group}`;
      return item;
    }
    const item = new vscode.TreeItem(n.name);
    item.id = `perf:${n.group}:${n.name}`;
    item.description = n.text;
    item.tooltip = n.text;
    item.iconPath = new vscode.ThemeIcon(n.warn ? "warning" : "pulse");
    return item;
  }

  getChildren(n?: PerfNode): PerfNode[] {
    if (n) return "rows" in n ? n.rows : [];
    const out: PerfNode[] = [];
    for (const c of this.gws.connections()) {
      if (!c.stats) continue;
      const rows = perfRows([...c.model.devices.values()], c.stats);
      for (const g of ["devices", "polls", "sinks"] as const) {
        const list = rows.filter((r) => r.group === g);
        if (list.length) out.push({ group: `${c.cfg.name}: ${g}`, rows: list });
      }
    }
    return out;
  }
}

/** Adds a gateway: its URL and token to the secret storage, its name to the list. */
export async function addGateway(gws: Gateways): Promise<void> {
  const url = await vscode.window.showInputBox({
    title: "Gateway URL",
    value: "http://127.0.0.1:8720",
    validateInput: (s) => {
      try {
        new GatewayClient({ url: s });
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (!url) return;
  const name = await vscode.window.showInputBox({
    title: "Name of this gateway",
    value: new URL(url).host,
  });
  if (!name) return;
  const token = await vscode.window.showInputBox({
    title: "API token (empty for an open loopback gateway)",
    password: true,
  });
  if (token === undefined) return;
  await gws.store.save({ name, url, ...(token ? { token } : {}) });
  await gws.reconnect();
}

/** Removes a gateway and its token. */
export async function removeGateway(
  gws: Gateways,
  n?: { type: string; conn?: { cfg: GatewayConfig } },
): Promise<void> {
  const name = n?.conn?.cfg.name ??
    (await vscode.window.showQuickPick(
      gws.configs().filter((g) => !gws.transient.includes(g)).map((g) => g.name),
      { title: "Remove" },
    ));
  if (!name) return;
  await gws.store.remove(name);
  // One the secret storage refused is still in the old setting.
  const cfg = vscode.workspace.getConfiguration("bifrost");
  const old = cfg.inspect<unknown[]>("gateways")?.globalValue;
  if (Array.isArray(old) && old.some((e) => (e as { name?: unknown } | null)?.name === name)) {
    const left = old.filter((e) => (e as { name?: unknown } | null)?.name !== name);
    await cfg.update("gateways", left.length ? left : undefined, vscode.ConfigurationTarget.Global);
  }
  await gws.reconnect();
}

/**
 * Moves gateways of the old `bifrost.gateways` setting (user and workspace) into the secret
 * storage, then removes them from the setting; an entry that cannot be moved stays there,
 * and is reported.
 */
export async function migrateGatewaySettings(gws: Gateways): Promise<void> {
  const cfg = vscode.workspace.getConfiguration("bifrost");
  const inspect = cfg.inspect<unknown[]>("gateways");
  const targets: [unknown[] | undefined, vscode.ConfigurationTarget][] = [
    [inspect?.globalValue, vscode.ConfigurationTarget.Global],
    [inspect?.workspaceValue, vscode.ConfigurationTarget.Workspace],
  ];
  const moved: string[] = [];
  for (const [value, target] of targets) {
    if (!Array.isArray(value) || value.length === 0) continue;
    let r;
    try {
      r = await gws.store.migrate(value);
    } catch (e) {
      // No keyring, say: the entries stay in the setting and still connect from there.
      void vscode.window.showErrorMessage(
        `Bifrost: cannot move gateways to the secret storage (${
          (e as Error).message
        }): they stay in the setting bifrost.gateways`,
      );
      continue;
    }
    moved.push(...r.moved);
    const left = value.filter((e) => {
      const n = (e as { name?: unknown } | null)?.name;
      return !r.moved.includes(n as string) && !r.kept.includes(n as string);
    });
    try {
      await cfg.update("gateways", left.length ? left : undefined, target);
    } catch (e) {
      output().appendLine(`Cannot clear bifrost.gateways: ${(e as Error).message}`);
    }
    for (const why of r.skipped) {
      void vscode.window.showWarningMessage(`Bifrost: cannot move a gateway: ${why}`);
    }
  }
  if (moved.length) {
    output().appendLine(
      `Moved gateway(s) ${
        moved.join(", ")
      } from the setting bifrost.gateways to the secret storage (URL and token)`,
    );
  }
}
