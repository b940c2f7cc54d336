/**
 * @module
 * Liveness and readiness probes, for a supervisor (systemd, Kubernetes, a load balancer):
 *
 * - `GET /healthz`: `200 {"status":"alive"}` whenever the process answers at all (an answer
 *   means its event loop runs). It checks nothing else on purpose: a supervisor restarts a
 *   process whose liveness fails, and a device outage is no reason to restart the gateway.
 * - `GET /readyz`: `200 {"ready":true}` when flows are loaded and running and every device
 *   marked `required: true` is connected; otherwise `503 {"ready":false,"reasons":[…]}`, one
 *   sentence per reason, naming the device, its state since when and its last error.
 */

import { Hono } from "hono";
import type { Gateway } from "../../engine/runtime/gateway.ts";

/** The gateway, or a getter of the current one (none while flows are not loaded). */
export type GatewaySource = Gateway | (() => Gateway | undefined);

/** What `/readyz` answers. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/**
 * Why the gateway is not ready (an empty list when it is).
 *
 * @example
 * ```ts
 * readiness(gateway); // { ready: false, reasons: ['Required device "press-3" is not connected: backoff since 2026-12-04T17:00:00.000Z (connection refused)'] }
 * ```
 */
export function readiness(gateway: Gateway | undefined): Readiness {
  if (!gateway) return { ready: false, reasons: ["No flows are loaded"] };
  if (gateway.phase !== "running") {
    return { ready: false, reasons: [`The gateway is ${gateway.phase}, not running`] };
  }
  const reasons: string[] = [];
  for (const [name, d] of gateway.devices) {
    if (!d.config.required) continue;
    const h = d.health();
    if (h.state === "connected") continue;
    const since = new Date(h.since).toISOString();
    const why = h.lastError === undefined ? "" : ` (${h.lastError})`;
    reasons.push(`Required device "${name}" is not connected: ${h.state} since ${since}${why}`);
  }
  return { ready: reasons.length === 0, reasons };
}

/**
 * A Hono app serving `GET /healthz` and `GET /readyz`, to mount into the HTTP server.
 *
 * @example
 * ```ts
 * Deno.serve({ port: 0 }, healthApp(gateway).fetch);
 * ```
 */
export function healthApp(gateway: GatewaySource): Hono {
  const current = typeof gateway === "function" ? gateway : () => gateway;
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "alive" }));
  app.get("/readyz", (c) => {
    const r = readiness(current());
    return r.ready ? c.json({ ready: true }) : c.json(r, 503);
  });
  return app;
}
