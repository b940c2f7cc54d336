/**
 * @module
 * Without the YAML extension (redhat.vscode-yaml, which reads the `yamlValidation` this
 * extension contributes), flow files still get completion and hover of their fields from
 * Bifrost's JSON Schema (lib/schema_nav.ts). With it installed, this stays off so the two
 * do not answer twice.
 */

import * as vscode from "vscode";
import { describeAt, fieldsAt } from "../lib/schema_nav.ts";
import { isFlow } from "./language.ts";

/** Registers the fallback when the YAML extension is absent and the setting allows it. */
export function activateSchemaFallback(ctx: vscode.ExtensionContext): void {
  if (vscode.extensions.getExtension("redhat.vscode-yaml")) return;
  if (!vscode.workspace.getConfiguration("bifrost").get("schemaFallback", true)) return;
  let schema: unknown;
  const load = async () => {
    schema ??= JSON.parse(
      new TextDecoder().decode(
        await vscode.workspace.fs.readFile(
          vscode.Uri.joinPath(ctx.extensionUri, "dist", "flow.schema.json"),
        ),
      ),
    );
    return schema;
  };
  const selector: vscode.DocumentSelector = [{ language: "yaml", scheme: "file" }];
  ctx.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(selector, {
      async provideCompletionItems(doc, pos) {
        if (!isFlow(doc)) return undefined;
        const fields = fieldsAt(await load(), doc.getText(), {
          line: pos.line,
          character: pos.character,
        });
        return fields.map((f) => {
          const item = new vscode.CompletionItem(f.name, vscode.CompletionItemKind.Property);
          item.insertText = `${f.name}: `;
          if (f.description) item.documentation = new vscode.MarkdownString(f.description);
          item.detail = f.type;
          return item;
        });
      },
    }),
    vscode.languages.registerHoverProvider(selector, {
      async provideHover(doc, pos) {
        if (!isFlow(doc)) return undefined;
        const d = describeAt(await load(), doc.getText(), {
          line: pos.line,
          character: pos.character,
        });
        return d ? new vscode.Hover(new vscode.MarkdownString(d)) : undefined;
      },
    }),
  );
}
