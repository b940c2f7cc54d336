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

import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import type { Clock } from "../../engine/clock.ts";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import type { Logger } from "../../engine/log.ts";
import { type Batch, Quality } from "../../engine/record.ts";
import { WireEnd } from "../../engine/functions/codec.ts";
import type { FromWorker, ToWorker } from "./_legacy_function_protocol.ts";
import { RateLimiter } from "../../engine/functions/rate_limit.ts";

/** Permissions granted to a function's worker; absolute paths for `read`. */
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
  log: Logger;
  clock: Clock;
  countError(reason: string): void;
}

const WORKER_URL = new URL("./_legacy_function_worker.ts", import.meta.url);
const MAX_BACKOFF_MS = 30_000;

type Reply = FromWorker | { t: "timeout" } | { t: "gone"; message: string };

/** Records a new worker's buffer starts with. */
const INITIAL_CAPACITY = 1024;

/** Runs one user function in a worker. */
export class LegacyFunctionHost {
  readonly #o: FunctionHostOptions;
  readonly #log: Logger;
  readonly #errors: RateLimiter;
  readonly #url: string;
  #worker: Worker | undefined;
  #wire = WireEnd.withCapacity(INITIAL_CAPACITY);
  #waiting: ((r: Reply) => void) | undefined;
  /** One watchdog timer, re-armed only when it fires early: no timer per batch. */
  #watchdog: ReturnType<typeof setTimeout> | undefined;
  #deadline = 0;
  #firesAt = 0;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #failures = 0;
  #retryAt = 0;
  #lastFailure = "";
  #closed = false;

  constructor(options: FunctionHostOptions) {
    this.#o = options;
    this.#log = options.log.child({ step: options.step });
    this.#errors = new RateLimiter(5, 0.2, () => options.clock.monotonic());
    this.#url = pathToFileURL(options.path).href;
  }

  /** Spawns the worker and loads the module; throws `FUNCTION_FAILED` when it cannot. */
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
    // Fast path when idle: no promise chaining on the hot path.
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

