/**
 * @module
 * The gateway under soak, started the way a user starts it: the command of deno.json's
 * `bifrost` task (so the soak follows the CLI entry wherever it moves) with `run <flowdir>`,
 * as a child process, optionally pinned with `taskset -c`. Its stderr (JSON log lines) is
 * counted, copied to a file and scanned for "Process stats" lines; RSS and open file
 * descriptors are read from `/proc/<pid>/`.
 */

import { join } from "node:path";

/**
 * The arguments of `deno` in the `bifrost` task of a deno.json text (everything after the
 * leading `deno`). Throws when there is no such task or it does not start with `deno`.
 *
 * @example
 * ```ts
 * bifrostTaskArgs('{"tasks":{"bifrost":"deno run -A app/cli/main.ts"}}');
 * // ["run", "-A", "app/cli/main.ts"]
 * ```
 */
export function bifrostTaskArgs(denoJson: string): string[] {
  const task = (JSON.parse(denoJson) as { tasks?: Record<string, unknown> }).tasks?.bifrost;
  if (typeof task !== "string") {
    throw new Error(
      `Cannot find the "bifrost" task in deno.json: the soak starts the gateway with it`,
    );
  }
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words.length < 2 || /[|&;<>$`'"]/.test(task)) {
    throw new Error(
      `Cannot use the "bifrost" task "${task}": the soak needs a plain "deno …" command`,
    );
  }
  return words.slice(1);
}

/** The figures of a "Process stats" line. */
export interface GatewayStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  records: number;
  final?: boolean;
  sequences?: Record<string, [number, number]>;
}

/** What `/proc/<pid>/` says of a process. */
export interface ProcSample {
  rss: number;
  fds: number;
}

/** Reads RSS (bytes) and the number of open file descriptors of `pid`; undefined if gone. */
export function procSample(pid: number): ProcSample | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    let fds = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
    return { rss: kb ? Number(kb[1]) * 1024 : 0, fds };
  } catch {
    return undefined;
  }
}

/** Options of {@linkcode startGateway}. */
export interface GatewayStartOptions {
  /** The repository root (where deno.json is). */
  root: string;
  flowDir: string;
  dataDir: string;
  /** Where the log is copied. */
  logPath: string;
  /** `BIFROST_STATS_EVERY`. */
  statsEvery: string;
  cpu: string | undefined;
}

/** A running gateway process. */
export interface GatewayProcess {
  readonly pid: number;
  /** Resolves when it exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Set once it exited. */
  exited: Deno.CommandStatus | undefined;
  /** Log lines so far, and per level ("Process stats" lines excluded). */
  lines: number;
  levels: Record<string, number>;
  /** The latest "Process stats" line. */
  stats: GatewayStats | undefined;
  /** The final "Process stats" line (after a clean stop). */
  final: GatewayStats | undefined;
  /** The last log lines (for failure reports). */
  tail: string[];
  /** Lines matching a message, counted (e.g. records left on disk). */
  notes: string[];
  /** Sends SIGINT and waits up to `timeoutMs` for the exit; then SIGKILL. */
  stop(timeoutMs: number): Promise<Deno.CommandStatus>;
  /** SIGKILL, when still running. */
  kill(): void;
}

/** Messages worth quoting in the final report when they appear. */
const NOTABLE = /unsent records on disk|dropped|overloaded|Cannot start/;

/** Starts `bifrost run` as a child process. */
export async function startGateway(o: GatewayStartOptions): Promise<GatewayProcess> {
  const denoArgs = bifrostTaskArgs(await Deno.readTextFile(join(o.root, "deno.json")));
  const args = [...denoArgs, "run", o.flowDir, "--data-dir", o.dataDir, "--no-http"];
  const [cmd, cmdArgs] = o.cpu === undefined
    ? [Deno.execPath(), args]
    : ["taskset", ["-c", o.cpu, Deno.execPath(), ...args]];
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: o.root,
    // NO_COLOR: a panic or an uncaught error is quoted in the report as plain text.
    env: { BIFROST_STATS_EVERY: o.statsEvery, BIFROST_LOG_LEVEL: "info", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const file = await Deno.open(o.logPath, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const g: GatewayProcess = {
    pid: child.pid,
    status: child.status,
    exited: undefined,
    lines: 0,
    levels: {},
    stats: undefined,
    final: undefined,
    tail: [],
    notes: [],
    async stop(timeoutMs) {
      if (g.exited) return g.exited;
      try {
        child.kill("SIGINT");
      } catch { /* gone */ }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) =>
        timer = setTimeout(() => r("timeout"), timeoutMs)
      );
      const r = await Promise.race([g.status, timeout]);
      clearTimeout(timer);
      if (r === "timeout") g.kill();
      return await g.status;
    },
    kill() {
      if (g.exited) return;
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    },
  };
  const onLine = (line: string) => {
    g.tail.push(line);
    if (g.tail.length > 30) g.tail.shift();
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line);
    } catch {
      g.lines++;
      g.levels.text = (g.levels.text ?? 0) + 1; // a panic or a V8 message: not ours
      return;
    }
    if (m.msg === "Process stats") {
      // The soak's own probe: not counted as the gateway's log.
      const s = m as unknown as GatewayStats;
      g.stats = s;
      if (s.final) g.final = s;
      return;
    }
    g.lines++;
    const level = String(m.level);
    g.levels[level] = (g.levels[level] ?? 0) + 1;
    if (typeof m.msg === "string" && NOTABLE.test(m.msg) && g.notes.length < 20) {
      g.notes.push(line);
    }
  };
  const reading = (async () => {
    let rest = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      await file.write(encoder.encode(chunk));
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const l of parts) if (l !== "") onLine(l);
    }
    if (rest !== "") onLine(rest);
  })();
  // The status resolves once the log is read to its end (the last lines say why it exited).
  const status = child.status.then(async (s) => {
    await reading.catch(() => {});
    file.close();
    g.exited = s;
    return s;
  });
  (g as { status: Promise<Deno.CommandStatus> }).status = status;
  return g;
}
