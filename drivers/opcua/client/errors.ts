/**
 * @module
 * Connect failures in words an engineer acts on: which side refused what, and what to run.
 * node-opcua reports them as messages with a status name in them; the name decides the
 * advice.
 */

import { BifrostError } from "../../../engine/plugin.ts";
import type { OpcuaDevice } from "../core/spec.ts";

/** Advice by the status name found in node-opcua's message. */
function advice(text: string, f: OpcuaDevice, rejected?: string): string | undefined {
  if (/ECONNREFUSED|connection refused/i.test(text)) {
    return "connection refused (is the server running at this port?)";
  }
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/i.test(text)) return "the host name does not resolve";
  if (/BadCertificateTimeInvalid|expired/i.test(text)) {
    return "a certificate has expired or is not yet valid (the server's or Bifrost's): renew it, or check both clocks";
  }
  if (
    /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|Cannot find \w+ user token policy/i
      .test(text)
  ) {
    return f.user !== undefined
      ? `the server refused user "${f.user}": wrong user name or password (or the user may not log in)`
      : f.userCertificate !== undefined
      ? `the server refused the user certificate ${f.userCertificate}: trust it on the server`
      : "the server refuses anonymous sessions: set user and password (or a user certificate)";
  }
  if (
    /server certificate.*(not trusted|untrusted|rejected)|BadCertificateUntrusted.*server|invalid server certificate/i
      .test(text)
  ) {
    return rejected
      ? `the server's certificate (thumbprint ${rejected}) is not trusted; it was put in ${f.pki}/rejected: check the thumbprint with the server's administrator, then run \`bifrost opcua trust ${rejected} --pki ${f.pki}\``
      : `the server's certificate is not trusted: \`bifrost opcua list --pki ${f.pki}\` shows it, \`bifrost opcua trust <thumbprint> --pki ${f.pki}\` trusts it`;
  }
  if (
    /BadSecurityChecksFailed|BadCertificateUntrusted|BadCertificateInvalid|BadCertificate/i.test(
      text,
    )
  ) {
    return `the server rejected Bifrost's application certificate (${f.pki}/own/certs/client_certificate.pem): trust it on the server (often by moving it from the server's rejected to its trusted folder), then retry`;
  }
  if (
    /BadSecurityPolicyRejected|BadSecurityModeRejected|no endpoint|cannot find endpoint/i.test(text)
  ) {
    return `the server offers no endpoint with securityMode ${f.securityMode} and securityPolicy ${f.securityPolicy}: \`bifrost discover opcua ${f.endpoint}\` lists what it offers`;
  }
  return undefined;
}

/** A connect failure as DEVICE_UNREACHABLE, explained; a BifrostError passes through. */
export function explainConnectError(
  what: string,
  e: unknown,
  f: OpcuaDevice,
  rejected?: string,
): BifrostError {
  if (e instanceof BifrostError) return e;
  const text = e instanceof Error ? e.message : String(e);
  const why = advice(text, f, rejected) ?? text.split("\n")[0]!.trim();
  return new BifrostError("DEVICE_UNREACHABLE", `${what}: ${why}`, {
    cause: e,
    details: { protocol: "opcua", endpoint: f.endpoint },
  });
}
