/**
 * @module
 * Messages between the `function` step (host) and its child process, each the `meta` of a
 * frame (`frames.ts`). The protocol is strictly request/response: the host sends `init`
 * and waits for `ready` or `loadError`, then sends one `run` at a time and waits for its
 * reply. A trigger's process gets `request` messages instead, answered by `response` or
 * `fail`. `log` lines may come at any time, `crash` when the child caught an error nobody
 * handled.
 *
 * The records travel as the frame's columns (see `codec.ts`); `x` carries what does not
 * fit there (new strings, string or json values, reasons). The host treats every message
 * from the child as untrusted: `check.ts` validates it before anything reads it.
 */

import type { EmittedRecord, TriggerRequest } from "./api.ts";
import type { WireExtras } from "./codec.ts";

/** The extras of a message between processes: never a shared buffer. */
export type Extras = Omit<WireExtras, "buf">;

/** The extras of an encode for the other process: without `buf`, undefined when empty. */
export function extrasOf(x: WireExtras | undefined): Extras | undefined {
  if (!x) return undefined;
  const { buf: _, ...rest } = x;
  return Object.keys(rest).length ? rest : undefined;
}

/** The specifier functions import their API from (types only: it evaluates to `{}`). */
export const API_SPECIFIER = "bifrost/functions";

/** One module for the child: CommonJS code and where each of its specifiers leads. */
export interface LoadedModule {
  code: string;
  /** Specifier → a key of `FunctionSource.modules`, `bifrost/functions` or `node:…`. */
  deps: Record<string, string>;
}

/** A function and the modules it imports, keyed by their path in the flow repository. */
export interface FunctionSource {
  entry: string;
  modules: Record<string, LoadedModule>;
}

/** Loads the user module. */
export interface InitMessage {
  t: "init";
  /** The module and what it imports, transpiled by the host (`loader.ts`). */
  source: FunctionSource;
  /** The step's name. */
  step: string;
  /** The step's `with:` object. */
  params: Record<string, unknown>;
  /** The module is a trigger's: it answers `request` messages, not batches. */
  trigger?: boolean;
}

/** Runs the function on the batch in the frame's columns. */
export interface RunMessage {
  t: "run";
  id: number;
  /** The most records the function may return for this batch. */
  max: number;
  x?: Extras;
}

/** Runs a trigger's function on an HTTP request (sent in V8's format: any JSON body). */
export interface RequestMessage {
  t: "request";
  id: number;
  req: TriggerRequest;
  /** The gateway clock when the request arrived (`ctx.now()`). */
  now: number;
}

/** The answer to a {@linkcode CallMessage}. */
export type CallResultMessage =
  | { t: "callResult"; cid: number; ok: true; value?: unknown }
  | { t: "callResult"; cid: number; ok: false; message: string };

/** Host to child. */
export type ToChild = InitMessage | RunMessage | RequestMessage | CallResultMessage;

/** A trigger's function asks the host to read or write a device tag (`ctx.read/write`). */
export type CallMessage =
  | { t: "call"; cid: number; op: "read"; device: string; tag: string }
  | { t: "call"; cid: number; op: "write"; device: string; tag: string; value: unknown };

/** Log levels a function may use. */
export type FunctionLogLevel = "debug" | "info" | "warn" | "error";

/** The log levels, for validation. */
export const LOG_LEVELS: readonly FunctionLogLevel[] = ["debug", "info", "warn", "error"];

/** A log line of the function. */
export interface LogMessage {
  t: "log";
  level: FunctionLogLevel;
  msg: string;
  fields?: Record<string, unknown>;
  suppressed?: number;
}

/** Child to host; `ok` carries the returned records as the frame's columns. */
export type FromChild =
  | { t: "ready" }
  | { t: "loadError"; message: string }
  | { t: "ok"; id: number; x?: Extras }
  | { t: "same"; id: number; x?: Extras }
  | { t: "fail"; id: number; message: string; x?: Extras }
  | { t: "crash"; message: string }
  | ResponseMessage
  | CallMessage
  | LogMessage;

/** A trigger function's answer to a `request` (a throw answers `fail`). */
export interface ResponseMessage {
  t: "response";
  id: number;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** Records the function emitted (`ctx.emit`) while answering. */
  emit?: EmittedRecord[];
}
