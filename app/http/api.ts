/**
 * @module
 * The gateway's HTTP application (Hono): the REST API under `/api/v1` with its OpenAPI
 * document, token authentication with per-address limits on failures, optional CORS, one
 * `onError` for every error, and the place where the other HTTP parts are mounted.
 *
 * Without tokens the API is open: `serve.ts` allows that on a loopback address only.
 */

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { type Clock, systemClock } from "../../engine/clock.ts";
import type { DriverModule } from "../../engine/driver.ts";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import type { AuditLog } from "./audit.ts";
import { allows, type ApiToken, FailureLimiter, type Scope, TokenStore } from "./auth.ts";
import type { ApiContext, ReloadSource, Route } from "./context.ts";
import { ApiError, errorResponse } from "./errors.ts";
import { LastValues } from "./last_values.ts";
import { openApiDocument } from "./openapi.ts";
import { adminRoutes } from "./routes_admin.ts";
import { alarmRoutes } from "./routes_alarms.ts";
import { checkRoutes } from "./routes_check.ts";
import { deviceRoutes } from "./routes_devices.ts";
import { writeRoutes } from "./routes_write.ts";
import { graphRoute } from "./dashboard/graph.ts";
import { DEPLOY_HOOK_DOC, deployRoutes, type DeploySource } from "./routes_deploy.ts";

/** Where the REST API lives. */
export const API_BASE = "/api/v1";

/** The largest request body accepted, bytes. */
export const MAX_BODY_BYTES = 1_000_000;

/** Every route of the REST API. */
export const ROUTES: readonly Route[] = [
  ...deviceRoutes,
  ...writeRoutes,
  ...adminRoutes,
  ...deployRoutes,
  ...alarmRoutes,
  graphRoute,
  ...checkRoutes,
];

/** Options of {@linkcode createApi}. */
export interface ApiOptions {
  gateway: Gateway;
  drivers: readonly DriverModule[];
  /** API tokens; none means an open API (loopback only, see `serve.ts`). */
  tokens?: readonly ApiToken[];
  audit?: AuditLog;
  /** Allowed CORS origins; CORS is off without any. */
  corsOrigins?: readonly string[];
  clock?: Clock;
  /** Failed authentications per minute and address before 429; default 5. */
  maxAuthFailures?: number;
  /** The git deployment (`run --git`), for `GET /api/v1/deploy`. */
  deploy?: DeploySource;
  /**
   * Other HTTP parts, each a Hono sub-app mounted at `/` (metrics, health, WebSocket: see
   * the mount point in {@linkcode createApi}). A part that needs the API's tokens is given
   * as a function of the guard, e.g. `(guard) => new Hono().use("/ws", guard("read"))…`.
   */
  mount?: readonly MountPart[];
}

/** Middleware that lets through only a caller whose token has `scope` (401, 403, 429). */
export type Guard = (scope: Scope) => MiddlewareHandler;

/** An HTTP part mounted beside the API: a sub-app, or a function of the API's guard. */
export type MountPart = Hono | ((guard: Guard) => Hono);

/** The HTTP application and what feeds it. */
export interface Api {
  app: Hono;
  lastValues: LastValues;
  /** Stops listening to the gateway. */
  close(): void;
  /** Gives `GET /api/v1/flows` the hot reload's outcome (it starts after the API). */
  setReload(source: ReloadSource | undefined): void;
}

interface Env {
  Bindings: { remoteAddr?: { hostname?: string } };
}

/**
 * The token a browser's WebSocket carries: it cannot set `Authorization`, so the dashboard
 * offers the subprotocols `bifrost, bearer.<token>` (the server answers with the first,
 * `bifrost`, so the token is never echoed). Returns a match-like pair, as the header regex.
 */
function wsToken(req: Request): [string, string] | null {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return null;
  for (const p of (req.headers.get("sec-websocket-protocol") ?? "").split(",")) {
    const t = p.trim();
    if (t.startsWith("bearer.") && t.length > 7) return [t, t.slice(7)];
  }
  return null;
}

/** Methods that change something (and a WebSocket upgrade): refused from a foreign Origin. */
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Whether a browser request comes from a page of another site. A gateway on 127.0.0.1 with
 * an open API would otherwise take writes from any web page the operator opens (CSRF: a
 * form post or a WebSocket needs no CORS preflight). Requests without `Origin` (curl,
 * scripts, SCADA) are not browsers' cross-site requests and pass.
 */
export function foreignOrigin(req: Request, allowed: readonly string[]): string | undefined {
  const origin = req.headers.get("origin");
  if (origin === null) return undefined;
  const ws = req.headers.get("upgrade")?.toLowerCase() === "websocket";
  if (!ws && !UNSAFE.has(req.method)) return undefined;
  if (allowed.includes(origin) || allowed.includes("*")) return undefined;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return origin;
  }
  return host === req.headers.get("host") ? undefined : origin;
}

