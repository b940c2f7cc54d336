/**
 * @module
 * The child process of the `function` step: evaluates the user module the host sends
 * (CommonJS from `loader.ts`, with a `require()` limited to the modules sent, the types of
 * `bifrost/functions` and `node:` built-ins) from memory, then runs its default export on
 * each batch the host sends over stdin, and answers over stdout (`frames.ts`). It needs no
 * permission to read: the step grants none unless its `permissions:` say so.
 * Records arrive and leave through the columnar codec (`codec.ts`); only in this process
 * do they become objects.
 *
 * Why a process and not a worker (measured on Deno 2.9.6): `terminate()` of a web or
 * `node:worker_threads` worker does not stop a worker in a busy loop (its thread keeps
 * spinning for good), web workers take no heap limit, and a worker a function starts
 * survives its parent's termination. A process is killed whole: its heap limit
 * (`--max-old-space-size`), its threads, its memory all go with it.
 *
 * Inside, stdout is the protocol's: `console` goes to the gateway's log, rate-limited, and
 * `Deno.stdout` is closed to the function. It can still reach fd 1 (`node:process`), which
 * is why the host treats everything from here as untrusted. `new Worker` is refused;
 * `Deno.exit()` and `close()` too, so that a function cannot end its process silently.
 * Errors nobody handles are reported as `crash` and the host replaces the process.
 */

import type { Context, DataRecord, FunctionLogger, UserFunction } from "./api.ts";
import { WireEnd } from "./codec.ts";
import { FrameReader, FrameWriter } from "./frames.ts";
import {
  API_SPECIFIER,
  type CallResultMessage,
  type Extras,
  extrasOf,
  type FromChild,
  type FunctionLogLevel,
  type FunctionSource,
  type InitMessage,
  type RequestMessage,
  type ResponseMessage,
  type ToChild,
} from "./protocol.ts";
import { RateLimiter } from "./rate_limit.ts";
import { serialize } from "node:v8";
import { createRequire } from "node:module";

const stdout = Deno.stdout;
const exit = Deno.exit;
const wire = new WireEnd();
const limiter = new RateLimiter(20, 2);
let fn: UserFunction | undefined;
let ctx: Context | undefined;
/** The gateway clock when the current request arrived (a trigger's `ctx.now()`). */
let requestNow = 0;
/** What the current request's function emitted (`ctx.emit`). */
let emitted: unknown[] = [];

const frames = new FrameWriter();

function post(m: FromChild, columns?: Uint8Array): void {
  const f = frames.encode(m, columns, needsV8(m));
  for (let off = 0; off < f.byteLength;) off += stdout.writeSync(f.subarray(off));
}

/** Log fields and values other than strings need V8's format (see `frames.ts`). */
function needsV8(m: FromChild): boolean {
  if (m.t === "log") return m.fields !== undefined;
  if (m.t === "response" || m.t === "call") return true;
  const objV = "x" in m ? m.x?.objV : undefined;
  return objV !== undefined && objV.some((v) => typeof v !== "string");
}

function message(e: unknown): string {
  if (e instanceof Error) {
    return e.name && e.name !== "Error" ? `${e.name}: ${e.message}` : e.message;
  }
  return String(e);
}

/** The longest log line sent (the host cuts longer ones too), in characters. */
const MAX_LOG_CHARS = 4096;
/** The most bytes of log fields sent; bigger fields are sent as a note. */
const MAX_FIELD_BYTES = 16 * 1024;

function logLine(level: FunctionLogLevel, msg: unknown, fields?: Record<string, unknown>): void {
  const suppressed = limiter.take();
  if (suppressed < 0) return;
  const m: FromChild = { t: "log", level, msg: String(msg).slice(0, MAX_LOG_CHARS) };
  if (suppressed > 0) m.suppressed = suppressed;
  if (fields !== undefined) {
    try {
      const size = serialize(fields).byteLength;
      m.fields = size <= MAX_FIELD_BYTES ? fields : { fieldsDropped: `${size} bytes` };
    } catch {
      // Fields that cannot be serialized (functions, symbols): send their text instead.
      m.msg += ` ${String(fields)}`.slice(0, MAX_LOG_CHARS);
    }
  }
  post(m);
}

