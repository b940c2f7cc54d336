/**
 * @module
 * The OPC UA driver (`driver: opcua`): browse, read (batched under the server's
 * OperationLimits), write (checked against the node's DataType and access level) and
 * subscribe (monitored items with sampling interval, queue, discard policy and deadband),
 * over None, Sign or SignAndEncrypt with anonymous, username/password or X.509 identities.
 * The folder map and limits are in README.md beside this file.
 *
 * The entry is light: the client loads with the first OPC UA device (`load`) and node-opcua
 * (tens of MB of modules) when it first connects, so a gateway with no OPC UA device never
 * loads either.
 *
 * @example
 * ```yaml
 * devices:
 *   boiler:
 *     driver: opcua
 *     endpoint: opc.tcp://192.168.1.30:4840
 *     tags:
 *       temp: { address: "ns=2;s=Boiler.Temp", type: Double }
 *       level: { address: /Objects/Boiler/Level, type: Float }
 * ```
 */

import {
  type DeviceConfig,
  type DriverIssue,
  type DriverModule,
  lazyCreate,
} from "../../engine/plugin.ts";
import { parseAddress } from "./core/address.ts";
import { parseWhere } from "./core/where.ts";
import { OpcuaDeviceSpec, OpcuaSubscribeSpec, OpcuaTagSpec } from "./core/spec.ts";
import { opcuaValueKind } from "./core/types.ts";
import { opcuaTools } from "./tools/mod.ts";

/** Address syntax, event where clauses and the monitored-item limit, checked when the flow loads. */
function validate(device: DeviceConfig): DriverIssue[] {
  const issues: DriverIssue[] = [];
  for (const [name, tag] of device.tags) {
    try {
      parseAddress(tag.address);
    } catch (e) {
      issues.push({ message: (e as Error).message, path: ["tags", name, "address"] });
    }
    const where = tag.config.where;
    if (where !== undefined) {
      if (tag.type !== "Event") {
        issues.push({
          message: `where filters events: tag "${name}" has type ${tag.type}, not Event`,
          path: ["tags", name, "where"],
        });
      } else {
        try {
          parseWhere(String(where));
        } catch (e) {
          issues.push({ message: (e as Error).message, path: ["tags", name, "where"] });
        }
      }
    }
  }
  const f = device.config;
  if ((f.securityMode ?? "None") !== "None" && (f.securityPolicy ?? "None") === "None") {
    issues.push({
      message:
        `securityMode ${f.securityMode} needs a securityPolicy (Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss)`,
      path: ["securityPolicy"],
    });
  }
  if ((f.userCertificate === undefined) !== (f.userPrivateKey === undefined)) {
    issues.push({
      message: "an X.509 user identity needs both userCertificate and userPrivateKey",
      path: [f.userCertificate === undefined ? "userCertificate" : "userPrivateKey"],
    });
  }
  if (f.password !== undefined && f.user === undefined) {
    issues.push({ message: "password is set without user", path: ["user"] });
  }
  const limit = f.maxMonitoredItems;
  if (typeof limit === "number" && device.tags.size > limit) {
    issues.push({
      message:
        `${device.tags.size} tags exceed maxMonitoredItems ${limit}: subscribing all of them on one session will fail; poll some or split the device`,
      path: ["maxMonitoredItems"],
      severity: "warning",
    });
  }
  return issues;
}

/** The OPC UA driver module. */
export const opcua: DriverModule = {
  name: "opcua",
  description:
    "OPC UA client (node-opcua): read, write, subscribe and browse, with Sign/SignAndEncrypt security.",
  status: "beta",
  tools: opcuaTools,
  deviceSpec: OpcuaDeviceSpec,
  tagSpec: OpcuaTagSpec,
  subscribeSpec: OpcuaSubscribeSpec,
  ...lazyCreate('driver "opcua"', async () => {
    const { OpcuaDriver } = await import("./client/driver.ts");
    return (device, ctx) => new OpcuaDriver(device, ctx);
  }),
  validate,
  valueKind: opcuaValueKind,
};

export { opcuaTools } from "./tools/mod.ts";
