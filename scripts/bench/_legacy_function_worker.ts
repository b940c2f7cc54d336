/**
 * @module
 * The worker entry of the `function` step: loads one user module, then runs its default
 * export on each batch the host sends. Records arrive and leave through the columnar codec
 * (`codec.ts`); only inside this worker do they become objects.
 *
 * The host spawns this file with `new URL("./_legacy_function_worker.ts", import.meta.url)` so that
 * `deno compile --include engine/functions/worker.ts` can embed it. The user module is
 * imported by absolute file URL at run time.
 *
 * Errors nobody handles (a rejected promise, a throw in a timer) are reported as `crash`
 * and the host replaces the worker. `Deno.exit()` and `close()` are disabled so that a
 * function cannot end its worker silently.
 */

/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />

import type {
  Context,
  DataRecord,
  FunctionLogger,
  UserFunction,
} from "../../engine/functions/api.ts";
import { WireEnd, type WireExtras } from "../../engine/functions/codec.ts";
import type {
  FromWorker,
  FunctionLogLevel,
  InitMessage,
  ToWorker,
} from "./_legacy_function_protocol.ts";
import { RateLimiter } from "../../engine/functions/rate_limit.ts";

const post = (m: FromWorker) => self.postMessage(m);
const wire = new WireEnd();
const limiter = new RateLimiter(20, 2);
let fn: UserFunction | undefined;
let ctx: Context | undefined;

function message(e: unknown): string {
  if (e instanceof Error) {
    return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  }
  return String(e);
}

function logLine(level: FunctionLogLevel, msg: unknown, fields?: Record<string, unknown>): void {
  const suppressed = limiter.take();
  if (suppressed < 0) return;
  const m: FromWorker = { t: "log", level, msg: String(msg) };
  if (suppressed > 0) m.suppressed = suppressed;
  if (fields !== undefined) m.fields = fields;
  try {
    post(m);
  } catch {
    // Fields that cannot be cloned (functions, symbols): send their text instead.
    delete m.fields;
    m.msg += ` ${String(fields)}`;
    post(m);
  }
}

const log: FunctionLogger = {
  debug: (msg, fields) => logLine("debug", msg, fields),
  info: (msg, fields) => logLine("info", msg, fields),
  warn: (msg, fields) => logLine("warn", msg, fields),
  error: (msg, fields) => logLine("error", msg, fields),
};

async function init(m: InitMessage): Promise<void> {
  try {
    wire.accept(m.x);
    const mod = await import(m.url);
    if (m.revokeRead) await Deno.permissions.revoke({ name: "read", path: m.revokeRead });
    if (typeof mod.default !== "function") {
      const got = mod.default === undefined ? "no default export" : `a ${typeof mod.default}`;
      throw new TypeError(`Cannot use the module: it must export a default function, found ${got}`);
    }
    fn = mod.default as UserFunction;
    ctx = { state: {}, params: m.params, step: m.step, log, now: () => wire.now };
    post({ t: "ready" });
  } catch (e) {
    post({ t: "loadError", message: message(e) });
  }
}

function reply(id: number, result: unknown): void {
  if (result === undefined) {
    post({ t: "same", id, x: wire.pending() });
    return;
  }
  const x = wire.encodeRecords(result as DataRecord[]);
  post(x ? { t: "ok", id, x } : id);
}

function fail(id: number, e: unknown): void {
  post({ t: "fail", id, message: message(e), x: wire.pending() });
}

function run(id: number, x: WireExtras | undefined): void {
  try {
    const records = wire.decodeRecords(x);
    const result = fn!(records, ctx!);
    if (result instanceof Promise) result.then((r) => reply(id, r)).catch((e) => fail(id, e));
    else reply(id, result);
  } catch (e) {
    fail(id, e);
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (typeof m === "number") run(m, undefined);
  else if (m.t === "run") run(m.id, m.x);
  else if (m.t === "init") void init(m);
};
self.addEventListener("error", (e) => {
  e.preventDefault();
  post({ t: "crash", message: message(e.error ?? e.message) });
});

self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  post({ t: "crash", message: `unhandled rejection: ${message(e.reason)}` });
});

const refuse = (what: string) => () => {
  throw new Error(`${what} is not allowed in a function`);
};
Deno.exit = refuse("Deno.exit()");
self.close = refuse("close()");
