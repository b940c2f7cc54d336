/**
 * @module
 * The API's listen address: `HOST:PORT` parsing and the loopback test, apart from the server
 * so that `bifrost run` checks `--http` before it loads anything else.
 */

import { BifrostError } from "../../engine/errors.ts";

/** The default listen address. */
export const DEFAULT_LISTEN = "127.0.0.1:8720";

/** Where to listen. */
export interface Listen {
  host: string;
  port: number;
}

/** Parses `HOST:PORT` (`[::1]:8720` for IPv6); throws a `CONFIG_INVALID` error naming the text. */
export function parseListen(text: string): Listen {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot use --http "${text}": expected HOST:PORT, e.g. 127.0.0.1:8720 or 0.0.0.0:8720`,
    );
  }
  return { host: m[1] ?? m[2]!, port };
}

/** Whether `host` is a loopback address. */
export function isLoopback(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "localhost";
}
