/**
 * @module
 * `bifrost discover opcua [opc.tcp://host:4840]`: FindServers on a discovery URL (a Local
 * Discovery Server on 4840, or any server, which lists itself), then GetEndpoints of each
 * server found: its URL, security modes and policies, and user token types.
 */

import type { ToolOutput } from "../../../engine/plugin.ts";
import { loadOpcua, withTimeout } from "../client/load.ts";
import { DISCOVER_USAGE } from "./usage.ts";

/** Runs the discovery; resolves with the exit code. */
export async function runDiscover(args: string[], out: ToolOutput): Promise<number> {
  let url = "opc.tcp://127.0.0.1:4840";
  let timeoutMs = 5_000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--help" || a === "-h") {
      out.log(DISCOVER_USAGE);
      return 0;
    }
    if (a === "--timeout") {
      const { parseDuration } = await import("../../../engine/plugin.ts");
      try {
        timeoutMs = parseDuration(args[++i] ?? "");
      } catch (e) {
        out.error(`Cannot discover: ${(e as Error).message}`);
        out.error(DISCOVER_USAGE);
        return 2;
      }
    } else if (/^opc\.tcp:\/\//.test(a)) url = a;
    else {
      out.error(`Cannot discover: unexpected argument "${a}"`);
      out.error(DISCOVER_USAGE);
      return 2;
    }
  }
  const lib = await loadOpcua();
  const fail = () => new Error(`no answer from ${url} within ${timeoutMs} ms`);
  try {
    const servers = await withTimeout(lib.findServers(url), timeoutMs, fail);
    const list = servers.servers ?? [];
    if (list.length === 0) out.log(`No server registered at ${url}`);
    for (const s of list) {
      out.log(`${s.applicationName.text ?? "?"} (${s.applicationUri ?? "?"})`);
      for (const u of (s.discoveryUrls ?? []).filter((x): x is string => typeof x === "string")) {
        out.log(`  ${u}`);
        try {
          const client = lib.OPCUAClient.create({
            endpointMustExist: false,
            connectionStrategy: { maxRetry: 0 },
          });
          await withTimeout(client.connect(u), timeoutMs, fail);
          try {
            const eps = await withTimeout(client.getEndpoints(), timeoutMs, fail);
            for (const e of eps) {
              const policy = (e.securityPolicyUri ?? "").split("#")[1] ?? "";
              const tokens = [
                ...new Set((e.userIdentityTokens ?? []).map((t) => lib.UserTokenType[t.tokenType])),
              ].join(", ");
              out.log(`    ${lib.MessageSecurityMode[e.securityMode]} ${policy} users: ${tokens}`);
            }
          } finally {
            await client.disconnect();
          }
        } catch (e) {
          out.log(`    endpoints unavailable: ${(e as Error).message.split("\n")[0]}`);
        }
      }
    }
    return 0;
  } catch (e) {
    out.error(`Cannot discover OPC UA servers at ${url}: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}
