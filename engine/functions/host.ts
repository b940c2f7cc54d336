/**
 * @module
 * The host side of a user edge function: one child process per `function` step
 * (`child.ts`), batches sent one at a time and in order, and recovery when the function
 * misbehaves. Why a process and not a worker is said in `child.ts`.
 *
 * The host reads the module and its imports from the flow repository once, at the first
 * start, and sends their code, types stripped (`loader.ts`), to every process it starts:
 * the process reads nothing from disk, and a restart runs the code the step started with.
 *
 * - A throw in the function marks that batch's records bad (reason
 *   `function "<step>" failed: <message>`); the process keeps running with its state.
 * - A batch that takes longer than the time limit gets the process killed; the batch is
 *   marked bad (`function "<step>" timed out after <n> ms`) and the next batch starts a
 *   fresh process, with empty state.
 * - Memory: the process runs with a V8 heap limit (`memory`, default 128 MB); past it V8
 *   ends the process. A watchdog reads its resident memory from /proc every 100 ms and
 *   kills it past the limit plus {@linkcode PROCESS_OVERHEAD_MB} (array buffers are
 *   outside the heap). Either way the batch is bad with
 *   `function "<step>" exceeded its memory limit of <n> MB`.
 * - The same watchdog charges CPU time the process uses between batches (beyond 10 % of
 *   the time): past one time limit's worth, something the function started is still
 *   running (a `node:worker_threads` worker, a timer loop) and the process is killed.
 *   `new Worker` is refused in the process outright.
 * - A crash (an unhandled rejection, a throw in a timer) is handled like a time-out.
 * - Restarts back off after consecutive failures (0, 250 ms, 500 ms … 30 s) so that a
 *   module that no longer loads does not spin; batches that arrive meanwhile are marked
 *   bad at once.
 * - Output: at most `maxOutput` records a batch (default 10 per input record plus 1000);
 *   the process refuses to send more, and the host refuses a frame or a reply beyond it
 *   before decoding anything. Non-finite numbers returned as values are marked bad.
 *
 * Everything the process sends is untrusted: frames are bounded, messages validated
 * (`check.ts`), malformed ones dropped and counted ({@linkcode FunctionHost.malformed});
 * a stream that is not made of frames gets the process replaced. Log lines are
 * rate-limited here too (a burst of 20, then 2 a second), not only in the process.
 *
 * Records cross through the columnar codec (`codec.ts`) in frames (`frames.ts`). What the
 * function returns is decoded into the input batch, which the step owns: a steady stream
 * allocates no batches on the host.
 */

import { dirname } from "node:path";
import type { Clock } from "../clock.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { EmittedRecord, TriggerRequest } from "./api.ts";
import { type Batch, Quality } from "../record.ts";
import { HEADER_BYTES, WireEnd } from "./codec.ts";
import {
  frameBytes,
  type FunctionPermissions,
  FunctionProcess,
  type LaunchMode,
  LOAD_FRAME_BYTES,
  processSetup,
} from "./child_process.ts";
import { checkMessage, checkReply, markNonFinite } from "./check.ts";
import { type CallMessage, extrasOf, type FromChild, type ToChild } from "./protocol.ts";
import { RateLimiter } from "./rate_limit.ts";
import type { FunctionSource } from "./loader.ts";
import { WATCH_MS, Watchdog } from "./watchdog.ts";

export type { FunctionPermissions };

/** Options of {@linkcode FunctionHost}. */
export interface FunctionHostOptions {
  /** The step's name. */
  step: string;
  /** Absolute path of the module. */
  path: string;
  /**
   * The flow repository: the module and what it imports are read from inside it only
   * (default: the module's directory).
   */
  root?: string;
  /** How to start the process (default: `self` in the compiled binary, else `source`). */
  launch?: LaunchMode;
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
  /** A trigger's function: answers {@linkcode FunctionHost.request}, not batches. */
  trigger?: boolean;
  /**
   * Serves a trigger function's `ctx.read` / `ctx.write` while a request runs: resolves to
   * the value read (undefined for a write); a rejection's message is thrown in the function.
   */
  calls?(call: CallMessage): Promise<unknown>;
}

