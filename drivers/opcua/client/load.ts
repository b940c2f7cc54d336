/**
 * @module
 * Loads node-opcua's client on first use, so that a gateway without an OPC UA device never
 * pays for it (about 35 MB of modules and their start-up time). Sets
 * `OPCUA_PKI_USE_POLLING=true` first: node-opcua's certificate watcher (chokidar) has no
 * error handler, and Deno reports a vanished file asynchronously, which crashes the process
 * (shared/DENO_NOTES.md).
 */

import type { Logger } from "../../../engine/plugin.ts";

/** node-opcua-client's module. */
export type OpcuaLib = typeof import("node-opcua-client");

let lib: Promise<OpcuaLib> | undefined;
let logTo: Logger | undefined;

/** Where node-opcua's own lines go (they are process-wide): the first logger given. */
export function routeOpcuaLogs(log: Logger): void {
  logTo ??= log;
}

/** node-opcua's log arguments as one line (its leading context object left out). */
const text = (args: unknown[]) =>
  args.flatMap((a) =>
    typeof a === "string"
      ? [a]
      : a instanceof Error
      ? [a.message]
      : typeof a === "number" || typeof a === "boolean"
      ? [String(a)]
      : []
  ).join(" ").trim();

/**
 * node-opcua-client, imported once. node-opcua prints its warnings and errors to stdout;
 * they go to the gateway's log instead (debug and warn), so that `bifrost read` prints the
 * value alone.
 */
export function loadOpcua(): Promise<OpcuaLib> {
  if (lib) return lib;
  try {
    if (Deno.env.get("OPCUA_PKI_USE_POLLING") === undefined) {
      Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
    }
  } catch {
    // No env permission: the caller's environment decides.
  }
  lib = import("node-opcua-client").then((m) => {
    m.setWarningLogger((...a: unknown[]) => logTo?.debug(`node-opcua: ${text(a)}`));
    m.setErrorLogger((...a: unknown[]) => logTo?.warn(`node-opcua: ${text(a)}`));
    return m;
  });
  return lib;
}

/**
 * Undoes what node-opcua-crypto leaves in the environment. To read a private key it sets
 * `OPENSSL_CONF=/dev/null` and then restores the previous value with
 * `process.env.OPENSSL_CONF = backup`: when the variable was not set, that stores the string
 * "undefined", and every `openssl` this process starts afterwards (a test's certificate
 * helper, a user's tool) fails with `Can't open "undefined" for reading`. Called after each
 * step that reads keys (connect, session, a server's start).
 */
export function repairOpensslConf(): void {
  try {
    if (Deno.env.get("OPENSSL_CONF") === "undefined") Deno.env.delete("OPENSSL_CONF");
  } catch {
    // No env permission: nothing was changed either.
  }
}

/** Rejects with `onTimeout()` when `p` takes longer than `ms`. */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
