/**
 * @module
 * Turns what mqtt.js and TLS report when a connection fails into a sentence an operator
 * can act on: which side refused, why, and which setting to look at. The original code
 * and text stay at the end in parentheses (and as `cause`).
 */

import { BifrostError, errorMessage } from "../../engine/plugin.ts";
import type { MqttConfig } from "./spec.ts";

/** TLS verification codes that mean "not signed by a CA we trust". */
const UNTRUSTED = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
]);

/** CONNACK return codes of MQTT 3.1.1 and reason codes of MQTT 5. */
const REFUSED: Record<number, string> = {
  1: "the broker does not accept this protocol version (set protocolVersion)",
  2: "the broker refused the client id",
  3: "the broker is unavailable",
  4: "the broker refused the credentials",
  5: "the broker refused the connection as not authorized",
  0x84: "the broker does not accept this protocol version (set protocolVersion)",
  0x85: "the broker refused the client id",
  0x86: "the broker refused the credentials",
  0x87: "the broker refused the connection as not authorized",
  0x88: "the broker is unavailable",
  0x89: "the broker is busy",
  0x8a: "the broker banned this client",
  0x8c: "the broker refused the authentication method",
};

function tlsFile(c: Pick<MqttConfig, "tls">, k: "ca" | "cert"): string {
  const f = c.tls?.[k];
  return f === undefined ? "" : ` "${f}"`;
}

/** Why a connection failed, in words; `undefined` when there is nothing to add. */
export function explainConnectFailure(
  e: unknown,
  c: Pick<MqttConfig, "url" | "tls" | "username">,
  username?: string,
): string | undefined {
  const code = (e as { code?: unknown }).code;
  const msg = errorMessage(e);
  const user = username ?? c.username;
  if (typeof code === "number" && REFUSED[code]) {
    const auth = code === 4 || code === 5 || code === 0x86 || code === 0x87;
    if (!auth) return REFUSED[code];
    return REFUSED[code] + ": check the user name and password " +
      (user === undefined ? "(none set)" : `(user "${user}")`);
  }
  if (typeof code !== "string") return undefined;
  if (UNTRUSTED.has(code)) {
    return c.tls?.ca !== undefined
      ? `the broker's certificate is not signed by the CA in tls.ca${tlsFile(c, "ca")}`
      : "the broker's certificate is not signed by a trusted CA (set tls.ca to the CA that signed it)";
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    let host = c.url;
    try {
      host = new URL(c.url).hostname;
    } catch { /* keep the URL */ }
    return `the broker's certificate is not valid for host "${host}" (use the name it was issued for in url)`;
  }
  if (code === "CERT_HAS_EXPIRED") return "the broker's certificate has expired";
  if (code === "CERT_NOT_YET_VALID") {
    return "the broker's certificate is not valid yet (check the gateway's clock)";
  }
  if (/CERTIFICATE_REQUIRED/i.test(code) || /CertificateRequired/i.test(msg)) {
    return "the broker requires a client certificate (set tls.cert and tls.key)";
  }
  if (/UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN/i.test(code)) {
    return `the broker refused the client certificate${
      tlsFile(c, "cert")
    } (not signed by a CA it trusts, or revoked)`;
  }
  if (code === "ECONNREFUSED") return "nothing listens there (connection refused)";
  return undefined;
}

/** The error to report for a failed connection: explained when we can, else as is. */
export function connectError(
  e: unknown,
  c: Pick<MqttConfig, "url" | "tls" | "username">,
  username?: string,
): Error {
  const why = explainConnectFailure(e, c, username);
  if (why === undefined) return e instanceof Error ? e : new Error(String(e));
  const code = (e as { code?: unknown }).code;
  return new BifrostError("SINK_FAILED", `${why} (${code}: ${errorMessage(e)})`, { cause: e });
}
