/**
 * @module
 * The triggers of a running gateway across hot reloads. {@linkcode createTriggerSet} keeps
 * one {@linkcode createTriggers} unit per trigger, so that a new revision of the flows is
 * applied by name, like devices and steps are (`engine/runtime/reload.ts`):
 *
 * - a trigger whose settings and code (`TriggerConfig.source`, a fingerprint of its module
 *   and imports) did not change keeps its process, its `ctx.state` and its schedule;
 * - an added or changed one is started first, and only once its function has loaded does
 *   it replace the old one (requests then reach the new code; a function that does not
 *   load is logged and the old version keeps serving);
 * - a removed one stops serving (404) and its process ends.
 *
 * The HTTP part mounted in the API is a dispatcher over a router rebuilt at each change: a
 * request for no trigger falls through to the API's own 404.
 */

import { Hono, type MiddlewareHandler } from "hono";
import { errorMessage } from "../../engine/errors.ts";
import type { FlowSet, TriggerConfig } from "../../engine/flow/types.ts";
import { sameValue } from "../../engine/runtime/reload.ts";
import type { Guard } from "./api.ts";
import { createTriggers, type TriggerOptions, type Triggers } from "./triggers.ts";
import { triggerMetrics } from "./trigger_stats.ts";
import type { Exposition } from "./_exposition.ts";

/** The triggers of the flows, reloadable. */
export interface TriggerSet {
  /** The Hono part for `createApi`'s `mount`. */
  part(guard: Guard): Hono;
  /** Starts every trigger's process; throws `FUNCTION_FAILED` when one cannot load. */
  start(): Promise<void>;
  /** Applies the triggers of a new revision (see the module comment). */
  apply(flows: FlowSet): Promise<TriggerChanges>;
  /** Adds the triggers' figures to a `/metrics` scrape (see `trigger_stats.ts`). */
  metrics(x: Exposition): void;
  /** Ends every process. */
  close(): Promise<void>;
}

/** What {@linkcode TriggerSet.apply} did, by trigger name. */
export interface TriggerChanges {
  added: string[];
  removed: string[];
  changed: string[];
  /** Added or changed triggers whose function could not start (the old one serves on). */
  failed: string[];
}

interface Unit {
  config: TriggerConfig;
  triggers: Triggers;
}

/** The response of the router when no trigger has the path: the API answers instead. */
const NO_TRIGGER = "x-bifrost-no-trigger";

/** Builds the set (nothing runs until `start`). */
export function createTriggerSet(
  initial: Iterable<TriggerConfig>,
  o: TriggerOptions,
): TriggerSet {
  const log = o.log.child({ component: "triggers" });
  const units = new Map<string, Unit>();
  for (const t of initial) units.set(t.name, { config: t, triggers: createTriggers([t], o) });
  let guard: Guard | undefined;
  let router = new Hono();
  // Serialises applies with each other and with close.
  let queue: Promise<unknown> = Promise.resolve();

  const route = () => {
    if (!guard) return;
    const r = new Hono();
    for (const u of units.values()) r.route("/", u.triggers.part(guard));
    r.notFound(() => new Response(null, { status: 404, headers: { [NO_TRIGGER]: "1" } }));
    router = r;
  };

  const dispatch: MiddlewareHandler = async (c, next) => {
    const res = await router.fetch(c.req.raw, c.env);
    if (res.status === 404 && res.headers.has(NO_TRIGGER)) return await next();
    return res;
  };

  const apply = async (flows: FlowSet): Promise<TriggerChanges> => {
    const next = flows.triggers ?? new Map<string, TriggerConfig>();
    const changes: TriggerChanges = { added: [], removed: [], changed: [], failed: [] };
    const started = new Map<string, Unit>();
    for (const [name, t] of next) {
      const old = units.get(name);
      if (old && sameValue(old.config, t)) continue;
      const triggers = createTriggers([t], o);
      try {
        await triggers.start();
      } catch (e) {
        changes.failed.push(name);
        log.error(
          `Trigger "${name}" cannot start: ${errorMessage(e)}; ${
            old ? "its previous version serves on" : "it does not serve"
          }`,
          { trigger: name },
        );
        continue;
      }
      (old ? changes.changed : changes.added).push(name);
      started.set(name, { config: t, triggers });
    }
    const retired: Unit[] = [];
    for (const [name, u] of units) {
      if (!next.has(name)) {
        changes.removed.push(name);
        retired.push(u);
        units.delete(name);
      }
    }
    for (const [name, u] of started) {
      const old = units.get(name);
      if (old) retired.push(old);
      units.set(name, u);
    }
    if (started.size + retired.length > 0) route();
    // Requests already in a retired process may finish (within their time limit).
    await Promise.all(retired.map(async (u) => {
      const until = o.clock.monotonic() + Math.max(u.config.timeoutMs, 100) + 100;
      while (u.triggers.pending() > 0 && o.clock.monotonic() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await u.triggers.close();
    }));
    const { added, removed, changed } = changes;
    if (added.length + removed.length + changed.length > 0) {
      log.info("Triggers reloaded", { added, removed, changed });
    }
    return changes;
  };

  return {
    part(g) {
      guard = g;
      route();
      const app = new Hono();
      app.all("*", dispatch);
      return app;
    },
    async start() {
      const all = [...units.values()];
      const done: Unit[] = [];
      try {
        for (const u of all) {
          await u.triggers.start();
          done.push(u);
        }
      } catch (e) {
        await Promise.all(done.map((u) => u.triggers.close()));
        throw e;
      }
    },
    apply(flows) {
      const run = queue.then(() => apply(flows));
      queue = run.catch(() => {});
      return run;
    },
    metrics(x) {
      triggerMetrics(x, [...units.values()].flatMap((u) => u.triggers.figures()));
    },
    async close() {
      await queue;
      await Promise.all([...units.values()].map((u) => u.triggers.close()));
      units.clear();
    },
  };
}