/** Builds the HTTP application of a running gateway. */
export function createApi(o: ApiOptions): Api {
  const clock = o.clock ?? systemClock;
  const lastValues = new LastValues();
  const sources = new Set(o.gateway.flows.polls.keys());
  const untap = o.gateway.tap((node, batch) => {
    if (sources.has(node)) lastValues.update(batch);
  });
  const ctx: ApiContext = {
    gateway: o.gateway,
    drivers: o.drivers,
    lastValues,
    audit: o.audit,
    clock,
    ...(o.deploy ? { deploy: o.deploy } : {}),
  };
  const store = o.tokens && o.tokens.length > 0 ? new TokenStore(o.tokens) : undefined;
  const limiter = new FailureLimiter({ clock, maxFailures: o.maxAuthFailures ?? 5 });

  const corsOrigins = o.corsOrigins ?? [];
  /**
   * The caller's token id (`local` on an open API); throws 401, 403 or 429, and 403 for a
   * state-changing request from a foreign page (every route, trigger and the WebSocket
   * pass here, so the check costs no middleware layer on the hot read paths).
   */
  const authorize = (req: Request, address: string, scope: Scope): string => {
    const foreign = foreignOrigin(req, corsOrigins);
    if (foreign !== undefined) {
      throw new ApiError(
        403,
        "FORBIDDEN",
        `Cross-origin request refused: Origin ${foreign} is not this gateway ` +
          `(allow it with --cors ${foreign})`,
      );
    }
    if (!store) return "local";
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      throw new ApiError(
        429,
        "RATE_LIMITED",
        `Too many failed authentications from ${address}: try again in ${wait} s`,
        {
          headers: { "Retry-After": String(wait) },
        },
      );
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "") ??
      wsToken(req);
    const token = m ? store.verify(m[1]!) : undefined;
    if (!token) {
      limiter.fail(address);
      throw new ApiError(
        401,
        "UNAUTHORIZED",
        m ? "Unknown API token" : "Missing API token: send Authorization: Bearer <token>",
        { headers: { "WWW-Authenticate": 'Bearer realm="bifrost"' } },
      );
    }
    if (!allows(token, scope)) {
      throw new ApiError(403, "FORBIDDEN", `Token "${token.id}" lacks the scope "${scope}"`);
    }
    return token.id;
  };

  const app = new Hono<Env>();
  app.onError((e, c) => {
    const r = errorResponse(e);
    for (const [k, v] of Object.entries(r.headers)) c.header(k, v);
    return c.json(r.body, r.status as 400);
  });
  app.notFound((c) =>
    c.json({
      error: {
        code: "NOT_FOUND",
        message: `No route ${c.req.method} ${new URL(c.req.url).pathname}`,
      },
    }, 404)
  );
  if (o.corsOrigins && o.corsOrigins.length > 0) {
    app.use(
      "*",
      cors({ origin: [...o.corsOrigins], allowHeaders: ["Authorization", "Content-Type"] }),
    );
  }

  const api = new Hono<Env>();
  // A write list of 100 items is a few kB: a megabyte is generous and keeps memory bounded.
  // Only on the routes that take a body: a GET (the hot read paths) skips the layer.
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(
        413,
        "BAD_REQUEST",
        `Request body too large: at most ${MAX_BODY_BYTES} bytes`,
      );
    },
  });
  const doc = openApiDocument(ROUTES.map((r) => r.def), API_BASE);
  (doc.paths as Record<string, unknown>)["/hooks/deploy"] = DEPLOY_HOOK_DOC;
  api.get("/openapi.json", (c) => c.json(doc));
  for (const r of ROUTES) {
    const handler = (c: Context<Env>) => {
      const who = authorize(c.req.raw, c.env?.remoteAddr?.hostname ?? "unknown", r.def.scope);
      return r.handle(c as unknown as Context, ctx, who);
    };
    if (r.def.method === "get") api.get(r.def.path, handler);
    else api.on(r.def.method.toUpperCase(), r.def.path, limit, handler);
  }
  app.route(API_BASE, api);

  // ── Mount point of the other HTTP parts ────────────────────────────────────────────
  // `/metrics` (app/http/metrics.ts), `/healthz` and `/readyz` (app/http/health.ts) and the
  // WebSocket (app/http/ws.ts) are Hono sub-apps mounted here, e.g. `app.route("/", metricsApp)`;
  // `run` passes them as `mount`.
  const guard: Guard = (scope) => async (c, next) => {
    authorize(c.req.raw, c.env?.remoteAddr?.hostname ?? "unknown", scope);
    await next();
  };
  for (const part of o.mount ?? []) app.route("/", typeof part === "function" ? part(guard) : part);

  return {
    app: app as unknown as Hono,
    lastValues,
    close: untap,
    setReload: (source) => {
      if (source) ctx.reload = source;
      else delete ctx.reload;
    },
  };
}
