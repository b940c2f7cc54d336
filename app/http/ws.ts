/**
 * @module
 * Live tag values over WebSocket: `GET /ws` upgrades; a client subscribes to tag patterns
 * (globs over `device/tag`, see `glob.ts`) and gets a snapshot of their current values,
 * then every change. Values are what the polls read (after scaling), before any step.
 *
 * Protocol (JSON text frames). Client to gateway:
 * - `{"type":"subscribe","patterns":["plant1/temp*","press-?/*"],"id":1}`: adds patterns
 *   (`id`, any JSON value, is echoed in the answer).
 * - `{"type":"unsubscribe","patterns":["press-?/*"],"id":2}`: removes patterns; without
 *   `patterns`, all of them.
 *
 * Gateway to client:
 * - `{"type":"snapshot","id":1,"tags":12,"values":[V…]}`: answers a subscribe: `tags` is how
 *   many tags the new patterns matched, `values` the current value of those already read
 *   (a tag no client watched before arrives with its next poll, as an update).
 * - `{"type":"update","values":[V…]}`: changes, at most one value per tag (the latest).
 * - `{"type":"dropped","count":n}`: before an update, when `n` values were replaced by newer
 *   ones before they could be sent (the client, or its network, is slower than the polls).
 * - `{"type":"unsubscribed","id":2,"tags":4}`: answers an unsubscribe (`tags` unwatched).
 * - `{"type":"error","id":1,"message":"…"}`: a request that was not understood or refused;
 *   the connection stays open.
 *
 * A value V is `{"tag":"plant1/temp1","value":21.5,"quality":"good","ts":1733300000000}`,
 * with `"reason"` when the quality is not good (`ts`: when the source took it, ms since the
 * epoch; 64-bit integers as strings, non-finite numbers as null).
 *
 * A slow client never grows the gateway's memory: see `_live.ts` (per client at most one
 * pending value per tag; sent while the socket buffers less than `lowWaterBytes`). A client
 * that sends requests while more than four times that waits unread is closed (code 1008).
 */

import { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import { compilePattern, type TagPattern } from "./glob.ts";
import { type LiveClient, LiveHub, type LiveSocket } from "./_live.ts";
import type { Exposition } from "./_exposition.ts";

/** Options of {@linkcode wsApp}. */
export interface WsOptions {
  /** Closes every client and stops listening to the gateway when aborted. */
  signal?: AbortSignal;
  /** A client is sent to while its socket buffers less than this (default 256 KiB). */
  lowWaterBytes?: number;
  /** How often a client with a full buffer is checked again, ms (default 25). */
  checkEveryMs?: number;
  /** Patterns one client may hold (default 100). */
  maxPatterns?: number;
  /** Clients at once; more are refused with 503 (default 1,000). */
  maxClients?: number;
  /** Largest client message, bytes (default 64 KiB). */
  maxMessageBytes?: number;
}

type Request = { type: string; id?: unknown; patterns?: unknown };

function errorText(id: unknown, message: string): string {
  return JSON.stringify(
    id === undefined ? { type: "error", message } : {
      type: "error",
      id,
      message,
    },
  );
}

/** Handles one client message; returns the answer. */
function handle(hub: LiveHub, c: LiveClient, data: unknown, o: Required<WsOptions>): string {
  if (typeof data !== "string") return errorText(undefined, "Messages must be JSON text frames");
  if (data.length > o.maxMessageBytes) {
    return errorText(
      undefined,
      `Message too long: ${data.length} bytes, at most ${o.maxMessageBytes}`,
    );
  }
  let req: Request;
  try {
    req = JSON.parse(data);
  } catch (e) {
    return errorText(undefined, `Message is not JSON: ${(e as Error).message}`);
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) {
    return errorText(
      undefined,
      `Message must be an object with a "type", got ${data.slice(0, 80)}`,
    );
  }
  const id = req.id;
  if (req.type !== "subscribe" && req.type !== "unsubscribe") {
    return errorText(
      id,
      `Unknown message type ${JSON.stringify(req.type)}: expected "subscribe" or "unsubscribe"`,
    );
  }
  const p = req.patterns;
  if (req.type === "unsubscribe" && p === undefined) {
    return JSON.stringify({ type: "unsubscribed", id, tags: hub.unwatch(c, undefined) });
  }
  if (!Array.isArray(p) || p.length === 0 || p.some((x) => typeof x !== "string")) {
    return errorText(
      id,
      `"patterns" must be a non-empty list of strings, got ${JSON.stringify(p)}`,
    );
  }
  if (req.type === "unsubscribe") {
    return JSON.stringify({ type: "unsubscribed", id, tags: hub.unwatch(c, p as string[]) });
  }
  const fresh = (p as string[]).filter((s) => !c.patterns.has(s));
  if (c.patterns.size + fresh.length > o.maxPatterns) {
    return errorText(
      id,
      `Too many patterns: ${c.patterns.size} held and ${fresh.length} asked, at most ${o.maxPatterns}`,
    );
  }
  const compiled: TagPattern[] = [];
  for (const s of p as string[]) {
    try {
      compiled.push(compilePattern(s));
    } catch (e) {
      return errorText(id, (e as Error).message);
    }
  }
  return hub.snapshot(id, hub.watch(c, compiled));
}

/**
 * A Hono app serving `GET /ws` (the live-data WebSocket) for `gateway`, to mount into the
 * HTTP server.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * Deno.serve({ port: 0 }, wsApp(gateway, { signal: stop.signal }).fetch);
 * ```
 */
export function wsApp(gateway: Gateway, options: WsOptions = {}): Hono {
  return wsPart(gateway, options).app;
}

/** The WebSocket app and its hub (whose counters `/metrics` shows, see {@linkcode wsMetrics}). */
export function wsPart(gateway: Gateway, options: WsOptions = {}): { app: Hono; hub: LiveHub } {
  const o: Required<WsOptions> = {
    signal: options.signal ?? new AbortController().signal,
    lowWaterBytes: options.lowWaterBytes ?? 256 * 1024,
    checkEveryMs: options.checkEveryMs ?? 25,
    maxPatterns: options.maxPatterns ?? 100,
    maxClients: options.maxClients ?? 1000,
    maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
  };
  const hub = new LiveHub(gateway, o);
  const sockets = new Set<WebSocket>();
  o.signal.addEventListener("abort", () => {
    hub.close();
    for (const s of sockets) s.close(1001, "gateway stopping");
  }, { once: true });
  const app = new Hono();
  app.get(
    "/ws",
    (c, next) => {
      if (o.signal.aborted) return c.json({ error: "The live-data API is stopping" }, 503);
      if (hub.clients.size >= o.maxClients) {
        hub.counters.refused++;
        return c.json({ error: `Too many WebSocket clients: at most ${o.maxClients}` }, 503);
      }
      return next();
    },
    upgradeWebSocket(() => {
      let client: LiveClient | undefined;
      return {
        onOpen(_evt, ws) {
          const raw = ws.raw as WebSocket;
          sockets.add(raw);
          client = hub.add(raw as LiveSocket);
        },
        onMessage(evt, ws) {
          if (!client) return;
          // Answers bypass the low-water mark (they are bounded by the flows' tags), so a
          // client that keeps asking and never reads is closed rather than buffered for.
          if ((ws.raw as WebSocket).bufferedAmount > 4 * o.lowWaterBytes) {
            hub.counters.slowClosed++;
            ws.close(1008, "Client does not read its messages");
            return;
          }
          ws.send(handle(hub, client, evt.data, o));
        },
        onClose(_evt, ws) {
          sockets.delete(ws.raw as WebSocket);
          if (client) hub.remove(client);
          client = undefined;
        },
      };
    }),
  );
  return { app, hub };
}

/**
 * The WebSocket's families: `bifrost_ws_clients`, `bifrost_ws_waiting_clients` (socket
 * buffer full), `bifrost_ws_connections_total`, `bifrost_ws_refused_total`,
 * `bifrost_ws_updates_sent_total`, `bifrost_ws_dropped_updates_total` (values coalesced
 * for a slow client), `bifrost_ws_slow_closed_total`.
 */
export function wsMetrics(x: Exposition, hub: LiveHub): void {
  const c = hub.counters;
  x.sample("bifrost_ws_clients", "gauge", "WebSocket clients connected.", {}, hub.clients.size);
  x.sample(
    "bifrost_ws_waiting_clients",
    "gauge",
    "WebSocket clients whose socket buffer is full (their updates coalesce meanwhile).",
    {},
    hub.waiting,
  );
  x.sample(
    "bifrost_ws_connections_total",
    "counter",
    "WebSocket clients accepted.",
    {},
    c.connections,
  );
  x.sample(
    "bifrost_ws_refused_total",
    "counter",
    "WebSocket clients refused (too many).",
    {},
    c.refused,
  );
  x.sample("bifrost_ws_updates_sent_total", "counter", "Update messages sent.", {}, c.updates);
  x.sample(
    "bifrost_ws_dropped_updates_total",
    "counter",
    "Values replaced by a newer one before a slow client could be sent them (latest wins).",
    {},
    c.dropped,
  );
  x.sample(
    "bifrost_ws_slow_closed_total",
    "counter",
    "WebSocket clients closed for not reading their messages.",
    {},
    c.slowClosed,
  );
}
