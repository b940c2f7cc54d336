/**
 * @module
 * `bifrost discover bacnet`: sends Who-Is (broadcast, to one address with `--target`, on a
 * remote network with `--network N`, through a BBMD with `--bbmd`) and lists every device
 * that answers with its instance, address, network/MAC, vendor, model and name (read from
 * each Device object with one ReadPropertyMultiple).
 */

import { parseArgs } from "node:util";
import { parseDuration, type ToolOutput } from "../../../engine/plugin.ts";
import { ObjectType, PropertyId as P } from "../core/enums.ts";
import { BacnetSession } from "../client/session.ts";
import { deviceFields } from "../core/spec.ts";
import { type Found, hex, openPort } from "../client/port.ts";
import { DISCOVER_USAGE } from "./usage.ts";

/** A discovered device with what its Device object says. */
export interface DiscoveredDevice {
  instance: number;
  address: string;
  network?: number;
  mac?: string;
  maxApdu: number;
  segmentation: number;
  vendorId: number;
  vendor?: string;
  model?: string;
  name?: string;
}

/** Runs Who-Is and describes each device found. */
export async function discover(o: {
  target?: { host: string; port: number };
  broadcast: string;
  port: number;
  localPort: number;
  network?: number;
  bbmd?: { host: string; port: number };
  low?: number;
  high?: number;
  waitMs: number;
}): Promise<DiscoveredDevice[]> {
  const port = await openPort({ port: o.localPort, broadcast: o.broadcast });
  try {
    if (o.bbmd) await port.registerForeignDevice(o.bbmd.host, o.bbmd.port, 60, o.waitMs);
    const found: Found[] = await port.whoIs({
      ...(o.low !== undefined ? { low: o.low, high: o.high ?? o.low } : {}),
      ...(o.target ? { target: o.target } : {}),
      ...(o.network !== undefined ? { network: o.network } : {}),
      broadcastPort: o.port,
      waitMs: o.waitMs,
    });
    const out: DiscoveredDevice[] = [];
    for (const f of found) {
      const d: DiscoveredDevice = {
        instance: f.device,
        address: `${f.peer.host}:${f.peer.port}`,
        ...(f.peer.route ? { network: f.peer.route.net, mac: hex(f.peer.route.mac) } : {}),
        maxApdu: f.maxApdu,
        segmentation: f.segmentation,
        vendorId: f.vendorId,
      };
      const s = new BacnetSession(
        deviceFields({
          device: f.device,
          localPort: o.localPort,
          timeout: `${Math.max(500, o.waitMs)}ms`,
        }),
        String(f.device),
      );
      s.port = port;
      s.peer = f.peer;
      s.limits = { maxApdu: f.maxApdu, segmentation: f.segmentation, vendorId: f.vendorId };
      try {
        const [r] = await s.readMultiple({
          objects: [{
            object: { type: ObjectType.device, instance: f.device },
            properties: [P["vendor-name"], P["model-name"], P["object-name"]].map((property) => ({
              property,
              tags: [],
            })),
          }],
          requestBytes: 0,
          replyBytes: 0,
        });
        for (const p of r?.results ?? []) {
          if ("error" in p || p.values[0]?.type !== "characterString") continue;
          const v = p.values[0].value;
          if (p.property === P["vendor-name"]) d.vendor = v;
          if (p.property === P["model-name"]) d.model = v;
          if (p.property === P["object-name"]) d.name = v;
        }
      } catch {
        // Listed with what its I-Am said.
      }
      out.push(d);
    }
    return out.sort((a, b) => a.instance - b.instance);
  } finally {
    port.release();
  }
}

function hostPort(text: string, def: number): { host: string; port: number } {
  const [h, p] = text.split(":");
  if (!h || (p !== undefined && !/^[0-9]+$/.test(p))) {
    throw new Error(`"${text}" is not HOST[:PORT]`);
  }
  return { host: h, port: p ? Number(p) : def };
}

/** `bifrost discover bacnet ...`; resolves with the exit code. */
export async function runDiscover(args: string[], out: ToolOutput): Promise<number> {
  let o: Parameters<typeof discover>[0];
  let json = false;
  try {
    const { values } = parseArgs({
      args,
      options: {
        network: { type: "string" },
        target: { type: "string" },
        broadcast: { type: "string" },
        port: { type: "string" },
        "local-port": { type: "string" },
        bbmd: { type: "string" },
        low: { type: "string" },
        high: { type: "string" },
        wait: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      out.log(DISCOVER_USAGE);
      return 0;
    }
    json = values.json ?? false;
    const int = (name: string, v: string | undefined, min: number, max: number) => {
      if (v === undefined) return undefined;
      if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
        throw new Error(`--${name} must be ${min}..${max}, got "${v}"`);
      }
      return Number(v);
    };
    const port = int("port", values.port, 1, 65535) ?? 47808;
    const network = int("network", values.network, 1, 65535);
    const low = int("low", values.low, 0, 4194303);
    const high = int("high", values.high, 0, 4194303);
    o = {
      broadcast: values.broadcast ?? "255.255.255.255",
      port,
      localPort: int("local-port", values["local-port"], 0, 65535) ?? 0,
      waitMs: parseDuration(values.wait ?? "3s"),
      ...(values.target ? { target: hostPort(values.target, port) } : {}),
      ...(values.bbmd ? { bbmd: hostPort(values.bbmd, 47808) } : {}),
      ...(network !== undefined ? { network } : {}),
      ...(low !== undefined ? { low, high: high ?? low } : {}),
    };
  } catch (e) {
    out.error(`Cannot run discover: ${(e as Error).message}`);
    out.error(DISCOVER_USAGE);
    return 2;
  }
  let found: DiscoveredDevice[];
  try {
    found = await discover(o);
  } catch (e) {
    out.error(`Cannot send Who-Is: ${(e as Error).message}`);
    return 1;
  }
  if (json) {
    out.log(JSON.stringify(found, null, 2));
    return found.length ? 0 : 1;
  }
  if (found.length === 0) {
    out.error(
      `No BACnet device answered Who-Is within ${o.waitMs} ms (${
        o.target ? `${o.target.host}:${o.target.port}` : `broadcast ${o.broadcast}:${o.port}`
      }${o.network ? `, network ${o.network}` : ""})`,
    );
    return 1;
  }
  out.log("instance\taddress\tnetwork\tmac\tvendor\tmodel\tname");
  for (const d of found) {
    out.log(
      [
        d.instance,
        d.address,
        d.network ?? "",
        d.mac ?? "",
        d.vendor ?? `vendor ${d.vendorId}`,
        d.model ?? "",
        d.name ?? "",
      ].join("\t"),
    );
  }
  return 0;
}