  /** Terminates the worker. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stop({ t: "gone", message: "the step was closed" });
    await this.#queue;
  }

  async #run(batch: Batch): Promise<Batch> {
    const step = this.#o.step;
    if (this.#closed) return this.#fail(batch, `function "${step}" failed: the step is closed`);
    if (batch.length === 0) return batch;
    if (!this.#worker) {
      const wait = this.#retryAt - this.#o.clock.monotonic();
      if (wait > 0) {
        return this.#fail(batch, `${this.#lastFailure} (restarting in ${Math.ceil(wait)} ms)`);
      }
      const err = await this.#spawn();
      if (err !== undefined) {
        this.#failed(`function "${step}" failed: cannot load "${this.#o.path}": ${err}`);
        return this.#fail(batch, this.#lastFailure);
      }
      this.#log.info(`Function "${step}" restarted in a new worker; its state starts empty`);
    }
    const id = this.#nextId++;
    const x = this.#wire.encodeBatch(batch, this.#o.clock.now());
    const r = await this.#call(x ? { t: "run", id, x } : id, this.#o.timeoutMs);
    if (this.#closed) return this.#fail(batch, `function "${step}" failed: the step was closed`);
    if (r === id) {
      this.#failures = 0;
      return this.#wire.decodeBatch(undefined, batch);
    }
    if (typeof r === "number") {
      this.#stop({ t: "gone", message: `reply to batch ${r} while waiting for ${id}` });
      this.#failed(`function "${step}" failed: its worker is out of step`);
      return this.#fail(batch, this.#lastFailure);
    }
    switch (r.t) {
      case "ok":
        this.#failures = 0;
        return this.#wire.decodeBatch(r.x, batch);
      case "same":
        this.#failures = 0;
        this.#wire.accept(r.x);
        return batch;
      case "fail":
        this.#failures = 0;
        this.#wire.accept(r.x);
        this.#wire.resync();
        return this.#fail(batch, `function "${step}" failed: ${r.message}`);
      case "timeout":
        this.#stop(r);
        this.#failed(`function "${step}" timed out after ${this.#o.timeoutMs} ms`);
        return this.#fail(batch, this.#lastFailure, "its worker was terminated; state is lost");
      default: {
        const why = r.t === "crash" || r.t === "gone" ? r.message : `unexpected reply "${r.t}"`;
        this.#stop({ t: "gone", message: why });
        this.#failed(`function "${step}" failed: its worker crashed: ${why}`);
        return this.#fail(batch, this.#lastFailure, "its worker was terminated; state is lost");
      }
    }
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

  /** Spawns a worker and loads the module; returns the error text when it fails. */
  async #spawn(): Promise<string | undefined> {
    this.#stop({ t: "gone", message: "replaced" });
    const { read = [], net = [], env = [] } = this.#o.permissions;
    const dir = dirname(this.#o.path);
    const covered = read.some((p) => dir === p || dir.startsWith(p.endsWith("/") ? p : p + "/"));
    const w = new Worker(WORKER_URL, {
      type: "module",
      name: `function ${this.#o.step}`,
      deno: {
        permissions: {
          read: covered ? read : [...read, dir],
          net: net.length ? net : false,
          env: env.length ? env : false,
          write: false,
          run: false,
          ffi: false,
          sys: false,
          import: false,
        },
      },
    });
    this.#worker = w;
    this.#wire = WireEnd.withCapacity(INITIAL_CAPACITY);
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      if (this.#worker === w) this.#onMessage(e.data);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (this.#worker === w) this.#onMessage({ t: "crash", message: e.message });
    };
    w.onmessageerror = () => {
      if (this.#worker === w) {
        this.#onMessage({ t: "crash", message: "a message could not be read" });
      }
    };
    const init: ToWorker = {
      t: "init",
      url: this.#url,
      step: this.#o.step,
      params: this.#o.params,
      x: this.#wire.pending(),
    };
    if (!covered) init.revokeRead = dir;
    const r = await this.#call(init, this.#o.loadTimeoutMs ?? Math.max(10_000, this.#o.timeoutMs));
    if (typeof r === "object" && r.t === "ready") return undefined;
    this.#stop({ t: "gone", message: "load failed" });
    if (typeof r === "number") return "unexpected reply";
    if (r.t === "loadError" || r.t === "crash" || r.t === "gone") return r.message;
    if (r.t === "timeout") return "loading took too long";
    return `unexpected reply "${r.t}"`;
  }

  #call(msg: ToWorker, timeoutMs: number): Promise<Reply> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#deadline = performance.now() + timeoutMs;
      // Re-arm only when this deadline is earlier than the one the timer is set for.
      if (this.#watchdog === undefined || this.#deadline < this.#firesAt) {
        clearTimeout(this.#watchdog);
        this.#arm(timeoutMs);
      }
      try {
        this.#worker!.postMessage(msg);
      } catch (e) {
        this.#settle({ t: "gone", message: errorMessage(e) });
      }
    });
  }

  #arm(ms: number): void {
    this.#firesAt = performance.now() + ms;
    const t = setTimeout(() => {
      this.#watchdog = undefined;
      if (!this.#waiting) return;
      const left = this.#deadline - performance.now();
      if (left <= 0) this.#settle({ t: "timeout" });
      else this.#arm(left);
    }, ms);
    // The watchdog alone must not keep the process alive.
    Deno.unrefTimer(t as unknown as number);
    this.#watchdog = t;
  }

  #settle(r: Reply): void {
    const w = this.#waiting;
    if (!w) return;
    this.#waiting = undefined;
    w(r);
  }

  #onMessage(m: FromWorker): void {
    if (typeof m === "object" && m.t === "log") {
      const fields: Record<string, unknown> = { ...m.fields };
      if (m.suppressed) fields.suppressed = m.suppressed;
      this.#log[m.level](m.msg, fields);
      return;
    }
    if (this.#waiting) {
      this.#settle(m);
    } else if (typeof m === "object" && m.t === "crash") {
      // Between batches: replace the worker before the next one.
      this.#stop({ t: "gone", message: m.message });
      this.#failed(`function "${this.#o.step}" failed: its worker crashed: ${m.message}`);
      this.#log.error(`${this.#lastFailure}; its worker was terminated; state is lost`);
    }
  }

  #stop(r: Reply): void {
    const w = this.#worker;
    this.#worker = undefined;
    this.#settle(r);
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    w?.terminate();
  }
}
