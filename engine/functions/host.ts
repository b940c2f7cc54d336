/**
 * @module
 * The host side of a user edge function: one worker per `function` step, batches sent one
 * at a time and in order, and recovery when the function misbehaves.
 *
 * - A throw in the function marks that batch's records bad (reason
 *   `function "<step>" failed: <message>`); the worker keeps running with its state.
 * - A batch that takes longer than the time limit gets the worker terminated; the batch is
 *   marked bad (`function "<step>" timed out after <n> ms`) and the next batch starts a
 *   fresh worker, with empty state.
 * - A crash (an unhandled rejection, a throw in a timer) is handled the same way.
 * - Restarts back off after consecutive failures (0, 250 ms, 500 ms … 30 s) so that a
 *   module that no longer loads does not spin; batches that arrive meanwhile are marked
 *   bad at once.
 *
 * The function never sees the host: records cross through the columnar codec
 * (`codec.ts`) and the worker has only the permissions the step grants. What the function
 * returns is decoded into the input batch, which the step owns: a steady stream allocates
 * no batches on the host.
 */

import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Clock } from "../clock.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type Batch, Quality, ValueKind } from "../record.ts";
import { BYTES_PER_RECORD, HEADER_BYTES, WireEnd } from "./codec.ts";
import { FunctionProcess } from "./child_process.ts";
import { checkMessage } from "./check.ts";
import type { Extras, FromChild, ToChild } from "./protocol.ts";
import { RateLimiter } from "./rate_limit.ts";

/** Permissions granted to a function's process; absolute paths for `read`. */
export interface FunctionPermissions {
  net?: string[];
  read?: string[];
  env?: string[];
}

/** Options of {@linkcode FunctionHost}. */
export interface FunctionHostOptions {
  /** The step's name. */
  step: string;
  /** Absolute path of the module. */
  path: string;
  /** The step's `with:` object. */
  params: Record<string, unknown>;
  permissions: FunctionPermissions;
  /** Time limit of one batch, in ms. */
  timeoutMs: number;
  /** Time limit of loading the module, in ms (default: the larger of 10 s and `timeoutMs`). */
  loadTimeoutMs?: number;
  /** Heap limit of the function's process, in MB (default {@linkcode DEFAULT_MEMORY_MB}). */
  memoryMb?: number;
  /**
   * The most records the function may return for a batch of `n` (default: `10 n + 1000`).
   */
  maxOutput?: number;
  log: Logger;
  clock: Clock;
  countError(reason: string): void;
}

/** The heap limit of a function's process when the step declares none, in MB. */
export const DEFAULT_MEMORY_MB = 128;

/**
 * What a Deno process takes beside its JS heap (runtime, code, threads), in MB: the
 * watchdog kills a process whose resident memory passes its heap limit plus this.
 */
export const PROCESS_OVERHEAD_MB = 96;

const MAX_BACKOFF_MS = 30_000;
/** How often the watchdog reads the process's memory and CPU time. */
const MONITOR_MS = 100;
/** CPU share a process may use between batches (timers, GC) without being charged. */
const IDLE_CPU_SHARE = 0.1;

type Reply =
  | { m: FromChild; bytes: number }
  | { m: { t: "timeout" } | { t: "gone"; message: string } | { t: "memory" } };

/** The default output limit for a batch of `n` records. */
export function defaultMaxOutput(n: number): number {
  return 10 * n + 1000;
}

/** Runs one user function in a child process. */
export class FunctionHost {
  readonly #o: FunctionHostOptions;
  readonly #log: Logger;
  readonly #errors: RateLimiter;
  /** Log lines of the function, limited here too: the child is not trusted to limit them. */
  readonly #lines: RateLimiter;
  readonly #url: string;
  readonly #memoryMb: number;
  #child: FunctionProcess | undefined;
  #wire = new WireEnd();
  #waiting: ((r: Reply) => void) | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #deadline = 0;
  /** CPU time the process used between batches beyond its allowance, in ms. */
  #idleCpu = 0;
  #lastCpu = 0;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #failures = 0;
  #retryAt = 0;
  #lastFailure = "";
  #closed = false;
  /** Messages from the child that were dropped as malformed. */
  malformed = 0;

  constructor(options: FunctionHostOptions) {
    this.#o = options;
    this.#log = options.log.child({ step: options.step });
    this.#errors = new RateLimiter(5, 0.2, () => options.clock.monotonic());
    this.#lines = new RateLimiter(20, 2, () => options.clock.monotonic());
    this.#url = pathToFileURL(options.path).href;
    this.#memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
  }

