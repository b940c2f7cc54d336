/**
 * @module
 * Messages between the `function` step (host) and its child process, each the `meta` of a
 * frame (`frames.ts`). The protocol is strictly request/response: the host sends `init`
 * and waits for `ready` or `loadError`, then sends one `run` at a time and waits for its
 * reply. `log` lines may come at any time, `crash` when the child caught an error nobody
 * handled.
 *
 * The records travel as the frame's columns (see `codec.ts`); `x` carries what does not
 * fit there (new strings, string or json values, reasons). The host treats every message
 * from the child as untrusted: `check.ts` validates it before anything reads it.
 */

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
}

/** Runs the function on the batch in the frame's columns. */
export interface RunMessage {
  t: "run";
  id: number;
  /** The most records the function may return for this batch. */
  max: number;
  x?: Extras;
}

/** Host to child. */
export type ToChild = InitMessage | RunMessage;

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
  | LogMessage;
