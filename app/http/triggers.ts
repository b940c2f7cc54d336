/**
 * @module
 * HTTP triggers: each trigger of the flows is served by the API's Hono app at its path as
 * written (`/hooks/pump`), behind the API's token guard (scope `trigger:<name>`, or admin),
 * and runs its edge function in a process of its own (`FunctionHost` with `trigger: true`).
 *
 * - The body is parsed as JSON and checked against the trigger's `body:` schema: a body
 *   that fails gets 400 naming the failing field.
 * - A throw in the function gets 500 with a request id; the message and the id go to the
 *   log, the client sees no stack. A time-out gets 504 (the process is replaced); a crash
 *   500. The gateway serves on either way.
 * - Records the function emits (`ctx.emit`) go into the graph under the trigger's name
 *   once it answers (`Gateway.inject`).
 * - `ctx.read(device, tag)` and `ctx.write(device, tag, value)` go through the host to the
 *   API's read and write paths (`writable`, kind and range checked; writes audited with
 *   who = `trigger:<name>`).
 * - A `cron:` trigger has no route: its function runs on the schedule with an empty request
 *   (method `CRON`); the answer is dropped, emitted records kept, failures logged.
 * - Requests to one trigger run one at a time in its process; at most
 *   {@linkcode DEFAULT_MAX_QUEUE} wait, beyond that 503 with `Retry-After`.
 */

import { Cron } from "croner";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Clock } from "../../engine/clock.ts";
import { BifrostError } from "../../engine/errors.ts";
import { compileBodySchema } from "../../engine/flow/triggers.ts";
import type { TriggerConfig } from "../../engine/flow/types.ts";
import type { EmittedRecord, TriggerRequest } from "../../engine/functions/api.ts";
import { FunctionHost, type TriggerOutcome } from "../../engine/functions/host.ts";
import type { Logger } from "../../engine/log.ts";
import type { CallMessage } from "../../engine/functions/protocol.ts";
import { type Guard, MAX_BODY_BYTES } from "./api.ts";
import { ApiError, errorResponse } from "./errors.ts";
import type { Exposition } from "./_exposition.ts";
import { triggerMetrics, TriggerStats } from "./trigger_stats.ts";

/** Requests that may wait for one trigger (beside the one running) before 503. */
export const DEFAULT_MAX_QUEUE = 16;

/** Headers the function is not given: credentials stay with the gateway. */
const HIDDEN_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);

/** Options of {@linkcode createTriggers}. */
export interface TriggerOptions {
  log: Logger;
  clock: Clock;
  /** Requests that may wait per trigger; default {@linkcode DEFAULT_MAX_QUEUE}. */
  maxQueue?: number;
  /** Where `ctx.emit` records go (the gateway's `inject`); without it they are refused. */
  emit?(trigger: string, records: readonly EmittedRecord[]): void;
  /** Serves `ctx.read` / `ctx.write` (through the API's read and write paths). */
  calls?(trigger: string, call: CallMessage): Promise<unknown>;
  /**
   * The flow repository: the only place a trigger's function may import from (as for
   * `function` steps, see `steps/function/validate.ts`); default each function's folder.
   */
  root?: string;
}

/** The triggers' processes and their HTTP part. */
export interface Triggers {
  /** The Hono part for `createApi`'s `mount`. */
  part(guard: Guard): Hono;
  /** Starts every trigger's process; throws `FUNCTION_FAILED` when one cannot load. */
  start(): Promise<void>;
  /** Requests running or waiting in the triggers' processes. */
  pending(): number;
  /** Ends every process. */
  close(): Promise<void>;
  /** Adds the triggers' figures to a `/metrics` scrape (see `trigger_stats.ts`). */
  metrics(x: Exposition): void;
  /** Each trigger's figures, for a scrape of several sets (see `trigger_set.ts`). */
  figures(): [name: string, stats: TriggerStats, restarts: number][];
}

