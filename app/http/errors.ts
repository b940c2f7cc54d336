/**
 * @module
 * The API's errors: {@linkcode ApiError} for what a request got wrong, and the one
 * {@linkcode errorResponse} that turns any thrown value into `{ error: { code, message,
 * field? } }` with its HTTP status (Hono's `app.onError` calls it, nothing else answers an
 * error). Engine errors map by their code: `NOT_FOUND` 404, `WRITE_REJECTED` and
 * `CONFIG_INVALID` 400, device trouble 502/503/504.
 */

import { type ErrorCode, errorMessage, isBifrostError } from "../../engine/errors.ts";

/** Codes the API itself adds to the engine's. */
export type ApiErrorCode =
  | ErrorCode
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "RATE_LIMITED"
  | "BUSY"
  | "INTERNAL";

/** What went wrong with a request: a status, a code, a message and the field at fault. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly field: string | undefined;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    o: { field?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = o.field;
    this.headers = o.headers ?? {};
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  WRITE_REJECTED: 400,
  CONFIG_INVALID: 400,
  NOT_CONNECTED: 503,
  DEVICE_UNREACHABLE: 503,
  TIMEOUT: 504,
  DEVICE_EXCEPTION: 502,
  PROTOCOL_ERROR: 502,
  SINK_FAILED: 500,
};

/** The status and body for any thrown value. */
export function errorResponse(
  e: unknown,
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (e instanceof ApiError) {
    const error: ErrorBody["error"] = { code: e.code, message: e.message };
    if (e.field !== undefined) error.field = e.field;
    return { status: e.status, body: { error }, headers: e.headers };
  }
  if (isBifrostError(e)) {
    return {
      status: STATUS_OF[e.code] ?? 500,
      body: { error: { code: e.code, message: e.message } },
      headers: {},
    };
  }
  return {
    status: 500,
    body: { error: { code: "INTERNAL", message: `Internal error: ${errorMessage(e)}` } },
    headers: {},
  };
}
