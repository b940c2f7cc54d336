/**
 * @module
 * One connection to an OPC UA server: node-opcua's client (secure channel) and one session,
 * the server's operation limits (read once per connection) and namespace table.
 *
 * The first connect does not retry (the engine backs off). Once open, node-opcua's own
 * repair is on (`maxRetry: -1`): a lost connection is reported once (every tag goes bad),
 * and node-opcua builds a new secure channel and activates the same session on it; when the
 * server no longer has the session it creates a new one and asks TransferSubscriptions
 * (refused for anonymous sessions: then it creates the subscriptions and monitored items
 * again), and republishes what the server still holds. The driver waits for that in its
 * next `connect()` (see `driver.ts`), so one ClientSession lives as long as the device.
 */

import { Buffer } from "node:buffer";
import { BifrostError, type Logger } from "../../../engine/plugin.ts";
import type { OpcuaDevice } from "../core/spec.ts";
import { explainConnectError } from "./errors.ts";
import {
  loadOpcua,
  type OpcuaLib,
  repairOpensslConf,
  routeOpcuaLogs,
  withTimeout,
} from "./load.ts";
import type { ClientSession, OPCUAClient, UserIdentityInfo } from "node-opcua-client";

/** Server limits that shape requests (0: the server states none). */
export interface OperationLimits {
  maxNodesPerRead: number;
  maxNodesPerWrite: number;
  maxNodesPerBrowse: number;
  maxMonitoredItemsPerCall: number;
  maxNodesPerTranslateBrowsePathsToNodeIds: number;
}

/** An open client and session. */
export interface Connection {
  lib: OpcuaLib;
  client: OPCUAClient;
  session: ClientSession;
  limits: OperationLimits;
  /** The server's NamespaceArray (index → URI). */
  namespaces: string[];
  /** Closes the session and the channel; never throws, never hangs past `timeoutMs`. */
  close(): Promise<void>;
  /** The session's id now (node-opcua gives the same ClientSession a new id when it recreates it). */
  sessionId(): string;
  /** Subscription ids the server accepted in the last TransferSubscriptions. */
  readonly transferred: Set<number>;
  /** True when node-opcua has a channel and the session again and the server answers a Read. */
  probe(ms: number): Promise<boolean>;
  /** Reports the next loss again (after a resume). */
  rearm(): void;
}

/** node-opcua's publish engine, as far as a resume looks at it. */
interface PublishEngine {
  nbPendingPublishRequests: number;
  subscriptionCount: number;
  replenish_publish_request_queue(): void;
  suspend(suspended: boolean): void;
}

/** The session's publish engine (node-opcua internals, absent in other versions). */
const publishEngine = (session: ClientSession) =>
  (session as unknown as { getPublishEngine?(): PublishEngine }).getPublishEngine?.();

/** Node ids of Server_ServerCapabilities_OperationLimits_* (Part 5). */
const LIMIT_NODES: [keyof OperationLimits, string][] = [
  ["maxNodesPerRead", "i=11705"],
  ["maxNodesPerWrite", "i=11707"],
  ["maxNodesPerBrowse", "i=11710"],
  ["maxMonitoredItemsPerCall", "i=11714"],
  ["maxNodesPerTranslateBrowsePathsToNodeIds", "i=11712"],
];

/** What the driver tells this module. */
export interface OpenOptions {
  device: string;
  fields: OpcuaDevice;
  signal: AbortSignal;
  /** The channel broke after the connect (the engine reconnects). */
  onLost(reason: string): void;
  onWarn(line: string): void;
  /** The device's logger (node-opcua's own lines go to the first one). */
  log: Logger;
}

