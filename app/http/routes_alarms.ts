/**
 * @module
 * The alarms of the running flows' `alarm` steps (ISA-18.2 states):
 * - `GET /alarms` lists them (optionally `?state=UNACK` or `?step=name`);
 * - `POST /alarms/acknowledge`, `/alarms/shelve` (`{id, for?: "30m"}`, default 1 h) and
 *   `/alarms/unshelve` act on one alarm by id (`device/tag/alarm`).
 *
 * A command changes the alarm at once (the answer shows its new state); its alarm record, with
 * `by` set to the caller's token id, flows to the sinks with the step's next batch.
 */

import { Type } from "@sinclair/typebox";
import type { Context } from "hono";
import { parseDuration } from "../../engine/flow/duration.ts";
import type { AlarmCommand, AlarmInfo, AlarmStep } from "../../steps/alarm/mod.ts";
import type { ApiContext, Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import { parseBody, parseQuery, type RouteDef } from "./openapi.ts";

const AlarmJson = Type.Object({
  step: Type.String(),
  id: Type.String({ description: "device/tag/alarm" }),
  device: Type.String(),
  tag: Type.String(),
  alarm: Type.String(),
  type: Type.String(),
  priority: Type.String(),
  state: Type.String({ description: "NORM, UNACK, ACKED, RTNUN, SHLVD or DSUPR" }),
  active: Type.Boolean(),
  value: Type.Union([Type.Number(), Type.Null()]),
  limit: Type.Number(),
  changedAt: Type.Union([Type.Number(), Type.Null()]),
  shelvedUntil: Type.Optional(Type.Number()),
});

const listDef: RouteDef = {
  method: "get",
  path: "/alarms",
  summary: "Alarms of the running alarm steps, with their ISA-18.2 states",
  scope: "read",
  query: Type.Object({
    state: Type.Optional(Type.String({ description: "Only alarms in this state, e.g. UNACK" })),
    step: Type.Optional(Type.String({ description: "Only this alarm step" })),
  }),
  response: Type.Array(AlarmJson),
  errors: [400, 404],
};

const CommandBody = Type.Object({
  id: Type.String({ minLength: 1, description: "device/tag/alarm, as GET /alarms lists it" }),
  for: Type.Optional(Type.String({ description: "shelve: how long, e.g. 30m (default 1h)" })),
});

function commandDef(action: AlarmCommand): RouteDef {
  return {
    method: "post",
    path: `/alarms/${action}`,
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} one alarm`,
    scope: "write",
    body: CommandBody,
    response: AlarmJson,
    errors: [400, 404],
  };
}

/** The alarm steps of the running flows, by name. */
function alarmSteps(ctx: ApiContext): [string, AlarmStep][] {
  const out: [string, AlarmStep][] = [];
  for (const [name, c] of ctx.gateway.consumers) {
    const s = c.step as Partial<AlarmStep> | undefined;
    if (typeof s?.list === "function" && typeof s.command === "function") {
      out.push([name, s as AlarmStep]);
    }
  }
  return out;
}

function json(step: string, a: AlarmInfo): Record<string, unknown> {
  return {
    step,
    ...a,
    value: Number.isFinite(a.value) ? a.value : null,
    changedAt: Number.isFinite(a.changedAt) ? a.changedAt : null,
  };
}

function list(c: Context, ctx: ApiContext): Response {
  const q = parseQuery<{ state?: string; step?: string }>(c.req.url, listDef);
  const steps = alarmSteps(ctx).filter(([name]) => q.step === undefined || q.step === name);
  if (q.step !== undefined && steps.length === 0) {
    throw new ApiError(404, "NOT_FOUND", `Unknown alarm step "${q.step}"`, { field: "query.step" });
  }
  const all = steps.flatMap(([name, s]) => s.list().map((a) => json(name, a)));
  return c.json(q.state === undefined ? all : all.filter((a) => a.state === q.state));
}

function command(action: AlarmCommand): Route {
  const def = commandDef(action);
  return {
    def,
    async handle(c, ctx, who) {
      const { items } = await parseBody<{ id: string; for?: string }>(c.req.raw, def);
      const body = items[0]!;
      let forMs: number | undefined;
      if (body.for !== undefined) {
        if (action !== "shelve") {
          throw new ApiError(400, "BAD_REQUEST", `Cannot use "for" with ${action}: only shelve`, {
            field: "/for",
          });
        }
        try {
          forMs = parseDuration(body.for);
        } catch (e) {
          throw new ApiError(400, "BAD_REQUEST", (e as Error).message, { field: "/for" });
        }
        if (forMs <= 0) {
          throw new ApiError(400, "BAD_REQUEST", `Cannot shelve for "${body.for}": above 0`, {
            field: "/for",
          });
        }
      }
      for (const [name, s] of alarmSteps(ctx)) {
        const a = s.command(body.id, action, forMs, who);
        if (a) return c.json(json(name, a));
      }
      throw new ApiError(404, "NOT_FOUND", `Unknown alarm "${body.id}" (see GET /alarms)`, {
        field: "/id",
      });
    },
  };
}

/** The alarm routes. */
export const alarmRoutes: Route[] = [
  { def: listDef, handle: (c, ctx) => list(c, ctx) },
  command("acknowledge"),
  command("shelve"),
  command("unshelve"),
];
