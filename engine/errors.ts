/**
 * @module
 * The one domain error of Bifrost. Anything a user or an operator must act on is a
 * {@linkcode BifrostError} with a literal `code`; programming mistakes stay built-in
 * errors (`TypeError`, `RangeError`).
 */

/** Every code a {@linkcode BifrostError} may carry. */
export const ErrorCodes = {
  CONFIG_INVALID: "CONFIG_INVALID",
  DEVICE_UNREACHABLE: "DEVICE_UNREACHABLE",
  NOT_CONNECTED: "NOT_CONNECTED",
  TIMEOUT: "TIMEOUT",
  /**
   * The device answered with a protocol exception (Modbus exception, OPC UA bad status…);
   * `details` carry `protocol`, `code` and `name` (e.g. `modbus`, 6, `SERVER_DEVICE_BUSY`).
   */
  DEVICE_EXCEPTION: "DEVICE_EXCEPTION",
  PROTOCOL_ERROR: "PROTOCOL_ERROR",
  WRITE_REJECTED: "WRITE_REJECTED",
  FUNCTION_FAILED: "FUNCTION_FAILED",
  SINK_FAILED: "SINK_FAILED",
  NOT_FOUND: "NOT_FOUND",
  /** A valid new revision of the flows could not be applied in full (see `Gateway.apply`). */
  RELOAD_FAILED: "RELOAD_FAILED",
  /** A revision from git could not be fetched, checked out, verified or applied. */
  DEPLOY_FAILED: "DEPLOY_FAILED",
} as const;

/** A literal union of the error codes. */
export type ErrorCode = keyof typeof ErrorCodes;

/** Where in a flow file a config error sits. */
export interface SourceLocation {
  /** Path of the file, as the user gave it (relative to the working directory). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** JSON path inside the document, e.g. `/devices/boiler-plc/tags/temp1`. */
  path?: string;
}

/** Options of a {@linkcode BifrostError}. */
export interface BifrostErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
  location?: SourceLocation;
}

/**
 * The domain error: `code` says what kind of failure, the message says what failed,
 * where and the value seen.
 *
 * @example
 * ```ts
 * throw new BifrostError("DEVICE_EXCEPTION", `Cannot read HR40001 on "press-3": device busy (Modbus exception 6)`, {
 *   details: { protocol: "modbus", code: 6, name: "SERVER_DEVICE_BUSY" },
 * });
 * ```
 */
export class BifrostError extends Error {
  override name = "BifrostError";
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: BifrostErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.location = options.location;
  }
}

/** True when `e` is a {@linkcode BifrostError}, optionally of the given code. */
export function isBifrostError(e: unknown, code?: ErrorCode): e is BifrostError {
  return e instanceof BifrostError && (code === undefined || e.code === code);
}

/** A short, human text for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
