/**
 * @module
 * The OPC UA simulator: a node-opcua server with the demo address space (`content.ts`), N
 * generated variables, value generators, users and security policies, and faults through a
 * TCP proxy in front of it (silence, slow answers, dropped connections, a restart with the
 * values kept). Each simulator has its own PKI folder (node-opcua's certificate watcher
 * crashes Deno when two processes share one, shared/DENO_NOTES.md).
 */

import { Buffer } from "node:buffer";
import type { Value } from "../../../engine/plugin.ts";
import { DATA_TYPE_IDS, type ScalarType } from "../core/types.ts";
import { elementForWrite } from "../core/write_value.ts";
import { demoVariables, type SimVariable } from "./content.ts";
import { TcpProxy } from "./proxy.ts";
import { guardOpensslConf, repairOpensslConf } from "../client/load.ts";

/** Options of {@linkcode startOpcuaSimulator}. */
export interface OpcuaSimOptions {
  /** Port clients connect to (0: a free one). */
  port?: number;
  /** Generated Double variables under Demo/Many (`ns=1;s=Demo.Many.<i>`). */
  variables?: number;
  /** Change the dynamic and generated values every this many ms (0: never). */
  changeEveryMs?: number;
  /** Users of username/password identities; anonymous stays allowed unless `anonymous: false`. */
  users?: { user: string; password: string }[];
  anonymous?: boolean;
  /** Trust every client certificate (default true); false: only those in the server's PKI. */
  trustClients?: boolean;
  /** Folder of the server's PKI (default: a fresh temporary folder). */
  pki?: string;
  /** Most monitored items per subscription (node-opcua's serverCapabilities). */
  maxMonitoredItemsPerSubscription?: number;
  /** Put a TCP proxy in front (faults: silence, slow, drop, stop/resume). */
  proxy?: boolean;
}

