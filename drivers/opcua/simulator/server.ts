/**
 * @module
 * The OPC UA simulator: a node-opcua server whose address space comes from a YAML config
 * (`config.ts`; default `simulators/opcua-demo.yaml`): folders, variables of every built-in
 * type, value generators, AnalogItems, methods, limit alarms, users and security policies,
 * and faults through a TCP proxy in front of it (silence, slow answers, dropped connections,
 * a restart with the values kept). Each simulator has its own PKI folder (node-opcua's
 * certificate watcher crashes Deno when two processes share one, shared/DENO_NOTES.md).
 */

import type { Value } from "../../../engine/plugin.ts";
import {
  DEMO_CONFIG_URL,
  expandVariables,
  hasTemplate,
  loadSimConfig,
  type SimConfig,
} from "./config.ts";
import { buildSpace, type Held, statusOf, toVariant } from "./_space.ts";
import { type Ticking, ticking, valueAt } from "./_tick.ts";
import { TcpProxy } from "./proxy.ts";
import { guardOpensslConf, repairOpensslConf } from "../client/load.ts";

/** Options of {@linkcode startOpcuaSimulator}. */
export interface OpcuaSimOptions {
  /** The address space: a parsed config, or a YAML file (default `simulators/opcua-demo.yaml`). */
  config?: SimConfig | string | URL;
  /** Port clients connect to (0: a free one). */
  port?: number;
  /** How many variables the config's first `repeat:` template makes (the demo: `Demo.Many.<i>`). */
  variables?: number;
  /** Change the generated values every this many ms (0: never); default the config's `changeEvery`, else 1 s. */
  changeEveryMs?: number;
  /** Users of username/password identities, beside the config's. */
  users?: { user: string; password: string }[];
  /** Anonymous sessions allowed (default: the config's, else true). */
  anonymous?: boolean;
  /** Trust every client certificate (default: the config's, else true); false: only those in the server's PKI. */
  trustClients?: boolean;
  /** Folder of the server's PKI (default: a fresh temporary folder). */
  pki?: string;
  /** Most monitored items per subscription (node-opcua's serverCapabilities). */
  maxMonitoredItemsPerSubscription?: number;
  /** Put a TCP proxy in front (faults: silence, slow, drop, stop/resume). */
  proxy?: boolean;
  /** Faults run by timers, beside the config's (`slowMs` and `dropEveryMs` start the proxy). */
  faults?: { slowMs?: number; dropEveryMs?: number; restartEveryMs?: number };
  /** Where the simulator says what it does (restarts); default nowhere. */
  log?: (line: string) => void;
}

/** An alarm's state. */
export interface SimAlarmState {
  active: boolean;
  acked: boolean;
  confirmed: boolean;
}

/** A running simulator. */
export interface OpcuaSimulator extends AsyncDisposable {
  /** The endpoint clients use. */
  readonly endpoint: string;
  readonly port: number;
  /** The proxy in front of the server, when started with `proxy: true` or a slow/drop fault. */
  readonly proxy: TcpProxy | undefined;
  /** The server's PKI folder (its certificate is `own/certs/certificate.pem`). */
  readonly pki: string;
  /** The config it serves. */
  readonly config: SimConfig;
  /** Sets a variable (`Demo.Static.Double`) as the device would. */
  setValue(id: string, value: Value): void;
  getValue(id: string): Value;
  /** Gives a variable a status code (e.g. 0x808B0000 BadDeviceFailure); 0 back to Good. */
  setStatus(id: string, code: number): void;
  /** The first alarm of the config (the demo's HighTemperature): active and acknowledged state. */
  alarm(): { active: boolean; acked: boolean };
  /** An alarm's state by id (`Demo.Tank.LevelLimits`). */
  alarmState(id: string): SimAlarmState;
  /** Sessions, subscriptions and monitored items the server holds now. */
  counts(): { sessions: number; subscriptions: number; monitoredItems: number };
  /** Shuts the server down (sessions lost) and starts it again with the values it held. */
  restart(): Promise<void>;
  /** Server off: nothing answers at the endpoint (needs `proxy`). */
  stop(): Promise<void>;
  /** Server on again, same endpoint, values kept. */
  start(): Promise<void>;
  close(): Promise<void>;
}

