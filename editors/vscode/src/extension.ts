/**
 * @module
 * The Bifrost extension's entry: flow editing (names, checks, plans; see ext/language.ts),
 * running gateways (Devices tree, Performance view, tag commands; ext/gateways.ts) and the
 * command line's tools (ext/tools.ts). Everything it computes lives in lib/ (pure modules
 * tested with Deno); this file only wires commands and views.
 */

import * as vscode from "vscode";
import { activateLanguage } from "./ext/language.ts";
import { addGateway, Gateways, migrateGatewaySettings, removeGateway } from "./ext/gateways.ts";
import { browse, discover, disposeSimulator, startSimulator, stopSimulator } from "./ext/tools.ts";
import { activateSchemaFallback } from "./ext/schema_fallback.ts";

/** Called by VS Code when a workspace holds flows or a YAML file opens. */
export function activate(ctx: vscode.ExtensionContext): void {
  const gws = new Gateways(ctx);
  activateLanguage(ctx, gws);
  activateSchemaFallback(ctx);
  const cmd = (id: string, fn: (...a: never[]) => unknown) =>
    ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  ctx.subscriptions.push(
    vscode.window.createTreeView("bifrost.devices", {
      treeDataProvider: gws,
      showCollapseAll: true,
    }),
    vscode.window.registerTreeDataProvider("bifrost.performance", gws.perf),
    gws,
    { dispose: disposeSimulator },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("bifrost.gateways")) {
        void migrateGatewaySettings(gws).then(() => gws.reconnect());
      }
    }),
  );
  cmd("bifrost.addGateway", () => addGateway(gws));
  cmd("bifrost.removeGateway", (n: never) => removeGateway(gws, n));
  cmd("bifrost.refresh", () => gws.reconnect());
  cmd("bifrost.readTag", (n: never) => gws.readTag(n));
  cmd("bifrost.writeTag", (n: never) => gws.writeTag(n));
  cmd("bifrost.trend", (n: never) => gws.trend(n));
  cmd("bifrost.exportHistory", (n: never) => gws.exportHistory(n));
  cmd("bifrost.status", () => gws.status());
  cmd("bifrost.browse", () => browse());
  cmd("bifrost.discover", () => discover());
  cmd("bifrost.startSimulator", () => startSimulator(gws));
  cmd("bifrost.stopSimulator", () => stopSimulator(gws));
  void migrateGatewaySettings(gws).then(() => gws.reconnect());
}

/** Called by VS Code on shutdown; the subscriptions clean up. */
export function deactivate(): void {}
