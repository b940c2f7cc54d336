/**
 * @module
 * Loads node-opcua's client on first use, so that a gateway without an OPC UA device never
 * pays for it (about 35 MB of modules and their start-up time). Sets
 * `OPCUA_PKI_USE_POLLING=true` first: node-opcua's certificate watcher (chokidar) has no
 * error handler, and Deno reports a vanished file asynchronously, which crashes the process
 * (shared/DENO_NOTES.md).
 */

import process from "node:process";
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
  guardOpensslConf();
  lib = import("node-opcua-client").then((m) => {
    m.setWarningLogger((...a: unknown[]) => logTo?.debug(`node-opcua: ${text(a)}`));
    m.setErrorLogger((...a: unknown[]) => logTo?.warn(`node-opcua: ${text(a)}`));
    return m;
  });
  return lib;
}

/**
 * Keeps node-opcua-crypto from leaving `OPENSSL_CONF=undefined` in the environment. To read a
 * private key it sets `OPENSSL_CONF=/dev/null` and then restores the previous value with
 * `process.env.OPENSSL_CONF = backup`: when the variable was not set, that stores the string
 * "undefined", and every `openssl` this process starts afterwards (a test's certificate
 * helper, a user's tool) fails with `Can't open "undefined" for reading`. Keys are read at
 * connect, at session creation and whenever a server checks a peer, so a repair after each
 * step misses some; instead `process.env` becomes a view in which assigning `undefined`
 * deletes the variable, as it would in Node, before node-opcua is imported. Idempotent.
 */
export function guardOpensslConf(): void {
  if (envGuarded) return;
  envGuarded = true;
  repairOpensslConf();
  const env = process.env;
  try {
    process.env = new Proxy(env, {
      set(target, key, value) {
        if (value === undefined && typeof key === "string") {
          delete target[key];
          return true;
        }
        return Reflect.set(target, key, value);
      },
    });
  } catch {
    // A frozen process object: the repair after each step below still runs.
  }
}
let envGuarded = false;

/** Removes an `OPENSSL_CONF=undefined` that something left behind. */
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
