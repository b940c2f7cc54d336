/**
 * @module
 * `bifrost discover ethernet-ip`: broadcasts ListIdentity over UDP (or sends it to one
 * `--host`) and lists the devices that answer: address, vendor, product name, revision,
 * serial number. Exit 0 with devices found, 1 with none, 2 for bad arguments.
 */

import dgram from "node:dgram";
import { parseDuration, type ToolOutput } from "../../../engine/plugin.ts";
import {
  COMMANDS,
  frame,
  HEADER_SIZE,
  type Identity,
  readIdentities,
  VENDORS,
} from "../core/encap.ts";
import { DISCOVER_USAGE } from "./usage.ts";

/** Options of {@linkcode discover}. */
export interface DiscoverOptions {
  /** Where ListIdentity goes: a broadcast address or one host. */
  target: string;
  port: number;
  timeoutMs: number;
}

/** Sends ListIdentity and collects the answers until the timeout. */
export async function discover(o: DiscoverOptions): Promise<(Identity & { from: string })[]> {
  const socket = dgram.createSocket("udp4");
  const found = new Map<string, Identity & { from: string }>();
  socket.on("message", (msg, rinfo) => {
    const b = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
    if (b.length < HEADER_SIZE || (b[0]! | (b[1]! << 8)) !== COMMANDS.LIST_IDENTITY) return;
    try {
      for (const id of readIdentities(b.subarray(HEADER_SIZE))) {
        found.set(`${rinfo.address}:${rinfo.port}/${id.serial}`, {
          ...id,
          from: `${rinfo.address}:${rinfo.port}`,
        });
      }
    } catch { /* a malformed answer is not a device */ }
  });
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  socket.setBroadcast(true);
  await new Promise<void>((resolve, reject) =>
    socket.send(
      frame(COMMANDS.LIST_IDENTITY, 0, new Uint8Array(0)),
      o.port,
      o.target,
      (e) => e ? reject(e) : resolve(),
    )
  );
  await new Promise((r) => setTimeout(r, o.timeoutMs));
  await new Promise<void>((r) => socket.close(() => r()));
  return [...found.values()];
}

/** Runs the command. */
export async function runDiscover(args: string[], out: ToolOutput): Promise<number> {
  const o: DiscoverOptions = { target: "255.255.255.255", port: 44818, timeoutMs: 2000 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    const need = () => {
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      i++;
      return v;
    };
    try {
      if (a === "--help" || a === "-h") {
        out.log(DISCOVER_USAGE);
        return 0;
      } else if (a === "--broadcast" || a === "--host") o.target = need();
      else if (a === "--port") {
        o.port = Number(need());
        if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
          throw new RangeError(`port "${v}" is not 1..65535`);
        }
      } else if (a === "--timeout") o.timeoutMs = parseDuration(need());
      else throw new RangeError(`unknown argument "${a}"`);
    } catch (e) {
      out.error(`Cannot run discover: ${(e as Error).message}`);
      out.error(DISCOVER_USAGE);
      return 2;
    }
  }
  let devices;
  try {
    devices = await discover(o);
  } catch (e) {
    out.error(`Cannot send ListIdentity to ${o.target}:${o.port}: ${(e as Error).message}`);
    return 1;
  }
  if (devices.length === 0) {
    out.error(
      `No EtherNet/IP device answered ListIdentity at ${o.target}:${o.port} within ${o.timeoutMs} ms`,
    );
    return 1;
  }
  out.log("address\tvendor\tproduct\trevision\tserial");
  for (const d of devices) {
    const vendor = VENDORS[d.vendorId] ?? `vendor ${d.vendorId}`;
    out.log(
      `${d.from}\t${vendor}\t${d.productName}\t${d.revision}\t0x${
        d.serial.toString(16).padStart(8, "0")
      }`,
    );
  }
  return 0;
}
