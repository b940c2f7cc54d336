/**
 * @module
 * Editing flows: the index of names kept current from the workspace and open editors;
 * completion of device, tag, poll and step names; go to definition and find references;
 * `bifrost check` on save into the Problems panel with did-you-mean quick fixes; a CodeLens
 * over each poll with `bifrost plan`'s requests.
 */

import * as vscode from "vscode";
import * as path from "node:path";
import { FlowIndex, type FlowRef, type FlowSymbol, type Span } from "../lib/flow_index.ts";
import { nameCandidates, nameContext } from "../lib/completion.ts";
import {
  byFile,
  type CheckIssue,
  didYouMeanFix,
  flowDirOf,
  parseCheckJson,
  parsePlan,
  placeIssue,
  planTitle,
  type PollPlan,
} from "../lib/check.ts";
import {
  type CheckCandidate,
  type CheckReader,
  chooseCheckRoute,
  collectCheckFiles,
  fallsBackToCli,
  issuesFromGateway,
} from "../lib/check_source.ts";
import { type GatewayClient, GatewayError } from "../lib/gateway.ts";
import { output, runCli } from "./cli.ts";

/** The connected gateways, as the check on save needs them (ext/gateways.ts). */
export interface GatewayChecker {
  candidates(): CheckCandidate[];
  client(name: string): GatewayClient | undefined;
}

/** Reads a flow directory: open editors first, then the disk. */
const reader: CheckReader = {
  async list(dir) {
    try {
      const entries = await vscode.workspace.fs.readDirectory(vscode.Uri.file(dir));
      return entries.filter(([, t]) => t === vscode.FileType.File).map(([n]) => n);
    } catch {
      return [];
    }
  },
  async read(file) {
    const uri = vscode.Uri.file(file);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    if (open) return open.getText();
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return undefined;
    }
  },
};

/**
 * `bifrost check` of a flow directory: on a connected gateway when there is one (see
 * lib/check_source.ts), else, or when that gateway cannot check, with the command line.
 */
async function runCheck(
  dir: string,
  checker: GatewayChecker | undefined,
): Promise<{ issues: CheckIssue[]; source: string }> {
  const checkWith = vscode.workspace.getConfiguration("bifrost").get<string>("checkWith", "auto");
  const route = chooseCheckRoute(checkWith, checker?.candidates() ?? []);
  const client = route.kind === "gateway" ? checker?.client(route.name) : undefined;
  if (route.kind === "gateway" && client) {
    try {
      const files = await collectCheckFiles(dir, reader);
      const issues = issuesFromGateway(dir, await client.check(files));
      output().appendLine(
        `bifrost check ${dir}: checked on gateway "${route.name}" (${
          Object.keys(files).length
        } file(s), ${issues.length} issue(s))`,
      );
      return { issues, source: `bifrost check (${route.name})` };
    } catch (e) {
      if (e instanceof GatewayError && !fallsBackToCli(e.status)) throw e;
      output().appendLine(
        `bifrost check ${dir}: gateway "${route.name}" cannot check (${
          (e as Error).message
        }): using the command line`,
      );
    }
  }
  const r = await runCli(["check", dir, "--json"], dir);
  return { issues: parseCheckJson(r.stdout), source: "bifrost check" };
}

const KIND: Record<FlowSymbol["kind"], vscode.CompletionItemKind> = {
  device: vscode.CompletionItemKind.Module,
  tag: vscode.CompletionItemKind.Field,
  poll: vscode.CompletionItemKind.Event,
  step: vscode.CompletionItemKind.Function,
  sink: vscode.CompletionItemKind.Interface,
  trigger: vscode.CompletionItemKind.Method,
};

function flowGlob(): string {
  return vscode.workspace.getConfiguration("bifrost").get<string>("flowFiles") ??
    "**/flows/**/*.{yaml,yml}";
}

/** Whether a document is a flow file. */
export function isFlow(doc: vscode.TextDocument): boolean {
  if (doc.uri.scheme !== "file" || !/\.ya?ml$/.test(doc.fileName)) return false;
  return vscode.languages.match({ pattern: flowGlob() }, doc) > 0 ||
    doc.fileName.split(/[\\/]/).includes("flows");
}

