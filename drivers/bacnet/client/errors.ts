/**
 * @module
 * BACnet failures as Bifrost errors: an Error PDU names its class and code
 * (`property/unknown-property`), a Reject or Abort its reason, a timeout says how long.
 */

import { BifrostError } from "../../../engine/plugin.ts";
import { AbortReason, ErrorClass, ErrorCodeNames, RejectReason } from "../core/enums.ts";
import { BacnetReplyError, BacnetTimeoutError, BacnetTooLargeError } from "./port.ts";

/** `property/unknown-property` for an error class and code. */
export function errorName(cls: number, code: number): string {
  return `${ErrorClass[cls] ?? `class-${cls}`}/${ErrorCodeNames[code] ?? `code-${code}`}`;
}

/** A BACnet Error, Reject or Abort as a `DEVICE_EXCEPTION`; `what` says what was done. */
export function replyError(e: BacnetReplyError, what: string): BifrostError {
  if (e.kind === "error") {
    const name = errorName(e.cls, e.code);
    return new BifrostError(
      "DEVICE_EXCEPTION",
      `${what}: ${name} (BACnet error class ${e.cls}, code ${e.code})`,
      {
        details: { protocol: "bacnet", code: e.code, class: e.cls, name },
      },
    );
  }
  const reasons: readonly string[] = e.kind === "reject" ? RejectReason : AbortReason;
  const name = reasons[e.code] ?? `reason-${e.code}`;
  return new BifrostError(
    "DEVICE_EXCEPTION",
    `${what}: ${e.kind} ${name} (BACnet ${e.kind} reason ${e.code})`,
    {
      details: { protocol: "bacnet", code: e.code, name: `${e.kind}/${name}` },
    },
  );
}

/** Any failure of a request as a `BifrostError`. */
export function requestError(e: unknown, what: string): BifrostError {
  if (e instanceof BifrostError) return e;
  if (e instanceof BacnetReplyError) return replyError(e, what);
  if (e instanceof BacnetTimeoutError) {
    return new BifrostError("TIMEOUT", `${what}: ${e.message}`, { cause: e });
  }
  if (e instanceof BacnetTooLargeError) {
    // What the device would answer (Abort segmentation-not-supported), said before sending.
    return new BifrostError("DEVICE_EXCEPTION", `${what}: ${e.message}`, {
      details: { protocol: "bacnet", code: 4, name: "abort/segmentation-not-supported" },
      cause: e,
    });
  }
  if (e instanceof RangeError) {
    return new BifrostError("PROTOCOL_ERROR", `${what}: malformed reply (${e.message})`, {
      cause: e,
    });
  }
  return new BifrostError(
    "NOT_CONNECTED",
    `${what}: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}
