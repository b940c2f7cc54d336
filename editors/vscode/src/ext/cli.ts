/**
 * @module
 * Runs the `bifrost` command line (setting `bifrost.cli`) for check, plan, browse, discover
 * and the simulator, and keeps one output channel for what they print.
 */

import { type ChildProcess, execFile, spawn } from "node:child_process";
import * as vscode from "vscode";

let channel: vscode.OutputChannel | undefined;

/** The extension's output channel. */
export function output(): vscode.OutputChannel {
  channel ??= vscode.window.createOutputChannel("Bifrost");
  return channel;
}

/** The configured command line: program and first arguments. */
export function cliCommand(): [string, string[]] {
  const cli = vscode.workspace.getConfiguration("bifrost").get<string[]>("cli") ?? ["bifrost"];
  const [prog, ...rest] = cli.length > 0 ? cli : ["bifrost"];
  return [prog!, rest];
}

/** The result of one run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bifrost <args>` in `cwd`; rejects only when the program cannot be started. */
export function runCli(args: string[], cwd?: string, timeoutMs = 120_000): Promise<CliResult> {
  const [prog, first] = cliCommand();
  return new Promise((resolve, reject) => {
    execFile(
      prog,
      [...first, ...args],
      {
        cwd,
        timeout: timeoutMs,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, NO_COLOR: "1" },
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (e && typeof e.code === "string") {
          reject(
            new Error(
              `Cannot run "${prog}" (${e.code}): set bifrost.cli to the bifrost command line, ` +
                `e.g. ["deno", "run", "-A", "/path/to/bifrost/app/cli/main.ts"]`,
            ),
          );
          return;
        }
        resolve({ code: typeof e?.code === "number" ? e.code : 0, stdout, stderr });
      },
    );
  });
}

/** Starts a long-running `bifrost <args>` whose output goes to the channel. */
export function spawnCli(args: string[], cwd?: string): ChildProcess {
  const [prog, first] = cliCommand();
  const child = spawn(prog, [...first, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const out = output();
  child.stdout?.on("data", (d: Buffer) => out.append(d.toString()));
  child.stderr?.on("data", (d: Buffer) => out.append(d.toString()));
  child.on("error", (e) => out.appendLine(`Cannot run "${prog}": ${e.message}`));
  return child;
}
