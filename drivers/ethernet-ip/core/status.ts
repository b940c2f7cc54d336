/**
 * @module
 * CIP general status codes and the extended status codes of the Connection Manager and of
 * Logix tag services, in the words of the CIP specification (Vol. 1, Appendix B) and of the
 * Logix 5000 Data Access manual, so that a bad quality or a refused write names them.
 */

/** CIP general status codes. */
export const GENERAL_STATUS = {
  0x00: "Success",
  0x01: "Connection failure",
  0x02: "Resource unavailable",
  0x03: "Invalid parameter value",
  0x04: "Path segment error",
  0x05: "Path destination unknown",
  0x06: "Partial transfer",
  0x07: "Connection lost",
  0x08: "Service not supported",
  0x09: "Invalid attribute value",
  0x0a: "Attribute list error",
  0x0b: "Already in requested mode/state",
  0x0c: "Object state conflict",
  0x0d: "Object already exists",
  0x0e: "Attribute not settable",
  0x0f: "Privilege violation",
  0x10: "Device state conflict",
  0x11: "Reply data too large",
  0x12: "Fragmentation of a primitive value",
  0x13: "Not enough data",
  0x14: "Attribute not supported",
  0x15: "Too much data",
  0x16: "Object does not exist",
  0x17: "Service fragmentation sequence not in progress",
  0x18: "No stored attribute data",
  0x19: "Store operation failure",
  0x1a: "Routing failure, request packet too large",
  0x1b: "Routing failure, response packet too large",
  0x1c: "Missing attribute list entry data",
  0x1d: "Invalid attribute value list",
  0x1e: "Embedded service error",
  0x1f: "Vendor specific error",
  0x20: "Invalid parameter",
  0x21: "Write-once value or medium already written",
  0x22: "Invalid reply received",
  0x25: "Key failure in path",
  0x26: "Path size invalid",
  0x27: "Unexpected attribute in list",
  0x28: "Invalid member ID",
  0x29: "Member not settable",
} as const;

/** Extended status of the Connection Manager (general status 0x01). */
export const CONNECTION_STATUS = {
  0x0100: "Connection in use or duplicate Forward Open",
  0x0103: "Transport class and trigger combination not supported",
  0x0106: "Ownership conflict",
  0x0107: "Target connection not found",
  0x0108: "Invalid network connection parameter",
  0x0109: "Invalid connection size",
  0x0110: "Target for connection not configured",
  0x0111: "RPI not supported",
  0x0113: "Out of connections",
  0x0114: "Vendor ID or product code mismatch",
  0x0115: "Product type mismatch",
  0x0116: "Revision mismatch",
  0x0117: "Invalid produced or consumed application path",
  0x0118: "Invalid or inconsistent configuration application path",
  0x0119: "Non-listen only connection not opened",
  0x011a: "Target object out of connections",
  0x0203: "Connection timed out",
  0x0204: "Unconnected request timed out",
  0x0205: "Parameter error in unconnected request service",
  0x0206: "Message too large for unconnected send service",
  0x0301: "No buffer memory available",
  0x0311: "Invalid port ID specified in the route path",
  0x0312: "Invalid node address specified in the route path",
  0x0315: "Invalid segment type in the route path",
} as const;

/** Extended status of Logix tag services (general status 0xFF and others). */
export const TAG_STATUS = {
  0x2104: "Offset beyond the end of the tag",
  0x2105: "Number of elements beyond the end of the tag",
  0x2107: "Data type of the request does not match the tag's",
} as const;

/** A CIP status as words: `Path destination unknown (CIP status 0x05)`, with extended status. */
export function describeStatus(general: number, extended: readonly number[] = []): string {
  const name = (GENERAL_STATUS as Record<number, string>)[general] ??
    (general === 0xff ? "General error" : "Unknown status");
  let text = `${name} (CIP status 0x${hex(general, 2)}`;
  const ext = extended[0];
  if (ext !== undefined) {
    const extName = (CONNECTION_STATUS as Record<number, string>)[ext] ??
      (TAG_STATUS as Record<number, string>)[ext];
    text += `, extended 0x${hex(ext, 4)}${extName ? `: ${extName}` : ""}`;
  }
  return text + ")";
}

/** `n` as upper-case hex of `digits` digits. */
export function hex(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, "0");
}
