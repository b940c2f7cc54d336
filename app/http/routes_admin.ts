/**
 * @module
 * Routes of the gateway as a whole: polls, steps and sinks with their counters, the running
 * flows (revision and validation result), a tag's history from a SQLite sink downsampled to
 * N points, and the audit log of writes.
 */

import { createHash } from "node:crypto";
import type { Context } from "hono";
import { flowSetToJson } from "../../engine/flow/serialize.ts";
import type { DataRecord } from "../../engine/record.ts";
import type { ApiContext, Route } from "./context.ts";
import { ApiError } from "./errors.ts";
import { toJson } from "./json.ts";
import { parseQuery, type RouteDef } from "./openapi.ts";
import {
  AuditQuerySchema,
  AuditSchema,
  FlowsSchema,
  HistoryQuerySchema,
  HistorySchema,
  StatsSchema,
} from "./schemas.ts";

/** Raw records a history query reads at most before downsampling. */
export const HISTORY_MAX_RECORDS = 100_000;
/** The range of a history query without `from`: the hour before `to`. */
const DEFAULT_RANGE_MS = 3_600_000;

function stats(c: Context, ctx: ApiContext): Response {
  const s = ctx.gateway.stats();
  const steps: Record<string, Record<string, number>> = {};
  const sinks: Record<string, { use: string; counters: Record<string, number> }> = {};
  for (const [name, cons] of ctx.gateway.consumers) {
    const { processed, dropped, depth } = s.consumers[name]!;
    const base = {
      processed,
      dropped,
      depth,
      errors: cons.errors,
      droppedRecords: cons.drops.total,
    };
    if (cons.kind === "step") steps[name] = base;
    else {
      sinks[name] = {
        use: ctx.gateway.flows.sinks.get(name)?.use ?? "",
        counters: { ...base, ...cons.sink?.stats?.() },
      };
    }
  }
  return c.json({ polls: s.polls, subscriptions: s.subscriptions, steps, sinks });
}

function flows(c: Context, ctx: ApiContext): Response {
  const f = ctx.gateway.flows;
  const json = JSON.stringify(flowSetToJson(f));
  return c.json({
    revision: createHash("sha256").update(json).digest("hex").slice(0, 16),
    // `run` refuses flows with errors, so what runs passed validation.
    valid: true,
    errors: [],
    dir: f.dir,
    files: f.files,
    devices: f.devices.size,
    polls: f.polls.size,
    steps: f.steps.size,
    sinks: f.sinks.size,
    ...(ctx.reload ? { reload: ctx.reload.status() } : {}),
  });
}

interface Queryable {
  query(
    q: { device?: string; tag?: string; from?: number; to?: number; limit?: number },
  ): DataRecord[];
}

function time(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(n)) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `Invalid ${field} "${text}": expected ms since the epoch or an ISO 8601 time`,
      {
        field,
      },
    );
  }
  return n;
}

/** Records bucketed by time into at most `n` points: mean, min and max of numbers, else the last value. */
export function downsample(records: DataRecord[], n: number): Record<string, unknown>[] {
  if (records.length <= n) {
    return records.map((r) => ({
      ts: r.sourceTs,
      value: toJson(r.value),
      count: 1,
      quality: r.quality,
    }));
  }
  const t0 = records[0]!.sourceTs;
  const width = (records.at(-1)!.sourceTs - t0) / n || 1;
  const out: Record<string, unknown>[] = [];
  let i = 0;
  while (i < records.length) {
    const b = Math.min(n - 1, Math.floor((records[i]!.sourceTs - t0) / width));
    let sum = 0, nums = 0, min = Infinity, max = -Infinity, count = 0;
    let last = records[i]!;
    let quality: string = "good";
    for (
      ;
      i < records.length && Math.min(n - 1, Math.floor((records[i]!.sourceTs - t0) / width)) === b;
      i++
    ) {
      const r = records[i]!;
      last = r;
      count++;
      if (r.quality === "bad" || (r.quality === "uncertain" && quality === "good")) {
        quality = r.quality;
      }
      if (typeof r.value === "number" && r.quality !== "bad") {
        sum += r.value, nums++;
        if (r.value < min) min = r.value;
        if (r.value > max) max = r.value;
      }
    }
    out.push(
      nums > 0
        ? { ts: t0 + (b + 0.5) * width, value: sum / nums, min, max, count, quality }
        : { ts: last.sourceTs, value: toJson(last.value), count, quality },
    );
  }
  return out;
}