/** Connects, creates a session and reads the limits; throws DEVICE_UNREACHABLE explained. */
export async function openConnection(o: OpenOptions): Promise<Connection> {
  routeOpcuaLogs(o.log);
  const lib = await loadOpcua();
  const f = o.fields;
  const { OPCUACertificateManager } = await import("node-opcua-certificate-manager");
  const cm = new OPCUACertificateManager({
    rootFolder: f.pki,
    automaticallyAcceptUnknownCertificate: false,
  });
  const client = lib.OPCUAClient.create({
    applicationName: "Bifrost",
    applicationUri: "urn:bifrost:gateway",
    clientName: `bifrost ${o.device}`,
    endpointMustExist: false,
    securityMode: lib.MessageSecurityMode[f.securityMode],
    securityPolicy: lib.SecurityPolicy[f.securityPolicy],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: true,
    keepAliveInterval: Math.max(1_000, Math.min(f.sessionTimeoutMs / 3, 10_000)),
    requestedSessionTimeout: f.sessionTimeoutMs,
    // Longer than a call's timeout: a silent server fails calls with TIMEOUT first.
    transportTimeout: Math.max(f.timeoutMs * 3, 15_000),
    defaultTransactionTimeout: Math.max(f.timeoutMs * 2, 10_000),
    clientCertificateManager: cm,
  });
  let open = false;
  let lost = false;
  const lose = (reason: string) => {
    if (!open || lost) return;
    lost = true;
    // No Publish until the resume: node-opcua sends Publish requests as soon as a new channel
    // is valid, and a response that arrives before its Republish of what was unacknowledged
    // moves the sequence number past the gap (a value written while away was seen lost).
    if (session) publishEngine(session)?.suspend(true);
    o.onLost(reason);
  };
  client.on("connection_lost", () => lose("the connection to the server was lost"));
  client.on("close", () => lose("the server closed the connection"));
  client.on("backoff", () => lose("the connection to the server was lost"));
  const what = `Cannot connect to "${o.device}" at ${f.endpoint}`;
  const timedOut = () =>
    new BifrostError("DEVICE_UNREACHABLE", `${what}: no answer within ${f.timeoutMs} ms`);
  const abandon = async () => {
    await withTimeout(client.disconnect(), 2_000, () => new Error("disconnect")).catch(() => {});
    await cm.dispose().catch(() => {});
  };
  let session: ClientSession | undefined;
  const started = Date.now() - 1_000;
  try {
    await withTimeout(client.connect(f.endpoint), f.timeoutMs, timedOut);
    o.signal.throwIfAborted();
    session = await withTimeout(
      client.createSession(await identity(lib, f)),
      f.timeoutMs,
      timedOut,
    );
  } catch (e) {
    repairOpensslConf();
    await abandon();
    throw explainConnectError(what, e, f, await newestRejected(f.pki, started));
  }
  repairOpensslConf();
  const live: ClientSession = session;
  session.on("session_closed", () => lose("the server closed the session"));
  session.on("keepalive_failure", () => lose("the session keep-alive failed"));
  // From now on node-opcua repairs a broken channel and the session by itself.
  Object.assign(client.connectionStrategy, { maxRetry: -1, initialDelay: 500, maxDelay: 5_000 });
  const transferred = new Set<number>();
  let refillLater: ReturnType<typeof setTimeout> | undefined;
  watchTransfers(session, transferred);
  const c: Connection = {
    lib,
    client,
    session,
    limits: {
      maxNodesPerRead: 0,
      maxNodesPerWrite: 0,
      maxNodesPerBrowse: 0,
      maxMonitoredItemsPerCall: 0,
      maxNodesPerTranslateBrowsePathsToNodeIds: 0,
    },
    namespaces: [],
    transferred,
    sessionId: () => session.sessionId.toString(),
    async probe(ms) {
      if (client.isReconnecting || session.isReconnecting) return false;
      try {
        const [dv] = await withTimeout(
          session.read([{ nodeId: "i=2259", attributeId: lib.AttributeIds.Value }]),
          ms,
          () => new Error("probe"),
        );
        return dv !== undefined && (dv.statusCode.value & 0x80000000) === 0;
      } catch {
        return false;
      }
    },
    rearm() {
      lost = false;
      // Publishing again (suspended since the loss; Republish is done by now). node-opcua
      // also stops sending Publish requests when one fails on the broken channel and counts on
      // its repair to send them: when none is pending, send them now and check again in 2 s.
      const pe = publishEngine(live);
      pe?.suspend(false);
      const refill = () => {
        if (open && !lost && pe && pe.subscriptionCount > 0 && pe.nbPendingPublishRequests < 1) {
          pe.replenish_publish_request_queue();
        }
      };
      refill();
      clearTimeout(refillLater);
      refillLater = setTimeout(refill, 2_000);
    },
    async close() {
      open = false;
      clearTimeout(refillLater);
      Object.assign(client.connectionStrategy, { maxRetry: 0 });
      await withTimeout(session.close(true), f.timeoutMs, () => new Error("close")).catch(() => {});
      await abandon();
    },
  };
  try {
    const dvs = await withTimeout(
      session.read([
        ...LIMIT_NODES.map(([, n]) => ({ nodeId: n, attributeId: lib.AttributeIds.Value })),
        { nodeId: "i=2255", attributeId: lib.AttributeIds.Value },
      ]),
      f.timeoutMs,
      timedOut,
    );
    for (const [i, [k]] of LIMIT_NODES.entries()) {
      const v = dvs[i]?.value?.value;
      if (typeof v === "number" && v > 0) c.limits[k] = v;
    }
    const ns = dvs[LIMIT_NODES.length]?.value?.value;
    if (Array.isArray(ns)) c.namespaces = ns.map(String);
  } catch (e) {
    await c.close();
    throw explainConnectError(what, e, f);
  }
  open = true;
  return c;
}

