/**
 * @module
 * The command line's tools from the editor: browse a device into a new flow file, discover
 * devices on a network, and run the open flow against its virtual devices (`bifrost run
 * --simulate` on a free port, added to the Devices tree while it runs).
 */

import * as vscode from "vscode";
import * as path from "node:path";
import * as os from "node:os";
import type { ChildProcess } from "node:child_process";
import { flowDirOf } from "../lib/check.ts";
import { output, runCli, spawnCli } from "./cli.ts";
import type { Gateways } from "./gateways.ts";

/** Browses a device URL and opens the flow draft written. */
export async function browse(): Promise<void> {
  const url = await vscode.window.showInputBox({
    title: "Browse a device",
    prompt: "Device URL, e.g. modbus://10.0.4.21:502/1",
    placeHolder: "modbus://host:502/1",
  });
  if (!url) return;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const host = url.replace(/^[a-z]+:\/\//, "").replace(/[^A-Za-z0-9.-]+/g, "-").replace(/-+$/, "");
  const out = await vscode.window.showInputBox({
    title: "New flow file",
    value: folder ? path.join(folder, "flows", `${host}.yaml`) : `${host}.yaml`,
  });
  if (!out) return;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Browsing ${url}…` },
    () => runCli(["browse", url, "--out", out], folder),
  ).then((x) => x, (e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
  output().append(r.stdout + r.stderr);
  if (r.code !== 0) {
    void vscode.window.showErrorMessage(
      `Browse failed: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}`,
    );
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(out));
}

/** Runs `bifrost discover <driver> <options>` and shows what answered. */
export async function discover(): Promise<void> {
  const driver = await vscode.window.showQuickPick(["modbus"], { title: "Discover devices with" });
  if (!driver) return;
  const args = await vscode.window.showInputBox({
    title: `bifrost discover ${driver}`,
    value: "--host 127.0.0.1 --port 502 --units 1-10",
    prompt: "Options (see bifrost discover modbus --help)",
  });
  if (args === undefined) return;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Discovering (${driver})…` },
    () => runCli(["discover", driver, ...args.split(/\s+/).filter(Boolean)]),
  ).then((x) => x, (e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
  const out = output();
  out.appendLine(`$ bifrost discover ${driver} ${args}`);
  out.append(r.stdout + r.stderr);
  out.show(true);
  const found = r.stdout.trim().split("\n").filter(Boolean).length;
  if (r.code === 0) {
    void vscode.window.showInformationMessage(
      `Discovery done: ${found} line(s) in the Bifrost output`,
    );
  } else {void vscode.window.showErrorMessage(
      `Discovery failed: ${(r.stderr || r.stdout).trim().split("\n").at(-1)}`,
    );}
}

let sim: { child: ChildProcess; name: string } | undefined;

/** Runs the open flow with its virtual devices and connects the Devices tree to it. */
export async function startSimulator(gws: Gateways): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || !/\.ya?ml$/.test(doc.fileName)) {
    void vscode.window.showInformationMessage("Bifrost: open a flow file to simulate it");
    return;
  }
  if (sim) await stopSimulator(gws);
  const dir = flowDirOf(doc.fileName);
  const data = path.join(os.tmpdir(), `bifrost-sim-${process.pid}`);
  const child = spawnCli(
    ["run", dir, "--simulate", "--http", "127.0.0.1:0", "--data-dir", data],
    path.dirname(dir),
  );
  const name = `simulated ${path.basename(path.dirname(dir))}`;
  sim = { child, name };
  const url = await new Promise<string | undefined>((resolve) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /"HTTP API listening","url":"(http:\/\/[^"]+)\/api\/v1"/.exec(buf);
      if (m) resolve(m[1]);
    };
    child.stderr?.on("data", onData);
    child.on("exit", () => resolve(undefined));
    setTimeout(() => resolve(undefined), 60_000);
  });
  if (!url) {
    output().show(true);
    void vscode.window.showErrorMessage(
      "Bifrost: the simulation did not start (see the Bifrost output)",
    );
    sim = undefined;
    return;
  }
  gws.transient.splice(0, gws.transient.length, { name, url });
  await gws.reconnect();
  void vscode.window.showInformationMessage(`Bifrost: ${name} runs at ${url}`);
}

/** Stops the simulation started from the editor. */
export async function stopSimulator(gws: Gateways): Promise<void> {
  if (!sim) {
    void vscode.window.showInformationMessage("Bifrost: no simulation running");
    return;
  }
  const { child } = sim;
  sim = undefined;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  gws.transient.splice(0, gws.transient.length);
  await gws.reconnect();
}

/** Stops a simulation when the extension ends. */
export function disposeSimulator(): void {
  sim?.child.kill("SIGTERM");
}
