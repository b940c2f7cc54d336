/**
 * @module
 * Serving the HTTP application: the listen address (`127.0.0.1:8720` by default), tokens,
 * TLS, CORS and the audit log, checked before the gateway starts, so that a bad option or a
 * port in use ends in one clear error and exit code 1. An address other than loopback is
 * refused without API tokens: an open API on a plant network would let anyone write setpoints.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Clock, systemClock } from "../../engine/clock.ts";
import type { DriverModule } from "../../engine/driver.ts";
import { BifrostError, errorMessage } from "../../engine/errors.ts";
import type { Logger } from "../../engine/log.ts";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import { createApi, type MountPart } from "./api.ts";
import { createTriggerSet, type TriggerChanges } from "./trigger_set.ts";
import type { FlowSet } from "../../engine/flow/types.ts";
import { flowRepository } from "../../steps/function/validate.ts";
import type { ApiContext, ReloadSource } from "./context.ts";
import { readOne } from "./routes_devices.ts";
import { writeOne } from "./routes_write.ts";
import { AuditLog } from "./audit.ts";
import { loadTokens } from "./auth.ts";
import { isLoopback, type Listen } from "./listen.ts";
import type { DeploySource } from "./routes_deploy.ts";
import type { Exposition } from "./_exposition.ts";

/** Options of {@linkcode startHttp}. */
export interface HttpOptions {
  listen: Listen;
  /** `--tokens FILE`. */
  tokensFile?: string;
  /** The `BIFROST_API_TOKENS` document. */
  tokensEnv?: string;
  tlsCert?: string;
  tlsKey?: string;
  corsOrigins?: string[];
  /** The audit log goes to `<dataDir>/audit.db`. */
  dataDir: string;
  drivers: readonly DriverModule[];
  log: Logger;
  clock?: Clock;
  /** Other HTTP parts mounted at `/` (metrics, health, WebSocket), before the triggers. */
  mount?: readonly MountPart[];
  /** The git deployment (`run --git`), for `GET /api/v1/deploy`. */
  deploy?: DeploySource;
}

/** A listening HTTP server. */
export interface HttpServer {
  /** `http://127.0.0.1:8720` (the port actually bound when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** Applies the triggers of a reloaded revision (see `trigger_set.ts`). */
  applyFlows(flows: FlowSet): Promise<TriggerChanges>;
  /** Gives `GET /api/v1/flows` the hot reload's outcome (the supervisor starts later). */
  setReload(source: ReloadSource | undefined): void;
  /** Adds the triggers' figures to a `/metrics` scrape (`liveParts`'s `metrics`). */
  metrics(x: Exposition): void;
  close(): Promise<void>;
}

/**
 * Checks the options, opens the audit log and listens; throws a {@linkcode BifrostError}
 * with the reason when it cannot (no tokens off loopback, half a TLS pair, port in use).
 */
