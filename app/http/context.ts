/**
 * @module
 * What every route handler gets: the running gateway, the drivers, the last-value cache,
 * the audit log and a clock; and the shape of a route (its declaration and its handler).
 */

import type { Context } from "hono";
import type { Clock } from "../../engine/clock.ts";
import type { DriverModule } from "../../engine/driver.ts";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import type { AuditLog } from "./audit.ts";
import type { LastValues } from "./last_values.ts";
import type { RouteDef } from "./openapi.ts";

/** The git deployment as the API reads it (`app/deploy/deployer.ts`). */
export interface DeploySource {
  status(): unknown;
}

/** The hot reload (`app/supervisor.ts`) as the API reads it. */
export interface ReloadSource {
  status(): {
    revision: number;
    appliedAt: number;
    ok: boolean;
    errors: string[];
    attemptedAt?: number;
    changes?: string;
  };
  /** Reloads applied, rejected (invalid or refused) and applied in part, for `/metrics`. */
  readonly counters?: { reloadsOk: number; reloadsRejected: number; reloadsFailed: number };
}

/** The gateway's parts the API reads and drives. */
export interface ApiContext {
  gateway: Gateway;
  drivers: readonly DriverModule[];
  lastValues: LastValues;
  audit: AuditLog | undefined;
  clock: Clock;
  /** The git deployment, with `run --git`. */
  deploy?: DeploySource;
  /** The hot reload, once it runs (`run` without `--no-reload`). */
  reload?: ReloadSource;
}

/** A route: its declaration and its handler (`who` is the token id, or `local`). */
export interface Route {
  def: RouteDef;
  handle(c: Context, ctx: ApiContext, who: string): Promise<Response> | Response;
}