/** A running simulator. */
export interface OpcuaSimulator extends AsyncDisposable {
  /** The endpoint clients use. */
  readonly endpoint: string;
  readonly port: number;
  /** The proxy in front of the server, when started with `proxy: true`. */
  readonly proxy: TcpProxy | undefined;
  /** The server's PKI folder (its certificate is `own/certs/certificate.pem`). */
  readonly pki: string;
  /** Sets a variable (`Demo.Static.Double`) as the device would. */
  setValue(id: string, value: Value): void;
  getValue(id: string): Value;
  /** Gives a variable a status code (e.g. 0x808B0000 BadDeviceFailure); 0 back to Good. */
  setStatus(id: string, code: number): void;
  /** The HighTemperature alarm: active and acknowledged state (Demo.Boiler.Temperature > 80 fires it). */
  alarm(): { active: boolean; acked: boolean };
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

/** Starts the simulator; resolves once it accepts connections. */
export async function startOpcuaSimulator(o: OpcuaSimOptions = {}): Promise<OpcuaSimulator> {
  if (Deno.env.get("OPCUA_PKI_USE_POLLING") === undefined) {
    Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
  }
  guardOpensslConf();
  const ua: Any = await import("node-opcua");
  // Publishing as often as 10 ms (node-opcua's floor is 50 ms): a fast PLC's figures.
  if (ua.Subscription) ua.Subscription.minimumPublishingInterval = 10;
  const pki = o.pki ?? await Deno.makeTempDir({ prefix: "bifrost-opcua-sim-" });
  const vars = demoVariables();
  for (let i = 0; i < (o.variables ?? 0); i++) {
    vars.push({ id: `Demo.Many.${i}`, type: "Double", array: false, value: i, writable: true });
  }
  const held = new Map<string, { v: SimVariable; status: number }>();
  for (const v of vars) held.set(v.id, { v, status: 0 });
  let server: Any;
  let alarm: Any;
  let nodes = new Map<string, Any>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const serverPort = o.proxy ? 0 : (o.port ?? 0);
  let boundPort = 0;

  const statusOf = (code: number): Any =>
    code === 0
      ? ua.StatusCodes.Good
      : Object.values(ua.StatusCodes).find((s: Any) => s?.value === code) ?? ua.StatusCodes.Bad;
  const variant = (v: SimVariable, value: Value) => {
    const conv = (e: Value) => {
      const c = elementForWrite(v.type, e);
      if (!c.ok) throw new RangeError(`Cannot hold ${String(e)} in ${v.id}: ${c.why}`);
      return c.value instanceof Uint8Array ? Buffer.from(c.value) : c.value;
    };
    return new ua.Variant({
      dataType: DATA_TYPE_IDS[v.type],
      arrayType: v.array ? ua.VariantArrayType.Array : ua.VariantArrayType.Scalar,
      value: v.array ? (value as Value[]).map(conv) : conv(value),
    });
  };

  const boot = async (port: number) => {
    const cm = new ua.OPCUACertificateManager({
      rootFolder: pki,
      automaticallyAcceptUnknownCertificate: o.trustClients ?? true,
    });
    const users = o.users ?? [];
    server = new ua.OPCUAServer({
      port,
      nodeset_filename: [ua.nodesets.standard],
      serverCertificateManager: cm,
      userCertificateManager: cm,
      allowAnonymous: o.anonymous ?? true,
      securityModes: [
        ua.MessageSecurityMode.None,
        ua.MessageSecurityMode.Sign,
        ua.MessageSecurityMode.SignAndEncrypt,
      ],
      securityPolicies: [
        ua.SecurityPolicy.None,
        ua.SecurityPolicy.Basic256Sha256,
        ua.SecurityPolicy.Aes128_Sha256_RsaOaep,
        ua.SecurityPolicy.Aes256_Sha256_RsaPss,
      ],
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
    const space = server.engine.addressSpace;
    const ns = space.getOwnNamespace();
    const folders = new Map<string, Any>();
    const folder = (path: string): Any => {
      const known = folders.get(path);
      if (known) return known;
      const dot = path.lastIndexOf(".");
      const parent = dot < 0 ? space.rootFolder.objects : folder(path.slice(0, dot));
      const f = ns.addFolder(parent, { browseName: path.slice(dot + 1), nodeId: `s=${path}` });
      folders.set(path, f);
      return f;
    };
    nodes = new Map();
    // Demo.Boiler is an object that notifies events (its alarm's), not a plain folder.
    space.installAlarmsAndConditionsService();
    const boiler = ns.addObject({
      organizedBy: folder("Demo"),
      browseName: "Boiler",
      nodeId: "s=Demo.Boiler",
      eventNotifier: 1,
      notifierOf: space.rootFolder.objects.server,
    });
    folders.set("Demo.Boiler", boiler);
    for (const { v, status } of held.values()) {
      const dot = v.id.lastIndexOf(".");
      const node = ns.addVariable({
        componentOf: folder(v.id.slice(0, dot)),
        browseName: v.id.slice(dot + 1),
        nodeId: `s=${v.id}`,
        dataType: ua.DataType[v.type as ScalarType],
        valueRank: v.array ? 1 : -1,
        arrayDimensions: v.array ? [0] : null,
        accessLevel: v.writable ? "CurrentRead | CurrentWrite" : "CurrentRead",
        userAccessLevel: v.writable ? "CurrentRead | CurrentWrite" : "CurrentRead",
        minimumSamplingInterval: 0,
      });
      node.setValueFromSource(
        variant(v, v.value),
        statusOf(status),
      );
      // Client writes land in `held` too, so that a restart keeps them.
      node.on("value_changed", (dv: Any) => {
        const h = held.get(v.id);
        if (h && dv.statusCode.value === 0) h.v.value = readBack(v, dv.value.value);
      });
      nodes.set(v.id, node);
    }
    const temperature = nodes.get("Demo.Boiler.Temperature");
    boiler.addReference({ referenceType: "HasEventSource", nodeId: temperature.nodeId });
    alarm = ns.instantiateExclusiveLimitAlarm("ExclusiveLimitAlarmType", {
      browseName: "HighTemperature",
      nodeId: "s=Demo.Boiler.HighTemperature",
      componentOf: boiler,
      conditionSource: temperature,
      inputNode: temperature,
      highLimit: 80,
      lowLimit: -1000,
      // Confirm and shelving for the client's alarm-action tests (Part 9 optionals).
      optionals: ["ConfirmedState", "Confirm", "ShelvingState"],
      maxTimeShelved: 3_600_000,
    });
    alarm.setEnabledState(true);
    await server.start();
    repairOpensslConf();
    boundPort = server.endpoints[0].port;
  };

  const readBack = (v: SimVariable, raw: unknown): Value => {
    const one = (e: unknown): Value => {
      if (Array.isArray(e) && (v.type === "Int64" || v.type === "UInt64")) {
        const u = (BigInt(e[0] >>> 0) << 32n) | BigInt(e[1] >>> 0);
        return v.type === "Int64" ? BigInt.asIntN(64, u) : u;
      }
      if (v.type === "Float") return Math.fround(e as number);
      if (e instanceof Date) return e.toISOString();
      if (e instanceof Uint8Array) {
        return Array.from(e, (b) => b.toString(16).padStart(2, "0")).join("");
      }
      if (v.type === "LocalizedText") return (e as { text: string }).text;
      return e as Value;
    };
    if (v.array) return Array.from(raw as ArrayLike<unknown>, one);
    return one(raw);
  };

  const startTicks = () => {
    const every = o.changeEveryMs ?? 1000;
    if (every <= 0) return;
    let tick = 0;
    timer = setInterval(() => {
      tick++;
      const set = (id: string, value: Value) => {
        const h = held.get(id);
        const node = nodes.get(id);
        if (!h || !node) return;
        h.v.value = value;
        node.setValueFromSource(variant(h.v, value));
      };
      set("Demo.Dynamic.Ramp", tick % 100);
      set("Demo.Dynamic.Sine", Math.sin(tick / 10));
      set("Demo.Dynamic.Counter", tick);
      for (let i = 0; i < (o.variables ?? 0); i++) set(`Demo.Many.${i}`, tick + i);
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

  await boot(serverPort);
  startTicks();
  const proxy = o.proxy ? TcpProxy.start(boundPort, o.port ?? 0) : undefined;
  const port = proxy ? proxy.port : boundPort;
  const live = (id: string) => {
    const h = held.get(id);
    if (!h) throw new RangeError(`The simulator has no variable "${id}"`);
    return h;
  };

  const sim: OpcuaSimulator = {
    endpoint: `opc.tcp://127.0.0.1:${port}`,
    port,
    proxy,
    pki,
    setValue(id, value) {
      const h = live(id);
      h.v.value = value;
      nodes.get(id)?.setValueFromSource(
        variant(h.v, value),
        statusOf(h.status),
      );
    },
    getValue: (id) => live(id).v.value,
    alarm: () => ({
      active: Boolean(alarm?.activeState?.getValue()),
      acked: Boolean(alarm?.ackedState?.getValue()),
    }),
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
      nodes.get(id)?.setValueFromSource(
        variant(h.v, h.v.value),
        statusOf(code),
      );
    },
    async restart() {
      await shutdown();
      await boot(o.proxy ? 0 : boundPort);
      proxy?.retarget(boundPort);
      startTicks();
    },
    async stop() {
      proxy?.stop();
      await shutdown();
    },
    async start() {
      await boot(o.proxy ? 0 : boundPort);
      proxy?.retarget(boundPort);
      proxy?.resume();
      startTicks();
    },
    async close() {
      proxy?.stop();
      await shutdown();
      if (o.pki === undefined) await Deno.remove(pki, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]: () => sim.close(),
  };
  return sim;
}