/** The largest response a trigger's function may send, in bytes. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** How a trigger's request ended (see {@linkcode FunctionHost.request}). */
export type TriggerOutcome =
  | {
    t: "response";
    status: number;
    headers: Record<string, string>;
    body: unknown;
    /** Records the function emitted (validated), to go into the graph. */
    emit: EmittedRecord[];
  }
  /** The function threw (or returned what cannot be sent); the process lives on. */
  | { t: "fail"; message: string }
  /** Past the time limit: the process was ended. */
  | { t: "timeout"; message: string }
  /** The process crashed, ran out of memory, broke the protocol or cannot start. */
  | { t: "error"; message: string };

/** The heap limit of a function's process when the step declares none, in MB. */
export const DEFAULT_MEMORY_MB = 128;

const MAX_BACKOFF_MS = 30_000;

/** Why the host stopped waiting for the process. */
type Stop =
  | { t: "timeout" }
  | { t: "gone"; message: string }
  | { t: "memory" }
  | { t: "broken"; what: string };

type Reply = { m: FromChild; bytes: number } | { m: Stop };

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
  readonly #restartLines: RateLimiter;
  #source: FunctionSource | undefined;
  readonly #memoryMb: number;
  #child: FunctionProcess | undefined;
  #wire = new WireEnd();
  #waiting: ((r: Reply) => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watchdog: Watchdog;
  /** How often the watchdog looks, in ms: often enough for the time limit. */
  readonly #watchMs: number;
  #deadline = 0;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #failures = 0;
  #retryAt = 0;
  #lastFailure = "";
  #closed = false;
  #restarts = 0;
  /** Messages from the child that were dropped as malformed. */
  malformed = 0;

  constructor(options: FunctionHostOptions) {
    this.#o = options;
    this.#log = options.log.child({ step: options.step });
    this.#errors = new RateLimiter(5, 0.2, () => options.clock.monotonic());
    this.#lines = new RateLimiter(20, 2, () => options.clock.monotonic());
    this.#restartLines = new RateLimiter(3, 1 / 30, () => options.clock.monotonic());
    this.#memoryMb = options.memoryMb ?? DEFAULT_MEMORY_MB;
    this.#watchdog = new Watchdog(this.#memoryMb, options.timeoutMs);
    this.#watchMs = Math.min(WATCH_MS, Math.max(10, Math.floor(options.timeoutMs / 4)));
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

  /** Figures for metrics: `restarts`, the processes started again after a failure. */
  stats(): Record<string, number> {
    return { restarts: this.#restarts };
  }

  /**
   * Runs a trigger's function on one request; requests run one at a time, in order. A
   * time-out, a crash or a protocol breach ends the process; the next request starts a
   * fresh one (backing off after consecutive failures, as batches do).
   */
  request(req: TriggerRequest): Promise<TriggerOutcome> {
    const p = this.#busy === 0 ? this.#request(req) : this.#queue.then(() => this.#request(req));
    this.#busy++;
    const done = p.then(() => {
      this.#busy--;
    }, () => {
      this.#busy--;
    });
    this.#queue = done;
    return p;
  }

  /** Requests waiting or running. */
  get pending(): number {
    return this.#busy;
  }

  async #request(req: TriggerRequest): Promise<TriggerOutcome> {
    const name = this.#o.step;
    if (this.#closed) return { t: "error", message: `function "${name}" is closed` };
    if (!this.#child) {
      const wait = this.#retryAt - this.#o.clock.monotonic();
      if (wait > 0) {
        return {
          t: "error",
          message: `${this.#lastFailure} (restarting in ${Math.ceil(wait)} ms)`,
        };
      }
      const err = await this.#spawn();
      if (err !== undefined) {
        this.#failed(`function "${name}" failed: cannot load "${this.#o.path}": ${err}`);
        return { t: "error", message: this.#lastFailure };
      }
      this.#restarted(name);
    }
    const id = this.#nextId++;
    this.#child!.maxFrame = MAX_RESPONSE_BYTES;
    const msg: ToChild = { t: "request", id, req, now: this.#o.clock.now() };
    const r = await this.#call(msg, undefined, this.#o.timeoutMs, true);
    const m = r.m;
    const lost = (reason: string, stop: Stop): TriggerOutcome => {
      this.#stop(stop);
      this.#failed(reason);
      this.#o.countError(reason);
      return { t: "error", message: reason };
    };
    if ((m.t === "response" || m.t === "fail") && m.id !== id) {
      this.malformed++;
      const what = `a reply to request ${m.id} while waiting for ${id}`;
      return lost(`function "${name}" failed: its process sent ${what}`, { t: "broken", what });
    }
    switch (m.t) {
      case "response":
        this.#failures = 0;
        return {
          t: "response",
          status: m.status,
          headers: m.headers,
          body: m.body,
          emit: m.emit ?? [],
        };
      case "fail":
        this.#failures = 0;
        this.#o.countError(`function "${name}" failed: ${m.message}`);
        return { t: "fail", message: m.message };
      case "timeout": {
        const reason = `function "${name}" timed out after ${this.#o.timeoutMs} ms`;
        lost(reason, m);
        return { t: "timeout", message: reason };
      }
      case "memory":
        return lost(this.#memoryReason(), m);
      case "broken":
        return lost(`function "${name}" failed: its process sent ${m.what}`, m);
      default: {
        const why = m.t === "crash" || m.t === "gone" ? m.message : `unexpected reply "${m.t}"`;
        const oom = this.#child?.outOfMemory;
        return lost(
          oom ? this.#memoryReason() : `function "${name}" failed: its process crashed: ${why}`,
          { t: "gone", message: why },
        );
      }
    }
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
      this.#restarted(step);
    }
    const id = this.#nextId++;
    const max = this.#o.maxOutput ?? defaultMaxOutput(batch.length);
    const x = extrasOf(this.#wire.encodeBatch(batch, this.#o.clock.now()));
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
        const bad = checkReply(this.#wire, bytes, m.x, max);
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
      case "broken":
        this.#stop(m);
        this.#failed(`function "${step}" failed: its process sent ${m.what}`);
        return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
      default: {
        const why = m.t === "crash" || m.t === "gone" ? m.message : `unexpected reply "${m.t}"`;
        const c = this.#child;
        this.#stop({ t: "gone", message: why });
        this.#failed(
          c?.outOfMemory
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
    this.#stop({ t: "broken", what });
    this.#failed(`function "${this.#o.step}" failed: its process sent ${what}`);
    return this.#fail(batch, this.#lastFailure, "its process was ended; state is lost");
  }

  /** Marks records whose number is NaN or infinite bad: they are not measurements. */
  #finite(b: Batch): Batch {
    const reason = markNonFinite(b, this.#o.step);
    // Counted once a batch, as a failed batch is.
    if (reason !== undefined) this.#o.countError(reason);
    return b;
  }

  /**
   * Counts a restart and logs it: three lines at once, then one every 30 s saying how many
   * were not logged (a function failing every batch restarted 30 times in 12 s, a line each).
   */
  #restarted(name: string): void {
    this.#restarts++;
    const suppressed = this.#restartLines.take();
    if (suppressed < 0) return;
    this.#log.info(
      `Function "${name}" restarted in a new process; its state starts empty`,
      suppressed > 0
        ? { restarts: this.#restarts, notLogged: suppressed }
        : { restarts: this.#restarts },
    );
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
    let c: FunctionProcess;
    try {
      // Read once: a restarted process runs the code the step started with. The
      // transpiler loads with the first function, not with the gateway.
      const { loadFunctionSource } = await import("./loader.ts");
      this.#source ??= await loadFunctionSource(
        this.#o.path,
        this.#o.root ?? dirname(this.#o.path),
      );
    } catch (e) {
      return errorMessage(e);
    }
    const source = this.#source;
    try {
      const setup = processSetup(this.#o.permissions, this.#memoryMb, this.#o.launch);
      c = new FunctionProcess({
        command: setup.command,
        args: setup.args,
        env: setup.env,
        maxFrame: LOAD_FRAME_BYTES,
        events: {
          message: (m, columns) => {
            if (this.#child === c) this.#onMessage(m, columns);
          },
          malformed: (why) => {
            if (this.#child !== c) return;
            this.malformed++;
            this.#lost({ t: "broken", what: why }, `failed: its process sent ${why}`);
          },
          exit: (why) => {
            if (this.#child !== c) return;
            const m = c.outOfMemory ? { t: "memory" as const } : {
              t: "gone" as const,
              message: `it ended (${why})${c.stderrLine}`,
            };
            this.#lost(m, m.t === "gone" ? `its process crashed: ${m.message}` : "");
          },
        },
      });
    } catch (e) {
      return `cannot start a process: ${errorMessage(e)}`;
    }
    this.#child = c;
    this.#wire = new WireEnd();
    this.#watchdog = new Watchdog(this.#memoryMb, this.#o.timeoutMs);
    this.#timer = setInterval(() => this.#watch(c), this.#watchMs);
    Deno.unrefTimer(this.#timer as unknown as number);
    const init: ToChild = {
      t: "init",
      source,
      step: this.#o.step,
      params: this.#o.params,
    };
    if (this.#o.trigger) init.trigger = true;
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
    if (m.t === "broken") return `it sent ${m.what}`;
    return `unexpected reply "${m.t}"`;
  }

  /**
   * The process is lost: the batch in flight gets `m`; between batches the process is
   * replaced before the next one and the log says why (`what`, or the memory limit).
   */
  #lost(m: Stop, what: string): void {
    if (this.#waiting) {
      this.#settle({ m });
      return;
    }
    this.#stop(m);
    this.#failed(m.t === "memory" ? this.#memoryReason() : `function "${this.#o.step}" ${what}`);
    this.#log.error(`${this.#lastFailure}; its process was ended; state is lost`);
  }

  /** The watchdog's round: time limit, memory, CPU used between batches. */
  #watch(c: FunctionProcess): void {
    if (this.#child !== c) return;
    if (this.#waiting && performance.now() >= this.#deadline) {
      this.#settle({ m: { t: "timeout" } });
      return;
    }
    const st = c.stats();
    const verdict = st && this.#watchdog.observe(st, this.#waiting !== undefined, this.#watchMs);
    if (verdict === "memory") this.#lost({ t: "memory" }, "");
    else if (verdict === "busy") {
      this.#lost(
        { t: "gone", message: "busy between batches" },
        `kept running after its batch (${
          Math.round(this.#watchdog.charged)
        } ms of CPU time past its time limit, e.g. a worker or a timer it started)`,
      );
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
      this.#watchdog.batch();
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
    if (m.t === "call") {
      this.#serveCall(m);
      return;
    }
    if (this.#waiting) {
      // The frame's bytes are valid only now: the next read reuses the buffer.
      if (m.t === "ok" && columns.byteLength >= HEADER_BYTES) this.#wire.load(columns);
      this.#settle({ m, bytes: columns.byteLength });
    } else if (m.t === "crash") {
      this.#lost({ t: "gone", message: m.message }, `failed: its process crashed: ${m.message}`);
    } else {
      this.malformed++;
    }
  }

  /** A `ctx.read` / `ctx.write` of the request in flight; refused between requests. */
  #serveCall(m: CallMessage): void {
    const c = this.#child;
    const answer = (r: ToChild) => {
      if (this.#child === c) c?.sendCopy(r, true);
    };
    const calls = this.#o.calls;
    if (!this.#waiting || !calls) {
      answer({
        t: "callResult",
        cid: m.cid,
        ok: false,
        message: calls ? "no request is running" : "ctx.read/ctx.write are not available here",
      });
      return;
    }
    calls(m).then(
      (value) => answer({ t: "callResult", cid: m.cid, ok: true, value }),
      (e) => answer({ t: "callResult", cid: m.cid, ok: false, message: errorMessage(e) }),
    );
  }

  #stop(m: Stop): void {
    const c = this.#child;
    this.#child = undefined;
    this.#settle({ m });
    clearInterval(this.#timer);
    this.#timer = undefined;
    c?.kill();
  }
}