const log: FunctionLogger = {
  debug: (msg, fields) => logLine("debug", msg, fields),
  info: (msg, fields) => logLine("info", msg, fields),
  warn: (msg, fields) => logLine("warn", msg, fields),
  error: (msg, fields) => logLine("error", msg, fields),
};

/**
 * Evaluates the modules the host sent (CommonJS, see `loader.ts`) from memory and returns
 * the entry's exports: no file is read, no `import()` made.
 */
function evaluate(source: FunctionSource): Record<string, unknown> {
  const cache = new Map<string, { exports: Record<string, unknown> }>();
  const nodeRequire = createRequire(import.meta.url);
  const load = (key: string): Record<string, unknown> => {
    const hit = cache.get(key);
    if (hit) return hit.exports;
    const mod = source.modules[key];
    if (!mod) throw new Error(`Cannot find module "${key}" among those the host sent`);
    const module = { exports: {} as Record<string, unknown> };
    cache.set(key, module);
    const require = (spec: string): unknown => {
      const to = mod.deps[spec];
      if (to === undefined) {
        throw new Error(`Cannot import "${spec}" from ${key}: only static imports are loaded`);
      }
      if (to === API_SPECIFIER) return {};
      if (to.startsWith("node:")) return nodeRequire(to);
      return load(to);
    };
    // The code is the user's module, transpiled by the host: evaluating it is the point.
    let body: (...args: unknown[]) => unknown;
    try {
      body = new Function("exports", "require", "module", `${mod.code}\n//# sourceURL=${key}`) as (
        ...args: unknown[]
      ) => unknown;
    } catch (e) {
      // Modules are evaluated as CommonJS, where a top-level `await` cannot be.
      if (e instanceof SyntaxError && /await is only valid/.test(e.message)) {
        throw new SyntaxError(
          `${key}: top-level await is not supported in a function module: await inside the ` +
            "default function instead (it may be async)",
        );
      }
      throw e;
    }
    body.call(module.exports, module.exports, require, module);
    return module.exports;
  };
  return load(source.entry);
}

function init(m: InitMessage): void {
  try {
    const mod = evaluate(m.source);
    if (typeof mod.default !== "function") {
      const got = mod.default === undefined ? "no default export" : `a ${typeof mod.default}`;
      throw new TypeError(`Cannot use the module: it must export a default function, found ${got}`);
    }
    fn = mod.default as UserFunction;
    const now = m.trigger ? () => requestNow : () => wire.now;
    ctx = { state: {}, params: m.params, step: m.step, log, now };
    if (m.trigger) {
      Object.assign(ctx, {
        emit: (r: unknown) => {
          if (Array.isArray(r)) emitted.push(...r);
          else emitted.push(r);
        },
        read: (device: string, tag: string) => call({ op: "read", device, tag }),
        write: (device: string, tag: string, value: unknown) =>
          call({ op: "write", device, tag, value }).then(() => undefined),
      });
    }
    post({ t: "ready" });
  } catch (e) {
    post({ t: "loadError", message: message(e) });
  }
}

function reply(id: number, max: number, result: unknown): void {
  if (result === undefined) {
    const x = extrasOf(wire.pending());
    post(x ? { t: "same", id, x } : { t: "same", id });
    return;
  }
  if (Array.isArray(result) && result.length > max) {
    throw new RangeError(
      `Cannot use the returned value: ${result.length} records, more than its limit of ${max}`,
    );
  }
  const x = extrasOf(wire.encodeRecords(result as DataRecord[]));
  post(x ? { t: "ok", id, x } : { t: "ok", id }, wire.wireView());
}

function fail(id: number, e: unknown): void {
  const x = extrasOf(wire.pending());
  post(x ? { t: "fail", id, message: message(e), x } : { t: "fail", id, message: message(e) });
}

async function run(m: { id: number; max: number; x?: Extras }, columns: Uint8Array) {
  try {
    wire.load(columns);
    const records = wire.decodeRecords(m.x);
    let result = fn!(records, ctx!);
    if (result instanceof Promise) result = await result;
    reply(m.id, m.max, result);
  } catch (e) {
    fail(m.id, e);
  }
}

