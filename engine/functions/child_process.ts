/**
 * @module
 * One child process of the `function` step, seen from the host: spawned with only the
 * permissions the step grants (and never to read its module: the host sends the code) and
 * a V8 heap limit, frames in and out (`frames.ts`), the
 * tail of its stderr kept for diagnosis (a heap limit abort is reported there), and its
 * resident memory and CPU time read from `/proc` (Linux) for the host's watchdog.
 */

import { BYTES_PER_RECORD } from "./wire_layout.ts";
import { FrameError, FrameReader, FrameWriter } from "./frames.ts";

export {
  type FunctionPermissions,
  isCompiled,
  type LaunchMode,
  type ProcessSetup,
  processSetup,
} from "./launch.ts";

/** The largest frame accepted while a module loads: no records, short messages. */
export const LOAD_FRAME_BYTES = 1024 * 1024;

/**
 * The largest frame a reply of `max` records may take: their columns, and beside them
 * their string values, reasons and new names (a generous 1 KB a record, plus 1 MB).
 */
export function frameBytes(max: number): number {
  return LOAD_FRAME_BYTES + (BYTES_PER_RECORD + 1024) * max;
}

/** What the host hears from a child. */
export interface ChildEvents {
  /** A frame; `columns` is valid only during the call. */
  message(meta: unknown, columns: Uint8Array): void;
  /** The stream from the child is not made of valid frames. */
  malformed(why: string): void;
  /** The child ended; `why` describes its exit status. */
  exit(why: string): void;
}

/** Options of {@linkcode FunctionProcess}. */
export interface FunctionProcessOptions {
  /** The executable and its arguments. */
  command: string;
  args: string[];
  /** Environment of the child (it starts with an empty one). */
  env: Record<string, string>;
  /** The largest frame body accepted from the child, in bytes. */
  maxFrame: number;
  events: ChildEvents;
}

const STDERR_TAIL = 2048;
const PAGE_KB = 4;

/** Resident memory (MB) and CPU time (ms) of a process. */
export interface ProcessStats {
  rssMb: number;
  cpuMs: number;
}

/** A running child process. */
export class FunctionProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events: ChildEvents;
  readonly #reader: FrameReader;
  readonly #frames = new FrameWriter();
  #stderr = "";
  #dead = false;

  constructor(o: FunctionProcessOptions) {
    this.#events = o.events;
    this.#child = new Deno.Command(o.command, {
      args: o.args,
      env: o.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#writer.closed.catch(() => {});
    this.#reader = new FrameReader(o.maxFrame);
    void this.#read(this.#reader);
    void this.#readStderr();
    void this.#child.status.then(async (s) => {
      this.#dead = true;
      this.#writer.abort().catch(() => {});
      // Let the last stderr lines (a heap limit abort) arrive before reporting.
      await this.#stderrDone;
      const code = s.signal ? `signal ${s.signal}` : `exit code ${s.code}`;
      this.#events.exit(code);
    });
  }

  #stderrDone: Promise<void> = Promise.resolve();

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Sets the largest frame body accepted from now on, in bytes. */
  set maxFrame(bytes: number) {
    this.#reader.maxBody = bytes;
  }

  /** The last bytes the child wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Whether its stderr says V8 ended it at its heap limit. */
  get outOfMemory(): boolean {
    return /out of memory|heap limit|allocation failed/i.test(this.#stderr);
  }

  /** The first line of its stderr as `: <line>`, or "" when it wrote none. */
  get stderrLine(): string {
    const l = this.#stderr.trim().split("\n").find((x) => x.trim() !== "");
    return l ? `: ${l.slice(0, 200)}` : "";
  }

  /**
   * Sends a frame; a child that is gone is reported through `exit`. The frame's buffer is
   * reused: send the next one only after the child answered this one.
   */
  send(meta: unknown, columns?: Uint8Array, v8 = false): void {
    if (this.#dead) return;
    this.#writer.write(this.#frames.encode(meta, columns, v8)).catch(() => {});
  }

  /** Sends a frame in a buffer of its own: for answers that may overlap (`callResult`). */
  sendCopy(meta: unknown, v8 = false): void {
    if (this.#dead) return;
    this.#writer.write(this.#frames.encode(meta, undefined, v8).slice()).catch(() => {});
  }

  /** Kills the child (SIGKILL: nothing it runs can delay its end). */
  kill(): void {
    if (this.#dead) return;
    this.#dead = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    // Close our end of its stdin now rather than when the stream is collected; its
    // stdout and stderr end when the process does.
    this.#writer.abort().catch(() => {});
  }

  /** Ends the child and waits until it is gone. */
  async close(): Promise<void> {
    this.kill();
    await this.#child.status;
  }

  /** Memory and CPU of the child from /proc, or undefined where there is no /proc. */
  stats(): ProcessStats | undefined {
    try {
      const s = Deno.readTextFileSync(`/proc/${this.#child.pid}/stat`);
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      // Fields after the name: utime 11, stime 12 (clock ticks, 100/s), rss 21 (pages).
      return {
        cpuMs: (Number(f[11]) + Number(f[12])) * 10,
        rssMb: (Number(f[21]) * PAGE_KB) / 1024,
      };
    } catch {
      return undefined;
    }
  }

  async #read(reader: FrameReader): Promise<void> {
    // A BYOB read lands in the frame reader's buffer: no chunk allocated per read.
    const r = this.#child.stdout.getReader({ mode: "byob" });
    let ended = false;
    try {
      for (;;) {
        const { value, done } = await r.read(reader.space());
        if (done || !value) {
          ended = true;
          break;
        }
        reader.filled(value);
        for (let f = reader.next(); f; f = reader.next()) this.#events.message(f.meta, f.columns);
      }
    } catch (e) {
      if (e instanceof FrameError) this.#events.malformed(e.message);
    } finally {
      r.releaseLock();
      // Stopped before the end (a malformed frame): the pipe stays open until cancelled,
      // one file descriptor and its buffers leaked per forged frame (seen in the soak).
      if (!ended) await this.#child.stdout.cancel().catch(() => {});
    }
  }

  #readStderr(): Promise<void> {
    this.#stderrDone = (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of this.#child.stderr) {
          this.#stderr = (this.#stderr + dec.decode(chunk, { stream: true })).slice(-STDERR_TAIL);
        }
      } catch {
        // The child is gone.
      }
    })();
    return this.#stderrDone;
  }
}