/**
 * Records which subscriptions the server transferred when node-opcua repairs the session with a
 * new one (its reconnection calls the session's own `transferSubscriptions`, callback form).
 */
function watchTransfers(session: ClientSession, into: Set<number>): void {
  type Res = { results?: { statusCode: { value: number } }[] | null } | undefined;
  type Req = { subscriptionIds?: number[] | null };
  const s = session as unknown as {
    transferSubscriptions(req: Req, cb?: (err: Error | null, res?: Res) => void): unknown;
  };
  const original = s.transferSubscriptions.bind(s);
  const note = (req: Req, res: Res) => {
    into.clear();
    for (const [k, r] of (res?.results ?? []).entries()) {
      const id = req.subscriptionIds?.[k];
      if (id !== undefined && (r.statusCode.value & 0xc0000000) === 0) into.add(id);
    }
  };
  s.transferSubscriptions = (req, cb) => {
    if (typeof cb !== "function") {
      return (original(req) as Promise<Res>).then((res) => (note(req, res), res));
    }
    return original(req, (err, res) => {
      if (!err) note(req, res);
      cb(err, res);
    });
  };
}

/** The session's user identity: anonymous, user name and password, or an X.509 certificate. */
async function identity(lib: OpcuaLib, f: OpcuaDevice): Promise<UserIdentityInfo> {
  if (f.userCertificate !== undefined && f.userPrivateKey !== undefined) {
    const pem = await Deno.readTextFile(f.userCertificate);
    const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    const certificateData = Buffer.from(b64, "base64");
    // node-opcua signs with the key given as PEM text.
    const privateKey = await Deno.readTextFile(f.userPrivateKey);
    return { type: lib.UserTokenType.Certificate, certificateData, privateKey } as never;
  }
  if (f.user !== undefined) {
    return {
      type: lib.UserTokenType.UserName,
      userName: f.user,
      password: f.password ?? "",
    } as const;
  }
  return { type: lib.UserTokenType.Anonymous } as const;
}

/** The thumbprint of a server certificate put in `rejected/` since `since` (ms), if any. */
async function newestRejected(pki: string, since: number): Promise<string | undefined> {
  try {
    let best: { at: number; name: string } | undefined;
    for await (const e of Deno.readDir(`${pki}/rejected`)) {
      const at = (await Deno.stat(`${pki}/rejected/${e.name}`)).mtime?.getTime() ?? 0;
      if (at >= since && (!best || at > best.at)) best = { at, name: e.name };
    }
    return best ? /\[([0-9a-f]{40})\]/i.exec(best.name)?.[1]?.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