function location(s: Span): vscode.Location {
  return new vscode.Location(
    vscode.Uri.file(s.file),
    new vscode.Range(s.start.line, s.start.character, s.end.line, s.end.character),
  );
}

/** Sets up the language features; returns the index (the gateway part reads it too). */
export function activateLanguage(
  ctx: vscode.ExtensionContext,
  checker?: GatewayChecker,
): FlowIndex {
  const index = new FlowIndex();
  const diagnostics = vscode.languages.createDiagnosticCollection("bifrost");
  const plans = new Map<string, Map<string, PollPlan>>();
  const lensChanged = new vscode.EventEmitter<void>();
  ctx.subscriptions.push(diagnostics, lensChanged);

  const load = async () => {
    for (const uri of await vscode.workspace.findFiles(flowGlob(), "**/node_modules/**", 2000)) {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
      const text = open?.getText() ??
        new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      index.update(uri.fsPath, text);
    }
  };
  void load();
  const watcher = vscode.workspace.createFileSystemWatcher(flowGlob());
  const reread = async (uri: vscode.Uri) => {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    index.update(uri.fsPath, text);
  };
  ctx.subscriptions.push(
    watcher,
    watcher.onDidCreate(reread),
    watcher.onDidChange(reread),
    watcher.onDidDelete((u) => index.remove(u.fsPath)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (isFlow(e.document)) index.update(e.document.fileName, e.document.getText());
    }),
  );

  const selector: vscode.DocumentSelector = [{ language: "yaml", scheme: "file" }];
  const at = (doc: vscode.TextDocument, pos: vscode.Position) => {
    if (!isFlow(doc)) return undefined;
    index.update(doc.fileName, doc.getText());
    return index.at(doc.fileName, { line: pos.line, character: pos.character });
  };

  ctx.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(
      selector,
      {
        provideCompletionItems(doc, pos) {
          if (!isFlow(doc)) return undefined;
          const c = nameContext(
            doc.getText(),
            { line: pos.line, character: pos.character },
            (p) => index.pollDevice(p),
          );
          if (!c) return undefined;
          return nameCandidates(index, c).map((n) => {
            const item = new vscode.CompletionItem(n.label, KIND[n.kind]);
            item.detail = n.detail;
            item.sortText = `0${n.label}`;
            return item;
          });
        },
      },
      " ",
      "[",
      ",",
      "-",
    ),
    vscode.languages.registerDefinitionProvider(selector, {
      provideDefinition(doc, pos) {
        const x = at(doc, pos);
        return x ? index.resolve(x).map((s) => location(s.span)) : undefined;
      },
    }),
    vscode.languages.registerReferenceProvider(selector, {
      provideReferences(doc, pos, rc) {
        const x = at(doc, pos);
        if (!x) return undefined;
        const defs = index.resolve(x);
        const refs: (FlowRef | FlowSymbol)[] = defs.flatMap((d) => index.references(d));
        if (rc.includeDeclaration) refs.push(...defs);
        return refs.map((r) => location(r.span));
      },
    }),
    vscode.languages.registerHoverProvider(selector, {
      provideHover(doc, pos) {
        const x = at(doc, pos);
        if (!x) return undefined;
        const defs = index.resolve(x);
        if (defs.length === 0) return undefined;
        const lines = defs.map((d) => {
          const where = `${path.basename(d.span.file)}:${d.span.start.line + 1}`;
          const owner = d.kind === "tag" ? ` of device \`${d.device}\`` : "";
          return `**${d.kind}** \`${d.name}\`${owner}${d.detail ? ` (${d.detail})` : ""}, ${where}`;
        });
        return new vscode.Hover(new vscode.MarkdownString(lines.join("\n\n")));
      },
    }),
  );

  // ── bifrost check on save ───────────────────────────────────────────────────────
  const check = async (doc: vscode.TextDocument): Promise<void> => {
    const dir = flowDirOf(doc.fileName);
    let issues;
    let source;
    try {
      ({ issues, source } = await runCheck(dir, checker));
    } catch (e) {
      output().appendLine(`bifrost check ${dir}: ${(e as Error).message}`);
      void vscode.window.showWarningMessage(`Bifrost: ${(e as Error).message}`);
      return;
    }
    // Clear this flow directory's files, then set what check found.
    diagnostics.forEach((uri) => {
      if (uri.fsPath.startsWith(dir + path.sep)) diagnostics.delete(uri);
    });
    for (const [file, list] of byFile(issues)) {
      const uri = vscode.Uri.file(path.isAbsolute(file) ? file : path.join(dir, file));
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
      const text = open?.getText() ??
        new TextDecoder().decode(
          await vscode.workspace.fs.readFile(uri).then((b) => b, () => new Uint8Array()),
        );
      diagnostics.set(
        uri,
        list.map((i) => {
          const p = placeIssue(text, i);
          const d = new vscode.Diagnostic(
            new vscode.Range(p.start.line, p.start.character, p.end.line, p.end.character),
            i.message,
            i.severity === "warning"
              ? vscode.DiagnosticSeverity.Warning
              : vscode.DiagnosticSeverity.Error,
          );
          // `bifrost check (<gateway>)` when a gateway checked: the Problems panel says which.
          d.source = source;
          if (i.path) d.code = i.path;
          return d;
        }),
      );
    }
    void refreshPlan(dir);
  };
  const refreshPlan = async (dir: string) => {
    try {
      const r = await runCli(["plan", dir], dir);
      if (r.code === 0) {
        plans.set(dir, parsePlan(r.stdout));
        lensChanged.fire();
      }
    } catch { /* reported by check */ }
  };
  ctx.subscriptions.push(
    vscode.workspace.onDidSaveTextDocument((doc) => {
      if (isFlow(doc) && vscode.workspace.getConfiguration("bifrost").get("checkOnSave", true)) {
        void check(doc);
      }
    }),
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (isFlow(doc) && !plans.has(flowDirOf(doc.fileName))) void check(doc);
    }),
    vscode.commands.registerCommand("bifrost.check", () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (doc && isFlow(doc)) return check(doc);
      void vscode.window.showInformationMessage("Bifrost: open a flow file to check its flows");
    }),
    vscode.commands.registerCommand("bifrost.plan", (poll?: string) => {
      const doc = vscode.window.activeTextEditor?.document;
      const plan = doc ? plans.get(flowDirOf(doc.fileName)) : undefined;
      const out = output();
      for (const p of plan?.values() ?? []) {
        if (poll && p.poll !== poll) continue;
        out.appendLine(`${p.poll}: ${p.summary}`);
        for (const r of p.requests) out.appendLine(`  ${r}`);
      }
      out.show(true);
    }),
    vscode.languages.registerCodeActionsProvider(selector, {
      provideCodeActions(doc, _range, context) {
        const actions: vscode.CodeAction[] = [];
        for (const d of context.diagnostics) {
          if (!d.source?.startsWith("bifrost check")) continue;
          const fix = didYouMeanFix(doc.getText(), {
            file: doc.fileName,
            line: d.range.start.line + 1,
            column: d.range.start.character + 1,
            message: d.message,
            severity: "error",
          });
          if (!fix) continue;
          const a = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
          a.edit = new vscode.WorkspaceEdit();
          a.edit.replace(
            doc.uri,
            new vscode.Range(fix.start.line, fix.start.character, fix.end.line, fix.end.character),
            fix.text,
          );
          a.diagnostics = [d];
          a.isPreferred = true;
          actions.push(a);
        }
        return actions;
      },
    }, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    vscode.languages.registerCodeLensProvider(selector, {
      onDidChangeCodeLenses: lensChanged.event,
      provideCodeLenses(doc) {
        if (!isFlow(doc)) return [];
        const plan = plans.get(flowDirOf(doc.fileName));
        if (!plan) return [];
        index.update(doc.fileName, doc.getText());
        return index.symbols("poll")
          .filter((s) => s.span.file === doc.fileName && plan.has(s.name))
          .map((s) =>
            new vscode.CodeLens(
              new vscode.Range(s.span.start.line, 0, s.span.start.line, 0),
              { title: planTitle(plan.get(s.name)!), command: "bifrost.plan", arguments: [s.name] },
            )
          );
      },
    }),
  );
  for (const doc of vscode.workspace.textDocuments) if (isFlow(doc)) void check(doc);
  return index;
}