  /** Spawns the process and loads the module; throws `FUNCTION_FAILED` when it cannot. */
  async start(): Promise<void> {
    const err = await this.#spawn();
    if (err !== undefined) {
      throw new BifrostError(
        "FUNCTION_FAILED",
        `Cannot load function "${this.#o.path}" of step "${this.#o.step}": ${err}`,
        { details: { step: this.#o.step, file: this.#o.path } },
      );
    }
  }

  /**
   * Runs the function on a batch; batches are processed one at a time, in order. The
   * records the function returns are decoded into `batch` itself, which is returned: a step
   * owns its input and may return it mutated (see `engine/step.ts`). A failed batch is
   * returned as a copy marked bad.
   */
  process(batch: Batch): Promise<Batch> {
    const p = this.#busy === 0 ? this.#run(batch) : this.#queue.then(() => this.#run(batch));
    this.#busy++;
    const done = p.then(() => {
      this.#busy--;
    }, () => {
      this.#busy--;
    });
    this.#queue = done;
    return p;
  }

  /** Ends the process. */
  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#child;
    this.#stop({ t: "gone", message: "the step was closed" });
    await this.#queue;
    await c?.close();
  }

  async #run(batch: Batch): Promise<Batch> {
    const step = this.#o.step;
    if (this.#closed) return this.#fail(batch, `function "${step}" failed: the step is closed`);
    if (batch.length === 0) return batch;
    if (!this.#child) {
      const wait = this.#retryAt - this.#o.clock.monotonic();
      if (wait > 0) {
        return this.#fail(batch, `${this.#lastFailure} (restarting in ${Math.ceil(wait)} ms)`);
      }
      const err = await this.#spawn();
      if (err !== undefined) {
        this.#failed(`function "${step}" failed: cannot load "${this.#o.path}": ${err}`);
        return this.#fail(batch, this.#lastFailure);
      }
      this.#log.info(`Function "${step}" restarted in a new process; its state starts empty`);
    }
    const id = this.#nextId++;
    const max = this.#o.maxOutput ?? defaultMaxOutput(batch.length);
    const x = strip(this.#wire.encodeBatch(batch, this.#o.clock.now()));
    const msg: ToChild = x ? { t: "run", id, max, x } : { t: "run", id, max };
    this.#child!.maxFrame = frameBytes(max);
    const v8 = x?.objV !== undefined && x.objV.some((v) => typeof v !== "string");
    const r = await this.#call(msg, this.#wire.wireView(), this.#o.timeoutMs, v8);
    if (this.#closed) return this.#fail(batch, `function "${step}" failed: the step was closed`);
    const m = r.m;
    if ((m.t === "ok" || m.t === "same" || m.t === "fail") && m.id !== id) {
      return this.#broken(batch, `a reply to batch ${m.id} while waiting for ${id}`);
    }
    switch (m.t) {
      case "ok": {
        // The columns were loaded into the wire buffer when the frame arrived.
        const bytes = (r as { bytes: number }).bytes;
        if (bytes < HEADER_BYTES) return this.#broken(batch, "a reply without records");
        const bad = this.#wire.check(bytes, m.x, max);
        if (bad !== undefined) return this.#broken(batch, `a malformed reply (${bad})`);
        this.#failures = 0;
        return this.#finite(this.#wire.decodeBatch(m.x, batch));
      }
      case "same":
        this.#failures = 0;
        this.#wire.accept(m.x);
        return this.#finite(batch);
      case "fail":
        this.#failures = 0;
        this.#wire.accept(m.x);
        this.#wire.resync();
        return this.#fail(batch, `function "${step}" failed: ${m.message}`);
      case "timeout":
        this.#stop(m);
        this.#failed(`function "${step}" timed out after ${this.#o.timeoutMs} ms`);
        return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
      case "memory":
        this.#stop(m);
        this.#failed(this.#memoryReason());
        return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
      default: {
        const why = m.t === "crash" || m.t === "gone" ? m.message : `unexpected reply "${m.t}"`;
        const c = this.#child;
        this.#stop({ t: "gone", message: why });
        this.#failed(
          c && outOfMemory(c.stderr)
            ? this.#memoryReason()
            : `function "${step}" failed: its process crashed: ${why}`,
        );
        return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
      }
    }
  }

  #memoryReason(): string {
    return `function "${this.#o.step}" exceeded its memory limit of ${this.#memoryMb} MB`;
  }

  /** The child broke the protocol: replace it. */
  #broken(batch: Batch, what: string): Batch {
    this.malformed++;
    this.#stop({ t: "gone", message: what });
    this.#failed(`function "${this.#o.step}" failed: its process sent ${what}`);
    return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
  }

