/**
 * @module
 * The HTTP parts served beside the REST API by `bifrost run`: `/metrics` (Prometheus),
 * `/healthz` and `/readyz` (probes), and `/ws` (live values), with what they need running
 * (the event-loop lag probe, the WebSocket hub's stop signal).
 *
 * Probes are public: a load balancer or a kubelet asks them without a token. Metrics and live
 * values need the `read` scope once API tokens are configured (on loopback without tokens
 * everything is open, as the API is). A browser cannot set an `Authorization` header on a
 * WebSocket: the dashboard sends its token as a subprotocol (see `api.ts`). The dashboard's
 * files (`/dashboard/`) are public: they hold no data.
 */

import { Hono } from "hono";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import type { Guard, MountPart } from "./api.ts";
import { healthApp } from "./health.ts";
import { LoopLagMonitor } from "./loop_lag.ts";
import { metricsApp, type MetricsOptions } from "./metrics.ts";
import { wsMetrics, wsPart } from "./ws.ts";
import { dashboardApp } from "./dashboard/mod.ts";

/** The mounted parts and the one call that stops what they run. */
export interface LiveParts {
  mount: MountPart[];
  /** Stops the lag probe and closes every WebSocket. */
  close(): void;
}

/**
 * The metrics, health and WebSocket parts for `gateway`.
 *
 * @example
 * ```ts
 * const parts = liveParts(gateway);
 * const http = await startHttp(gateway, { ...options, mount: parts.mount });
 * // … on stop:
 * parts.close();
 * await http.close();
 * ```
 */
export function liveParts(
  gateway: Gateway,
  startedAt = Date.now(),
  more: { metrics?: MetricsOptions["extra"]; mount?: MountPart[] } = {},
): LiveParts {
  const loopLag = new LoopLagMonitor();
  loopLag.start();
  const stop = new AbortController();
  const guarded = (path: string, app: Hono) => (guard: Guard) =>
    new Hono().use(path, guard("read")).route("/", app);
  const ws = wsPart(gateway, { signal: stop.signal });
  const extra: MetricsOptions["extra"] = (x) => {
    wsMetrics(x, ws.hub);
    more.metrics?.(x);
  };
  return {
    mount: [
      healthApp(gateway),
      guarded("/metrics", metricsApp(gateway, { loopLag, startedAt, extra })),
      guarded("/ws", ws.app),
      ...(more.mount ?? []),
      dashboardApp(),
    ],
    close() {
      loopLag.stop();
      stop.abort();
    },
  };
}