export async function startHttp(gateway: Gateway, o: HttpOptions): Promise<HttpServer> {
  const { host, port } = o.listen;
  const tokens = await loadTokens(o.tokensFile, o.tokensEnv);
  if (!isLoopback(host) && !tokens) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot serve the API on ${host}:${port} without API tokens: an address other than ` +
        `loopback needs --tokens FILE or BIFROST_API_TOKENS (or use --http 127.0.0.1:${port})`,
    );
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
    throw new BifrostError(
      "CONFIG_INVALID",
      "Cannot serve TLS: give both --tls-cert and --tls-key",
    );
  }
  let tls: { cert: string; key: string } | undefined;
  if (o.tlsCert !== undefined && o.tlsKey !== undefined) {
    const read = async (path: string, what: string) => {
      try {
        return await Deno.readTextFile(path);
      } catch (e) {
        throw new BifrostError(
          "CONFIG_INVALID",
          `Cannot read the TLS ${what} "${path}": ${errorMessage(e)}`,
        );
      }
    };
    tls = { cert: await read(o.tlsCert, "certificate"), key: await read(o.tlsKey, "key") };
  }
  let apiContext = (): ApiContext => {
    throw new Error("the API is not ready");
  };
  // Always made (even with none yet): a reload may add triggers.
  const triggers = createTriggerSet(gateway.flows.triggers?.values() ?? [], {
    // Functions are loaded by the host from memory, their imports from the repository only.
    root: (await flowRepository(gateway.flows.dir)).root,
    log: o.log,
    clock: o.clock ?? systemClock,
    emit: (trigger, records) => gateway.inject(trigger, records),
    calls: (trigger, m) => {
      const ctx = apiContext();
      return m.op === "read"
        ? readOne(ctx, m.device, m.tag)
        : writeOne(ctx, `trigger:${trigger}`, m.device, m.tag, m.value);
    },
  });
  await triggers.start();
  mkdirSync(o.dataDir, { recursive: true });
  const audit = new AuditLog(join(o.dataDir, "audit.db"), { clock: o.clock ?? systemClock });
  const api = createApi({
    gateway,
    drivers: o.drivers,
    audit,
    ...(tokens ? { tokens } : {}),
    ...(o.corsOrigins ? { corsOrigins: o.corsOrigins } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.deploy ? { deploy: o.deploy } : {}),
    mount: [...(o.mount ?? []), triggers.part],
  });
  // What a trigger's ctx.read / ctx.write see: the API's own context.
  apiContext = () => ({
    gateway,
    drivers: o.drivers,
    lastValues: api.lastValues,
    audit,
    clock: o.clock ?? systemClock,
  });
  // Sparkplug DCMD (and any sink that carries writes back) through the API's write path:
  // writable, kind and range checked, audited as `<sink kind>:<sink name>`.
  gateway.setSinkWriter((who, device, tag, value) =>
    writeOne(apiContext(), who, device, tag, typeof value === "bigint" ? String(value) : value)
  );
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: host,
      port,
      ...(tls ?? {}),
      onListen: () => {},
      onError: (e) => {
        o.log.error("HTTP request failed", { error: errorMessage(e) });
        return new Response("Internal error", { status: 500 });
      },
    }, (req, info) => api.app.fetch(req, info));
  } catch (e) {
    gateway.setSinkWriter(undefined);
    api.close();
    audit.close();
    await triggers.close();
    const why = e instanceof Deno.errors.AddrInUse
      ? "the address is in use (is another gateway running? change it with --http HOST:PORT or turn the API off with --no-http)"
      : errorMessage(e);
    throw new BifrostError("CONFIG_INVALID", `Cannot serve the API on ${host}:${port}: ${why}`, {
      cause: e,
    });
  }
  const bound = server.addr.port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const url = `${tls ? "https" : "http"}://${shownHost}:${bound}`;
  o.log.info("HTTP API listening", {
    url: `${url}/api/v1`,
    auth: tokens ? "tokens" : "open (loopback)",
  });
  let reload: ReloadSource | undefined;
  return {
    url,
    port: bound,
    applyFlows: (flows) => triggers.apply(flows),
    metrics: (x) => {
      triggers.metrics(x);
      if (reload) reloadMetrics(reload, x);
    },
    setReload: (source) => {
      reload = source;
      api.setReload(source);
    },
    close: async () => {
      await server.shutdown();
      gateway.setSinkWriter(undefined);
      api.close();
      audit.close();
      await triggers.close();
    },
  };
}

/**
 * The hot reload's families of `GET /metrics`: `bifrost_flow_reloads_total{result=applied|
 * rejected|partial}`, `bifrost_flow_revision` and `bifrost_flow_last_reload_success` (0 while
 * the last change on disk is rejected and the previous flows run).
 */
export function reloadMetrics(source: ReloadSource, x: Exposition): void {
  const s = source.status();
  x.sample(
    "bifrost_flow_revision",
    "gauge",
    "Flow revisions applied since start (1 = the first).",
    {},
    s.revision,
  );
  x.sample(
    "bifrost_flow_last_reload_success",
    "gauge",
    "0 when the last change of the flows was rejected (the previous flows still run).",
    {},
    +s.ok,
  );
  const c = source.counters;
  if (!c) return;
  const help =
    "Hot reloads of the flows by outcome (rejected: invalid or refused, nothing changed; partial: applied in part).";
  for (
    const [result, v] of [
      ["applied", c.reloadsOk],
      ["rejected", c.reloadsRejected],
      ["partial", c.reloadsFailed],
    ] as const
  ) x.sample("bifrost_flow_reloads_total", "counter", help, { result }, v);
}