// deno-lint-ignore no-explicit-any
type Any = any;

/** The config of the options: parsed, read from its file, or the demo. */
export async function resolveConfig(c: OpcuaSimOptions["config"]): Promise<SimConfig> {
  if (c === undefined) return await loadSimConfig(DEMO_CONFIG_URL);
  if (typeof c === "string" || c instanceof URL) return await loadSimConfig(c);
  return c;
}

/** Starts the simulator; resolves once it accepts connections. */
export async function startOpcuaSimulator(o: OpcuaSimOptions = {}): Promise<OpcuaSimulator> {
  const config = await resolveConfig(o.config);
  if (o.variables !== undefined && o.variables > 0 && !hasTemplate(config)) {
    throw new RangeError(
      `Cannot make ${o.variables} variables: ${config.file} has no variable with repeat:`,
    );
  }
  if (Deno.env.get("OPCUA_PKI_USE_POLLING") === undefined) {
    Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
  }
  guardOpensslConf();
  const ua: Any = await import("node-opcua");
  // Publishing as often as 10 ms (node-opcua's floor is 50 ms): a fast PLC's figures.
  if (ua.Subscription) ua.Subscription.minimumPublishingInterval = 10;
  const pki = o.pki ?? await Deno.makeTempDir({ prefix: "bifrost-opcua-sim-" });
  const held = new Map<string, Held>();
  for (const v of expandVariables(config, o.variables)) held.set(v.id, { v, status: 0 });
  const every = o.changeEveryMs ?? config.changeEveryMs ?? 1000;
  const ticks: Ticking[] = [];
  for (const { v } of held.values()) {
    if (!v.generator || every <= 0) continue;
    const t = ticking(v, v.generator, every);
    ticks.push(t);
    // A random value has no start of its own: the first draw, not 0 (outside min..max) until
    // the first tick.
    if (v.generator.kind === "random") v.value = valueAt(t, 0, every, "random");
  }
  const faults = {
    slowMs: o.faults?.slowMs ?? config.faults.slowMs,
    dropEveryMs: o.faults?.dropEveryMs ?? config.faults.dropEveryMs,
    restartEveryMs: o.faults?.restartEveryMs ?? config.faults.restartEveryMs,
  };
  const useProxy = Boolean(o.proxy || faults.slowMs || faults.dropEveryMs);
  const sec = config.security;
  let server: Any;
  let alarms = new Map<string, Any>();
  let nodes = new Map<string, Any>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const faultTimers: ReturnType<typeof setInterval>[] = [];
  const serverPort = useProxy ? 0 : (o.port ?? 0);
  let boundPort = 0;

  const boot = async (port: number) => {
    const cm = new ua.OPCUACertificateManager({
      rootFolder: pki,
      automaticallyAcceptUnknownCertificate: o.trustClients ?? sec.trustClients,
    });
    const users = [...sec.users, ...(o.users ?? [])];
    server = new ua.OPCUAServer({
      port,
      nodeset_filename: [ua.nodesets.standard],
      serverCertificateManager: cm,
      userCertificateManager: cm,
      allowAnonymous: o.anonymous ?? sec.anonymous,
      securityModes: sec.modes.map((m) => ua.MessageSecurityMode[m]),
      securityPolicies: sec.policies.map((p) => ua.SecurityPolicy[p]),
      userManager: {
        isValidUser: (user: string, password: string) =>
          users.some((u) => u.user === user && u.password === password),
      },
      serverCapabilities: {
        maxSessions: 100,
        // Every change of an exception-based item goes out (no 50 ms coalescing window).
        minSupportedSampleRate: 0,
        maxMonitoredItemsPerSubscription: o.maxMonitoredItemsPerSubscription ?? 100_000,
        operationLimits: { maxNodesPerRead: 10_000, maxMonitoredItemsPerCall: 10_000 },
      },
      buildInfo: { productName: "Bifrost OPC UA simulator", manufacturerName: "Bifrost" },
      serverInfo: {
        applicationName: { text: "Bifrost OPC UA simulator" },
        applicationUri: "urn:bifrost:opcua-simulator",
      },
    });
    await server.initialize();
    repairOpensslConf();
    try {
      ({ nodes, alarms } = buildSpace(ua, server, config, held));
    } catch (e) {
      await server.shutdown(0).catch(() => {});
      await server.serverCertificateManager?.dispose?.();
      server = undefined;
      throw e;
    }
    await server.start();
    repairOpensslConf();
    boundPort = server.endpoints[0].port;
  };

  let tick = 0;
  const startTicks = () => {
    if (every <= 0 || ticks.length === 0) return;
    timer = setInterval(() => {
      tick++;
      for (const t of ticks) {
        const h = held.get(t.id)!;
        const value = valueAt(t, tick, every, t.v.generator!.kind);
        h.v.value = value;
        nodes.get(t.id)?.setValueFromSource(toVariant(ua, h.v, value), statusOf(ua, h.status));
      }
    }, every);
  };

  const shutdown = async () => {
    clearInterval(timer);
    if (!server) return;
    const s = server;
    server = undefined;
    await s.shutdown(0);
    await s.serverCertificateManager?.dispose?.();
  };

  try {
    await boot(serverPort);
  } catch (e) {
    if (o.pki === undefined) await Deno.remove(pki, { recursive: true }).catch(() => {});
    throw e;
  }
  startTicks();
  const proxy = useProxy ? TcpProxy.start(boundPort, o.port ?? 0) : undefined;
  if (proxy) proxy.delayMs = faults.slowMs;
  const port = proxy ? proxy.port : boundPort;
  const live = (id: string) => {
    const h = held.get(id);
    if (!h) throw new RangeError(`The simulator has no variable "${id}"`);
    return h;
  };
  // A two-state variable asserts when it was never set (ConfirmedState before any event).
  const two = (s: Any) => {
    try {
      return Boolean(s?.getValue());
    } catch {
      return false;
    }
  };
  const alarmState = (a: Any): SimAlarmState => ({
    active: two(a?.activeState),
    acked: two(a?.ackedState),
    confirmed: two(a?.confirmedState),
  });

  const sim: OpcuaSimulator = {
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    port,
    proxy,
    pki,
    config,
    setValue(id, value) {
      const h = live(id);
      nodes.get(id)?.setValueFromSource(toVariant(ua, h.v, value), statusOf(ua, h.status));
      h.v.value = value;
    },
    getValue: (id) => live(id).v.value,
    alarm() {
      const { active, acked } = alarmState(alarms.values().next().value);
      return { active, acked };
    },
    alarmState(id) {
      const a = alarms.get(id);
      if (!a) throw new RangeError(`The simulator has no alarm "${id}"`);
      return alarmState(a);
    },
    counts() {
      const engine = server?.engine;
      if (!engine) return { sessions: 0, subscriptions: 0, monitoredItems: 0 };
      let monitoredItems = 0;
      for (const s of engine.getSessions()) {
        for (const sub of s.publishEngine?.subscriptions ?? []) {
          monitoredItems += sub.monitoredItemCount;
        }
      }
      return {
        sessions: engine.currentSessionCount,
        subscriptions: engine.currentSubscriptionCount,
        monitoredItems,
      };
    },
    setStatus(id, code) {
      const h = live(id);
      h.status = code;
      nodes.get(id)?.setValueFromSource(toVariant(ua, h.v, h.v.value), statusOf(ua, code));
    },
    async restart() {
      await shutdown();
      await boot(useProxy ? 0 : boundPort);
      proxy?.retarget(boundPort);
      startTicks();
    },
    async stop() {
      proxy?.stop();
      await shutdown();
    },
    async start() {
      await boot(useProxy ? 0 : boundPort);
      proxy?.retarget(boundPort);
      proxy?.resume();
      startTicks();
    },
    async close() {
      for (const t of faultTimers) clearInterval(t);
      proxy?.stop();
      await shutdown();
      if (o.pki === undefined) await Deno.remove(pki, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]: () => sim.close(),
  };
  if (faults.dropEveryMs) faultTimers.push(setInterval(() => proxy?.drop(), faults.dropEveryMs));
  if (faults.restartEveryMs) {
    faultTimers.push(setInterval(() => {
      sim.restart().then(
        () => o.log?.("OPC UA simulator restarted"),
        (e) => o.log?.(`Restart failed: ${(e as Error).message}`),
      );
    }, faults.restartEveryMs));
  }
  return sim;
}