/** Builds the triggers of a flow set (nothing runs until `start`). */
export function createTriggers(
  triggers: Iterable<TriggerConfig>,
  o: TriggerOptions,
): Triggers {
  const list = [...triggers];
  const maxQueue = o.maxQueue ?? DEFAULT_MAX_QUEUE;
  const log = o.log.child({ component: "triggers" });
  const hosts = new Map(list.map((t) => [
    t.name,
    new FunctionHost({
      step: t.name,
      path: t.file,
      params: t.params,
      permissions: t.permissions,
      timeoutMs: t.timeoutMs,
      memoryMb: t.memoryMb,
      log: o.log.child({ trigger: t.name }),
      clock: o.clock,
      countError: () => {},
      trigger: true,
      ...(o.root !== undefined ? { root: o.root } : {}),
      ...(o.calls ? { calls: (m: CallMessage) => o.calls!(t.name, m) } : {}),
    }),
  ]));
  const stats = new Map(list.map((t) => [t.name, new TriggerStats()]));

  const part = (guard: Guard): Hono => {
    const app = new Hono();
    // The API's one error mapping, also when this part is mounted elsewhere.
    app.onError((e) => {
      const r = errorResponse(e);
      return Response.json(r.body, { status: r.status, headers: r.headers });
    });
    for (const t of list) {
      if (t.cron !== undefined) continue;
      const host = hosts.get(t.name)!;
      const validate = t.body ? compileBodySchema(t.body) : undefined;
      const st = stats.get(t.name)!;
      app.on(
        t.method,
        t.path,
        // Counts every answer, the guard's refusals included.
        async (c, next) => {
          const start = performance.now();
          let status = 500;
          try {
            await next();
            status = c.res.status;
          } catch (e) {
            status = errorResponse(e).status;
            throw e;
          } finally {
            st.answered(status, performance.now() - start);
          }
        },
        guard(`trigger:${t.name}`),
        bodyLimit({
          maxSize: MAX_BODY_BYTES,
          onError: () => {
            throw new ApiError(
              413,
              "BAD_REQUEST",
              `Request body too large: at most ${MAX_BODY_BYTES} bytes`,
            );
          },
        }),
        async (c) => {
          // Counted from arrival (reading the body awaits): the host's queue fills later.
          if (st.inflight > maxQueue) {
            throw new ApiError(
              503,
              "BUSY",
              `Trigger "${t.name}" is busy: ${st.inflight} requests already wait or run; try again`,
              { headers: { "Retry-After": "1" } },
            );
          }
          st.inflight++;
          try {
            return await handle(c);
          } finally {
            st.inflight--;
          }
        },
      );
      const handle = async (c: Context): Promise<Response> => {
        const text = await c.req.text();
        let body: unknown;
        if (text.trim() !== "") {
          try {
            body = JSON.parse(text);
          } catch (e) {
            throw new ApiError(
              400,
              "BAD_REQUEST",
              `Request body of trigger "${t.name}" is not JSON: ${(e as Error).message}`,
            );
          }
        }
        if (validate && !validate(body)) {
          const err = validate.errors?.[0];
          const missing = err?.keyword === "required"
            ? `/${(err.params as { missingProperty: string }).missingProperty}`
            : "";
          const field = `${err?.instancePath ?? ""}${missing}` || "/";
          throw new ApiError(
            400,
            "BAD_REQUEST",
            `Invalid body for trigger "${t.name}" at ${field}: ${err?.message ?? "invalid"}`,
            { field },
          );
        }
        const url = new URL(c.req.url);
        const headers: Record<string, string> = {};
        c.req.raw.headers.forEach((v, k) => {
          if (!HIDDEN_HEADERS.has(k)) headers[k] = v;
        });
        const req: TriggerRequest = {
          method: c.req.method,
          path: url.pathname,
          params: c.req.param() as Record<string, string>,
          query: Object.fromEntries(url.searchParams),
          headers,
          body,
        };
        return answer(t, await host.request(req));
      };
    }
    return app;
  };

  /** The HTTP response of an outcome; failures are logged with a request id. */
  const answer = (t: TriggerConfig, r: TriggerOutcome): Response => {
    if (r.t === "response" && r.emit.length > 0) {
      if (!o.emit) {
        r = { t: "fail", message: "ctx.emit() is not available here" };
        return answer(t, r);
      }
      o.emit(t.name, r.emit);
    }
    if (r.t === "response") {
      const h = new Headers(r.headers);
      if (typeof r.body === "string" && h.has("content-type")) {
        return new Response(r.body, { status: r.status, headers: h });
      }
      let text: string;
      try {
        text = JSON.stringify(r.body ?? null);
      } catch (e) {
        r = { t: "fail", message: `its answer is not JSON: ${(e as Error).message}` };
        return answer(t, r);
      }
      h.set("content-type", "application/json");
      return new Response(text, { status: r.status, headers: h });
    }
    const requestId = crypto.randomUUID();
    const status = r.t === "timeout" ? 504 : 500;
    const code = r.t === "timeout" ? "TIMEOUT" : "FUNCTION_FAILED";
    log.error(`Trigger "${t.name}" failed: ${r.message}`, { trigger: t.name, requestId });
    const what = r.t === "timeout" ? `timed out after ${t.timeoutMs} ms` : "failed";
    return Response.json({
      error: {
        code,
        message: `Trigger "${t.name}" ${what} (request id ${requestId}: see the gateway log)`,
        requestId,
      },
    }, { status, headers: { "X-Request-Id": requestId } });
  };

  /** One run of a cron trigger: its answer is dropped, what it emits kept, failures logged. */
  const tick = async (t: TriggerConfig): Promise<void> => {
    const host = hosts.get(t.name)!;
    // A run still waiting when the next is due is enough: runs do not pile up.
    if (host.pending > 0) return;
    const r = await host.request({
      method: "CRON",
      path: "",
      params: {},
      query: {},
      headers: {},
      body: null,
    });
    const st = stats.get(t.name)!;
    st.cronRuns++;
    if (r.t !== "response") {
      st.cronFailures++;
      log.error(`Trigger "${t.name}" failed on its schedule: ${r.message}`, { trigger: t.name });
    } else if (r.emit.length > 0) o.emit?.(t.name, r.emit);
  };
  const jobs: Cron[] = [];

  return {
    part,
    pending: () => [...hosts.values()].reduce((n, h) => n + h.pending, 0),
    async start() {
      try {
        await Promise.all([...hosts.values()].map((h) => h.start()));
      } catch (e) {
        await Promise.all([...hosts.values()].map((h) => h.close()));
        throw e instanceof BifrostError ? e : new BifrostError("FUNCTION_FAILED", String(e));
      }
      for (const t of list) {
        if (t.cron !== undefined) {
          jobs.push(new Cron(t.cron, { protect: true, unref: true }, () => tick(t)));
        }
      }
    },
    async close() {
      for (const j of jobs.splice(0)) j.stop();
      await Promise.all([...hosts.values()].map((h) => h.close()));
    },
    figures: () =>
      list.map((t) => [t.name, stats.get(t.name)!, hosts.get(t.name)!.stats().restarts ?? 0]),
    metrics(x) {
      triggerMetrics(x, this.figures());
    },
  };
}
