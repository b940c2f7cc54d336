/**
 * @module
 * Processes of the Modbus benchmark: the libmodbus C peers (built with gcc when Debian's
 * libmodbus-dev is installed), our simulator run as `bifrost sim modbus`, and the Deno
 * children of this folder, each started under `taskset -c CPU` and spoken to by JSON lines.
 */

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;

/** A child process whose stdout is read a line at a time. */
export class LineChild implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #buf = "";

  constructor(cmd: string, args: string[], o: { stdin?: boolean; cpu?: number } = {}) {
    const [exe, argv] = o.cpu === undefined
      ? [cmd, args]
      : ["taskset", ["-c", String(o.cpu), cmd, ...args]];
    this.child = new Deno.Command(exe, {
      args: argv,
      cwd: root,
      stdin: o.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = this.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#writer = o.stdin ? this.child.stdin.getWriter() : undefined;
  }

  /** The pid (taskset execs the command, so it is the command's own). */
  get pid(): number {
    return this.child.pid;
  }

  /** The next line of stdout; throws when the child exits first. */
  async line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`Child ${this.pid} exited before printing a line`);
      this.#buf += value;
    }
  }

  /** The next line of stdout that parses as JSON. */
  async json<T>(): Promise<T> {
    for (;;) {
      const line = (await this.line()).trim();
      if (line.startsWith("{")) {
        const v = JSON.parse(line) as T & { error?: string };
        if (v.error) throw new Error(`Child ${this.pid} failed: ${v.error}`);
        return v;
      }
    }
  }

  /** Writes one line to stdin. */
  async send(line: string): Promise<void> {
    await this.#writer!.write(new TextEncoder().encode(line + "\n"));
  }

  /** Closes stdin (children that wait for it exit). */
  async endInput(): Promise<void> {
    await this.#writer?.close().catch(() => {});
  }

  /** Stops the child (SIGTERM after stdin closes) and waits for it. */
  async close(): Promise<void> {
    await this.endInput();
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.child.status;
    await this.#lines.cancel().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The deno command line to run a script of this folder (or of the repository). */
export function denoArgs(script: string, args: string[], flags: string[] = []): string[] {
  const path = script.startsWith("/") ? script : `${here}${script}`;
  return ["run", "-A", ...flags, path, ...args];
}

/** Paths of the built C peers, or why they are missing. */
export type CPeers = { server: string; client: string } | { missing: string };

/** Builds the libmodbus server and client (once per source change) into a cache folder. */
export async function buildCPeers(): Promise<CPeers> {
  try {
    await Deno.stat("/usr/include/modbus/modbus.h");
  } catch {
    return { missing: "libmodbus-dev is not installed (apt-get install -y libmodbus-dev)" };
  }
  const out = `${Deno.env.get("TMPDIR") ?? "/tmp"}/bifrost-bench-peers`;
  await Deno.mkdir(out, { recursive: true });
  const built: Record<string, string> = {};
  for (const name of ["server", "client"]) {
    const src = `${here}peers/modbus_${name}.c`;
    const bin = `${out}/modbus_${name}`;
    const srcTime = (await Deno.stat(src)).mtime?.getTime() ?? 0;
    const binTime = await Deno.stat(bin).then((s) => s.mtime?.getTime() ?? 0, () => -1);
    if (binTime < srcTime) {
      const r = await new Deno.Command("gcc", {
        args: ["-O2", "-o", bin, src, "-I/usr/include/modbus", "-lmodbus"],
        stderr: "piped",
      }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
      if (!r.success) {
        return { missing: `gcc failed on ${src}: ${new TextDecoder().decode(r.stderr).trim()}` };
      }
    }
    built[name] = bin;
  }
  return { server: built.server!, client: built.client! };
}

/** A Modbus server process and its port. */
export interface ServerProcess extends AsyncDisposable {
  readonly label: string;
  readonly port: number;
  readonly pid: number;
}

/** Starts the libmodbus C server on `cpu`. */
export async function startCServer(bin: string, cpu: number): Promise<ServerProcess> {
  const p = new LineChild(bin, ["0"], { cpu });
  const port = Number(/port (\d+)/.exec(await p.line())?.[1]);
  return {
    label: "libmodbus C server",
    port,
    pid: p.pid,
    [Symbol.asyncDispose]: () => p.close(),
  };
}

/** Starts our simulator (`bifrost sim modbus`) on `cpu`, with registers HR0..HR124 mapped. */
export async function startSimServer(cpu: number): Promise<ServerProcess> {
  const map = await Deno.makeTempFile({ prefix: "bifrost-bench-map-", suffix: ".yaml" });
  const points = Array.from({ length: 125 }, (_, i) => `    HR${i}: { value: ${i * 7} }`);
  await Deno.writeTextFile(map, `units:\n  1:\n${points.join("\n")}\n`);
  const p = new LineChild(
    Deno.execPath(),
    denoArgs(`${root}app/cli/main.ts`, ["sim", "modbus", "--port", "0", "--map", map]),
    { cpu },
  );
  const port = Number(/listening on [^:]+:(\d+)/.exec(await p.line())?.[1]);
  return {
    label: "Bifrost simulator (bifrost sim modbus)",
    port,
    pid: p.pid,
    [Symbol.asyncDispose]: async () => {
      await p.close();
      await Deno.remove(map).catch(() => {});
    },
  };
}

/** Runs the libmodbus C client loop once; returns requests and seconds. */
export async function runCClient(
  bin: string,
  cpu: number,
  port: number,
  count: number,
  ms: number,
): Promise<{ requests: number; seconds: number }> {
  const r = await new Deno.Command("taskset", {
    args: ["-c", String(cpu), bin, String(port), String(count), String(ms)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`The libmodbus client failed: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  return JSON.parse(new TextDecoder().decode(r.stdout));
}