  /** Marks records whose number is NaN or infinite bad: they are not measurements. */
  #finite(b: Batch): Batch {
    const num = b.num, kind = b.kind, q = b.quality;
    let first: string | undefined;
    for (let i = 0; i < b.length; i++) {
      const v = num[i]!;
      if (kind[i] === ValueKind.number && v - v !== 0 && q[i] !== Quality.bad) {
        q[i] = Quality.bad;
        const reason = `function "${this.#o.step}" returned a non-finite number (${v}) for "${
          b.device[i]
        }/${b.tag[i]}"`;
        b.reason[i] = reason;
        first ??= reason;
      }
    }
    // Counted once a batch, as a failed batch is.
    if (first !== undefined) this.#o.countError(first);
    return b;
  }
  /** Notes a worker failure and schedules the next restart. */
  #failed(reason: string): void {
    this.#lastFailure = reason;
    this.#failures++;
    const delay = this.#failures <= 1
      ? 0
      : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (this.#failures - 2));
    this.#retryAt = this.#o.clock.monotonic() + delay;
  }

  /** Marks a copy of the batch bad, counts and logs (rate-limited) the failure. */
  #fail(batch: Batch, reason: string, note?: string): Batch {
    this.#o.countError(reason);
    const suppressed = this.#errors.take();
    if (suppressed >= 0) {
      const fields: Record<string, unknown> = { records: batch.length };
      if (suppressed > 0) fields.suppressed = suppressed;
      this.#log.error(note ? `${reason}; ${note}` : reason, fields);
    }
    const out = batch.clone();
    for (let i = 0; i < out.length; i++) {
      out.quality[i] = Quality.bad;
      out.reason[i] = reason;
    }
    return out;
  }

  /** Spawns a process and loads the module; returns the error text when it fails. */
  async #spawn(): Promise<string | undefined> {
    this.#stop({ t: "gone", message: "replaced" });
    const { read = [], net = [], env = [] } = this.#o.permissions;
    const dir = dirname(this.#o.path);
    const covered = read.some((p) => dir === p || dir.startsWith(p.endsWith("/") ? p : p + "/"));
    const reads = covered ? read : [...read, dir];
    const args = [
      `--v8-flags=--max-old-space-size=${this.#memoryMb},--max-semi-space-size=8`,
      `--allow-read=${reads.join(",")}`,
      ...(net.length ? [`--allow-net=${net.join(",")}`] : []),
      ...(env.length ? [`--allow-env=${env.join(",")}`] : []),
      ...CONFIG,
    ];
    const childEnv: Record<string, string> = {};
    for (const k of [...PASSED_ENV, ...env]) {
      const v = Deno.env.get(k);
      if (v !== undefined) childEnv[k] = v;
    }
    let c: FunctionProcess;
    try {
      c = new FunctionProcess({
        args,
        env: childEnv,
        maxFrame: LOAD_FRAME_BYTES,
        events: {
          message: (m, columns) => {
            if (this.#child === c) this.#onMessage(m, columns);
          },
          malformed: (why) => {
            if (this.#child !== c) return;
            this.malformed++;
            this.#stop({ t: "gone", message: `it sent ${why}` });
            this.#failed(`function "${this.#o.step}" failed: its process sent ${why}`);
            this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
          },
          exit: (why) => {
            if (this.#child !== c) return;
            const m = outOfMemory(c.stderr) ? { t: "memory" as const } : {
              t: "gone" as const,
              message: `it ended (${why})${firstLine(c.stderr)}`,
            };
            if (this.#waiting) this.#settle({ m });
            else {
              this.#stop(m);
              this.#failed(
                m.t === "memory"
                  ? this.#memoryReason()
                  : `function "${this.#o.step}" failed: its process crashed: ${m.message}`,
              );
              this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
            }
          },
        },
      });
    } catch (e) {
      return `cannot start a process: ${errorMessage(e)}`;
    }
    this.#child = c;
    this.#wire = new WireEnd();
    this.#idleCpu = 0;
    this.#lastCpu = 0;
    this.#watchdog = setInterval(() => this.#watch(c), MONITOR_MS);
    Deno.unrefTimer(this.#watchdog as unknown as number);
    const init: ToChild = {
      t: "init",
      url: this.#url,
      step: this.#o.step,
      params: this.#o.params,
    };
    if (!covered) init.revokeRead = dir;
    // Params are any YAML value: V8's format keeps what JSON would not.
    const r = await this.#call(
      init,
      undefined,
      this.#o.loadTimeoutMs ?? Math.max(10_000, this.#o.timeoutMs),
      true,
    );
    if (r.m.t === "ready") return undefined;
    this.#stop({ t: "gone", message: "load failed" });
    const m = r.m;
    if (m.t === "loadError" || m.t === "crash" || m.t === "gone") return m.message;
    if (m.t === "timeout") return "loading took too long";
    if (m.t === "memory") return `it exceeded its memory limit of ${this.#memoryMb} MB`;
    return `unexpected reply "${m.t}"`;
  }

  /** The watchdog: time limit, memory, and CPU used between batches. */
  #watch(c: FunctionProcess): void {
    if (this.#child !== c) return;
    if (this.#waiting && performance.now() >= this.#deadline) {
      this.#settle({ m: { t: "timeout" } });
      return;
    }
    const st = c.stats();
    if (!st) return;
    if (st.rssMb > this.#memoryMb + PROCESS_OVERHEAD_MB) {
      if (this.#waiting) this.#settle({ m: { t: "memory" } });
      else {
        this.#stop({ t: "memory" });
        this.#failed(this.#memoryReason());
        this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
      }
      return;
    }
    const used = st.cpuMs - this.#lastCpu;
    this.#lastCpu = st.cpuMs;
    if (this.#waiting) return;
    this.#idleCpu = Math.max(0, this.#idleCpu + used - IDLE_CPU_SHARE * MONITOR_MS);
    if (this.#idleCpu > Math.max(this.#o.timeoutMs, 2 * MONITOR_MS)) {
      this.#stop({ t: "gone", message: "busy between batches" });
      this.#failed(
        `function "${this.#o.step}" kept running after its batch (${
          Math.round(this.#idleCpu)
        } ms of CPU time beyond its time limit, e.g. a worker or timer it started)`,
      );
      this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
    }
  }

  #call(
    msg: ToChild,
    columns: Uint8Array | undefined,
    timeoutMs: number,
    v8 = false,
  ): Promise<Reply> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#deadline = performance.now() + timeoutMs;
      this.#idleCpu = 0;
      this.#child!.send(msg, columns, v8);
    });
  }

  #settle(r: Reply): void {
    const w = this.#waiting;
    if (!w) return;
    this.#waiting = undefined;
    w(r);
  }

  /** A message from the child: untrusted, validated before use. */
  #onMessage(raw: unknown, columns: Uint8Array): void {
    const m = checkMessage(raw);
    if (typeof m === "string") {
      this.malformed++;
      const suppressed = this.#lines.take();
      if (suppressed >= 0) {
        this.#log.warn(`Function "${this.#o.step}" sent a malformed message: ${m}; dropped`, {
          malformed: this.malformed,
        });
      }
      return;
    }
    if (m.t === "log") {
      const suppressed = this.#lines.take();
      if (suppressed < 0) return;
      const fields: Record<string, unknown> = { ...m.fields };
      const dropped = (m.suppressed ?? 0) + suppressed;
      if (dropped) fields.suppressed = dropped;
      this.#log[m.level](m.msg, fields);
      return;
    }
    if (this.#waiting) {
      // The frame's bytes are valid only now: the next read reuses the buffer.
      if (m.t === "ok" && columns.byteLength >= HEADER_BYTES) this.#wire.load(columns);
      this.#settle({ m, bytes: columns.byteLength });
    } else if (m.t === "crash") {
      // Between batches: replace the process before the next one.
      this.#stop({ t: "gone", message: m.message });
      this.#failed(`function "${this.#o.step}" failed: its process crashed: ${m.message}`);
      this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
    } else {
      this.malformed++;
    }
  }

  #stop(m: { t: "timeout" } | { t: "gone"; message: string } | { t: "memory" }): void {
    const c = this.#child;
    this.#child = undefined;
    this.#settle({ m });
    clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    c?.kill();
  }
}