/** Every permission a Deno process can hold. */
const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/** `{ status?, headers?, body }` as it is; any other value is the body of a 200. */
function asResponse(id: number, r: unknown): ResponseMessage {
  const o = r as Record<string, unknown> | null;
  const shaped = typeof o === "object" && o !== null && !Array.isArray(o) && "body" in o &&
    Object.keys(o).every((k) => k === "status" || k === "headers" || k === "body");
  if (!shaped) return { t: "response", id, status: 200, headers: {}, body: r };
  const status = o.status ?? 200;
  if (!Number.isInteger(status) || (status as number) < 200 || (status as number) > 599) {
    throw new RangeError(`Cannot use the returned status ${String(status)}: expected 200 to 599`);
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.headers ?? {}) as Record<string, unknown>)) {
    headers[k] = String(v);
  }
  return { t: "response", id, status: status as number, headers, body: o.body };
}

/** `ctx.read` / `ctx.write` waiting for the host, by call id. */
const calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let nextCall = 1;

function call(c: { op: "read" | "write"; device: string; tag: string; value?: unknown }) {
  const cid = nextCall++;
  const p = new Promise<unknown>((resolve, reject) => calls.set(cid, { resolve, reject }));
  post({ t: "call", cid, ...c } as FromChild);
  return p;
}

function callResult(m: CallResultMessage): void {
  const w = calls.get(m.cid);
  if (!w) return;
  calls.delete(m.cid);
  if (m.ok) w.resolve(m.value);
  else w.reject(new Error(m.message));
}

async function request(m: RequestMessage): Promise<void> {
  try {
    requestNow = m.now;
    emitted = [];
    // deno-lint-ignore no-explicit-any
    let result: unknown = (fn as any)(m.req, ctx!);
    if (result instanceof Promise) result = await result;
    const res = asResponse(m.id, result);
    if (emitted.length > 0 && res.t === "response") res.emit = emitted as never;
    post(res);
  } catch (e) {
    post({ t: "fail", id: m.id, message: message(e) });
  }
}

/** Options of {@linkcode runChild}. */
export interface ChildOptions {
  /**
   * Revoke every permission before anything else: the compiled binary's child starts with
   * the permissions baked in at compile time (`-A`) and cannot be given fewer.
   */
  dropPermissions?: boolean;
}

/**
 * Runs the child: guards the process, then serves the host's frames on stdin until it
 * closes. Entered by `deno run child.ts` from source, and by the compiled binary's hidden
 * `__function-child` subcommand.
 */
export async function runChild(o: ChildOptions = {}): Promise<void> {
  if (o.dropPermissions) {
    for (const name of PERMISSIONS) await Deno.permissions.revoke({ name });
  }
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    post({ t: "crash", message: message(e.error ?? e.message) });
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    post({ t: "crash", message: `unhandled rejection: ${message(e.reason)}` });
  });

  const refuse = (what: string) => () => {
    throw new Error(`${what} is not allowed in a function`);
  };
  Deno.exit = refuse("Deno.exit()");
  globalThis.close = refuse("close()");
  Object.defineProperty(globalThis, "Worker", {
    value: function Worker() {
      throw new Error("new Worker() is not allowed in a function");
    },
    writable: false,
    configurable: false,
  });
  const levels = { debug: "debug", info: "info", log: "info", warn: "warn", error: "error" };
  for (const [k, level] of Object.entries(levels)) {
    const c = console as unknown as Record<string, unknown>;
    c[k] = (...args: unknown[]) => logLine(level as FunctionLogLevel, args.map(String).join(" "));
  }
  try {
    Object.defineProperty(Deno, "stdout", { get: refuse("Deno.stdout") });
  } catch {
    // A frozen namespace: what a function writes there reaches the host as untrusted bytes.
  }

  const reader = new FrameReader(2 ** 31);
  for (;;) {
    const k = await Deno.stdin.read(reader.space());
    if (k === null) break;
    reader.commit(k);
    for (let f = reader.next(); f; f = reader.next()) {
      const m = f.meta as ToChild;
      if (m.t === "run") await run(m, f.columns);
      // Not awaited: the function's ctx.read/write answers arrive through this loop.
      else if (m.t === "request") void request(m);
      else if (m.t === "callResult") callResult(m);
      else if (m.t === "init") init(m);
    }
  }
  exit(0);
}

if (import.meta.main) await runChild({ dropPermissions: Deno.args.includes("--drop-permissions") });
