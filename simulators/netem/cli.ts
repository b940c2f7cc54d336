/**
 * @module
 * `bifrost sim netem --listen 5021 --target 127.0.0.1:5020 [--latency 50ms] [--jitter 10ms]
 * [--loss 1%] [--loss-stall 200ms] [--bandwidth 1200B/s] [--blackhole]`: runs the network
 * condition proxy until SIGINT or SIGTERM and prints where it listens.
 */

import { parseDuration } from "../../engine/plugin.ts";
import { type NetemProxyOptions, startNetemProxy } from "./proxy.ts";

const USAGE = "Usage: bifrost sim netem --listen [HOST:]PORT --target HOST:PORT " +
  "[--latency 50ms] [--jitter 10ms] [--loss 1%] [--loss-stall 200ms] " +
  "[--bandwidth 10kB/s] [--blackhole]";

function parsePort(text: string, what: string): number {
  const p = Number(text);
  if (text === "" || !Number.isInteger(p) || p < 0 || p > 65535) {
    throw new RangeError(`Cannot use ${what} port "${text}": expected an integer 0..65535`);
  }
  return p;
}

/** Splits `host:port` (the host may be absent for `--listen`). */
function parseEndpoint(text: string, what: string, defaultHost?: string) {
  const i = text.lastIndexOf(":");
  if (i < 0) {
    if (defaultHost === undefined) {
      throw new RangeError(`Cannot parse ${what} "${text}": expected HOST:PORT`);
    }
    return { host: defaultHost, port: parsePort(text, what) };
  }
  const host = text.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { host: host || (defaultHost ?? "127.0.0.1"), port: parsePort(text.slice(i + 1), what) };
}

/** A loss rate: `1%`, `0.01`. */
export function parseRate(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(text.trim());
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v >= 0 && v <= 1)) {
    throw new RangeError(`Cannot parse loss rate "${text}": expected 0..1 or 0%..100%, e.g. "1%"`);
  }
  return v;
}

const RATE_UNITS: Record<string, number> = {
  "": 1,
  "B": 1,
  "kB": 1e3,
  "KB": 1e3,
  "KiB": 1024,
  "MB": 1e6,
  "MiB": 1 << 20,
  "bps": 1 / 8,
  "kbps": 1e3 / 8,
  "Mbps": 1e6 / 8,
};

/** A bandwidth in bytes/s: `1200`, `1200B/s`, `10kB/s`, `1MiB/s`, `9600bps`, `2Mbps`. */
export function parseBandwidth(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*?)(\/s)?$/.exec(text.trim());
  const unit = m ? RATE_UNITS[m[2]!] : undefined;
  if (!m || unit === undefined) {
    throw new RangeError(
      `Cannot parse bandwidth "${text}": expected bytes/s like "1200B/s", "10kB/s" or bits like "9600bps"`,
    );
  }
  return Number(m[1]) * unit;
}

/**
 * Parses the command line into proxy options; throws a `RangeError` with the usage for
 * bad arguments. Flags take `--flag value` or `--flag=value`.
 */
export function parseNetemArgs(args: readonly string[]): NetemProxyOptions {
  let listen: { host: string; port: number } | undefined;
  let target: { host: string; port: number } | undefined;
  const o: Partial<NetemProxyOptions> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let [flag, value] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--help" || flag === "-h") throw new RangeError(USAGE);
    if (flag === "--blackhole") {
      o.blackhole = true;
      continue;
    }
    if (value === undefined) value = args[++i];
    if (value === undefined) {
      throw new RangeError(`Cannot parse ${flag}: it needs a value. ${USAGE}`);
    }
    switch (flag) {
      case "--listen":
        listen = parseEndpoint(value, "listen", "127.0.0.1");
        break;
      case "--target":
        target = parseEndpoint(value, "target");
        break;
      case "--latency":
        o.latencyMs = parseDuration(value);
        break;
      case "--jitter":
        o.jitterMs = parseDuration(value);
        break;
      case "--loss":
        o.lossRate = parseRate(value);
        break;
      case "--loss-stall":
        o.lossStallMs = parseDuration(value);
        break;
      case "--bandwidth":
        o.bandwidthBytesPerS = parseBandwidth(value);
        break;
      default:
        throw new RangeError(`Cannot parse argument "${arg}". ${USAGE}`);
    }
  }
  if (!target) throw new RangeError(`Cannot start the proxy without --target. ${USAGE}`);
  return { ...o, target, host: listen?.host ?? "127.0.0.1", port: listen?.port ?? 0 };
}

/** A one-line description of the conditions, for the start-up message. */
export function describeConditions(o: Partial<NetemProxyOptions>): string {
  const parts = [`latency ${o.latencyMs ?? 0} ms ± ${o.jitterMs ?? 0} ms`];
  if (o.lossRate) parts.push(`loss ${o.lossRate * 100}% (stall ${o.lossStallMs ?? 200} ms)`);
  if (o.bandwidthBytesPerS) parts.push(`bandwidth ${o.bandwidthBytesPerS} B/s`);
  if (o.blackhole) parts.push("blackhole");
  return parts.join(", ");
}

/**
 * Runs the proxy from the command line; resolves with the exit code when a signal stops it
 * (2 for bad arguments or a listen failure).
 */
export async function runNetemCli(args: string[]): Promise<number> {
  let o: NetemProxyOptions;
  try {
    o = parseNetemArgs(args);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    return 2;
  }
  let proxy;
  try {
    proxy = await startNetemProxy(o);
  } catch (e) {
    console.error(
      `Cannot listen on ${o.host}:${o.port}: ${e instanceof Error ? e.message : String(e)}`,
    );
    return 2;
  }
  console.log(
    `Netem proxy listening on ${proxy.host}:${proxy.port} -> ${o.target.host}:${o.target.port} (${
      describeConditions(o)
    })`,
  );
  const { promise, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, resolve);
  await promise;
  for (const s of signals) Deno.removeSignalListener(s, resolve);
  await proxy.close();
  return 0;
}

if (import.meta.main) Deno.exit(await runNetemCli(Deno.args));