/** The largest frame accepted while a module loads: no records, short messages. */
const LOAD_FRAME_BYTES = 1024 * 1024;

/**
 * The largest frame a reply of `max` records may take: their columns, and beside them
 * their string values, reasons and new names (a generous 1 KB a record, plus 1 MB).
 */
function frameBytes(max: number): number {
  return LOAD_FRAME_BYTES + (BYTES_PER_RECORD + 1024) * max;
}

/** Environment every child gets: where Deno keeps its cache. */
const PASSED_ENV = ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "PATH", "NO_COLOR"];

/** The project's deno.json for the child, when the host runs from a source tree. */
const CONFIG = (() => {
  try {
    const p = join(dirname(fileURLToPath(import.meta.url)), "../../deno.json");
    Deno.statSync(p);
    return [`--config=${p}`];
  } catch {
    return ["--no-config"];
  }
})();

function outOfMemory(stderr: string): boolean {
  return /out of memory|heap limit|allocation failed/i.test(stderr);
}

function firstLine(stderr: string): string {
  const l = stderr.trim().split("\n").find((x) => x.trim() !== "");
  return l ? `: ${l.slice(0, 200)}` : "";
}

function strip(x: ReturnType<WireEnd["pending"]>): Extras | undefined {
  if (!x) return undefined;
  const { buf: _, ...rest } = x;
  return Object.keys(rest).length ? rest : undefined;
}
