/**
 * @module
 * Messages between the `function` step (host) and its worker. The protocol is strictly
 * request/response: the host sends `init` (with the shared buffer) and waits for `ready`
 * or `loadError`, then sends one run request at a time and waits for its reply. `log`
 * lines may come at any time, `crash` when the worker caught an error nobody handled.
 *
 * The records themselves sit in the shared buffer (see `codec.ts`). In a steady stream of
 * numeric records a run request and its reply are a bare number, the batch id: the
 * cheapest message there is. An object is sent only when there are extras (new strings,
 * string or json values, reasons, a grown buffer).
 */

import type { WireExtras } from "../../engine/functions/codec.ts";

/** Loads the user module. */
export interface InitMessage {
  t: "init";
  /** Absolute file URL of the user module. */
  url: string;
  /** The step's name. */
  step: string;
  /** The step's `with:` object. */
  params: Record<string, unknown>;
  /** A directory granted only for loading the module; revoked once it is loaded. */
  revokeRead?: string;
  /** The shared buffer. */
  x: WireExtras | undefined;
}

/** Runs the function on the batch in the shared buffer; a bare number when no extras. */
export type RunMessage = number | { t: "run"; id: number; x: WireExtras };

/** Host to worker. */
export type ToWorker = InitMessage | RunMessage;

/** Log levels a function may use. */
export type FunctionLogLevel = "debug" | "info" | "warn" | "error";

/** Worker to host. A bare number is an `ok` reply without extras. */
export type FromWorker =
  | number
  | { t: "ready" }
  | { t: "loadError"; message: string }
  | { t: "ok"; id: number; x: WireExtras }
  | { t: "same"; id: number; x: WireExtras | undefined }
  | { t: "fail"; id: number; message: string; x: WireExtras | undefined }
  | { t: "crash"; message: string }
  | {
    t: "log";
    level: FunctionLogLevel;
    msg: string;
    fields?: Record<string, unknown>;
    suppressed?: number;
  };