function history(c: Context, ctx: ApiContext): Response {
  const q = parseQuery<Record<string, string | undefined>>(c.req.url, historyDef);
  const candidates = [...ctx.gateway.consumers].filter(([name, cons]) =>
    typeof (cons.sink as Partial<Queryable> | undefined)?.query === "function" &&
    (q.sink === undefined || q.sink === name)
  );
  if (candidates.length === 0) {
    throw new ApiError(
      404,
      "NOT_FOUND",
      q.sink === undefined
        ? "No history: the running flows have no sqlite sink"
        : `Unknown history sink "${q.sink}" (a sqlite sink of the running flows)`,
      { field: "query.sink" },
    );
  }
  const points = q.points === undefined ? 500 : Number(q.points);
  if (!Number.isInteger(points) || points < 1 || points > 5000) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `Invalid query.points "${q.points}": expected an integer 1..5000`,
      {
        field: "query.points",
      },
    );
  }
  const [name, cons] = candidates[0]!;
  const to = time(q.to, "query.to") ?? ctx.clock.now();
  const from = time(q.from, "query.from") ?? to - DEFAULT_RANGE_MS;
  if (from > to) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `Invalid range: query.from (${from}) is after query.to (${to})`,
      {
        field: "query.from",
      },
    );
  }
  const records = (cons.sink as unknown as Queryable).query({
    device: q.device!,
    tag: q.tag!,
    from,
    to,
    limit: HISTORY_MAX_RECORDS,
  });
  const out = downsample(records, points);
  return c.json({
    device: q.device,
    tag: q.tag,
    sink: name,
    from,
    to,
    downsampled: out.length < records.length,
    records: records.length,
    truncated: records.length >= HISTORY_MAX_RECORDS,
    points: out,
  });
}

const historyDef: RouteDef = {
  method: "get",
  path: "/history",
  summary: "A tag's values over a time range from a SQLite sink, downsampled to N points",
  scope: "read",
  query: HistoryQuerySchema,
  response: HistorySchema,
  errors: [400, 404],
};

const auditDef: RouteDef = {
  method: "get",
  path: "/audit",
  summary: "Writes made through the API, newest first",
  scope: "admin",
  query: AuditQuerySchema,
  response: AuditSchema,
  errors: [400, 404],
};

function audit(c: Context, ctx: ApiContext): Response {
  const q = parseQuery<{ limit?: string; device?: string; tag?: string }>(c.req.url, auditDef);
  if (!ctx.audit) throw new ApiError(404, "NOT_FOUND", "The audit log is off");
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `Invalid query.limit "${q.limit}": expected an integer 1..10000`,
      {
        field: "query.limit",
      },
    );
  }
  return c.json({
    entries: ctx.audit.list({
      limit,
      ...(q.device === undefined ? {} : { device: q.device }),
      ...(q.tag === undefined ? {} : { tag: q.tag }),
    }),
  });
}

/** The routes of stats, flows, history and audit. */
export const adminRoutes: Route[] = [
  {
    def: {
      method: "get",
      path: "/stats",
      summary: "Polls, subscriptions, steps and sinks with their counters",
      scope: "read",
      response: StatsSchema,
      errors: [],
    },
    handle: stats,
  },
  {
    def: {
      method: "get",
      path: "/flows",
      summary: "The running flows: revision and validation result",
      scope: "read",
      response: FlowsSchema,
      errors: [],
    },
    handle: flows,
  },
  { def: historyDef, handle: history },
  { def: auditDef, handle: audit },
];
