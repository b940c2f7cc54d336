/**
 * @module
 * The `opcua` Driver: one session to one server. Reads by the Read service in batches under
 * the server's MaxNodesPerRead, writes checked against the node's DataType, ValueRank and
 * access level, subscriptions (see `subscribe.ts`) and one level of browse. Status codes are
 * the quality: Bad is a bad tag with the code's name as the reason.
 *
 * A lost connection is parked, not closed (see `session.ts` and `park.ts`): the engine's next
 * `connect()` waits for node-opcua to restore the session and takes it back, with the
 * subscriptions the engine then subscribes again; a connection not restored within
 * {@linkcode MAX_PARK_MS} (or the session timeout, twice, if longer) is closed and a new one
 * opened.
 */

import {
  BifrostError,
  type BrowseNode,
  type DeviceConfig,
  type Driver,
  type DriverContext,
  type ReadPlan,
  type ReadSink,
  ResultArraySink,
  type Subscription,
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import { deviceFields, type OpcuaDevice } from "../core/spec.ts";
import { severity, statusError } from "../core/status.ts";
import { parseType, scalarKind, typeName, variantValue } from "../core/types.ts";
import { withTimeout } from "./load.ts";
import type { DriverHost } from "./host.ts";
import { OpcuaPlan } from "./plan.ts";
import { browseChildren, resolveAll, type Resolved } from "./resolve.ts";
import { type Connection, openConnection } from "./session.ts";
import { subscribePlan } from "./subscribe.ts";
import { SubscriptionPark } from "./park.ts";
import { nodeInfo, writeTag } from "./write.ts";
import { alarmAction } from "./events.ts";
import type { DataValue } from "node-opcua-client";

/** The longest a lost connection is waited for before a new one is opened, ms. */
export const MAX_PARK_MS = 120_000;

/** How a resumed connection came back: the same session, or a new one. */
export type ResumeKind = "reactivated" | "transferred" | "recreated";

/** One Read request of a plan: the tags' indexes and their ReadValueIds. */
interface ReadBatch {
  indexes: number[];
  nodes: { nodeId: string; attributeId: number }[];
}

/** The driver of one OPC UA server. */
export class OpcuaDriver implements Driver, DriverHost {
  readonly maxInFlight = 4;
  readonly device: DeviceConfig;
  readonly fields: OpcuaDevice;
  readonly ctx: DriverContext;
  #conn: Connection | undefined;
  #lost: string | undefined;
  #resolved = new WeakMap<ReadPlan, { conn: Connection; ids: Resolved[] }>();
  /** Monitored items held by this session's live subscriptions. */
  monitored = 0;
  readonly park: SubscriptionPark = new SubscriptionPark();
  /** A lost connection that node-opcua is repairing, and its session id when it was lost. */
  #parked: { conn: Connection; at: number; sessionId: string; subs: number[] } | undefined;
  /** How each resume went, oldest first (tests, health). */
  readonly resumes: ResumeKind[] = [];

  constructor(device: DeviceConfig, ctx: DriverContext) {
    this.device = device;
    this.fields = deviceFields(device.config);
    this.ctx = ctx;
  }

  /** The open connection (tests, tools). */
  get connection(): Connection | undefined {
    return this.#conn;
  }

  trace(msg: string, fields: Record<string, unknown>): void {
    this.ctx.log.debug(msg, fields);
  }

  parking(): boolean {
    return this.#lost !== undefined && this.#conn !== undefined;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#conn) await this.close();
    if (this.#parked && await this.#resume(this.#parked, signal)) return;
    this.#lost = undefined;
    const conn = await openConnection({
      device: this.device.name,
      fields: this.fields,
      signal,
      onLost: (reason) => {
        this.trace("Connection lost", { reason, ours: this.#conn === conn });
        if (this.#conn !== conn) return;
        this.#lost = reason;
        this.ctx.connectionLost?.(reason);
      },
      onWarn: (line) => this.ctx.log.warn(line),
      log: this.ctx.log,
    });
    this.#conn = conn;
    this.monitored = 0;
  }

  /** Waits for node-opcua to restore a parked connection; true when it is live again. */
  async #resume(
    p: { conn: Connection; at: number; sessionId: string; subs: number[] },
    signal: AbortSignal,
  ): Promise<boolean> {
    const f = this.fields;
    const end = Date.now() + Math.max(f.timeoutMs * 2, 10_000);
    while (Date.now() < end && !signal.aborted) {
      if (await p.conn.probe(Math.min(f.timeoutMs, 5_000))) {
        this.#parked = undefined;
        this.#lost = undefined;
        this.#conn = p.conn;
        p.conn.rearm();
        const sid = p.conn.sessionId();
        const how: ResumeKind = sid === p.sessionId
          ? "reactivated"
          : p.subs.length > 0 && p.subs.every((id) => p.conn.transferred.has(id))
          ? "transferred"
          : "recreated";
        this.resumes.push(how);
        if (this.resumes.length > 100) this.resumes.shift();
        this.ctx.log.debug("Session resumed", {
          how,
          awayMs: Date.now() - p.at,
          parkedSubscriptions: this.park.size,
        });
        this.park.sweepLater();
        return true;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    signal.throwIfAborted();
    if (Date.now() - p.at < Math.max(MAX_PARK_MS, f.sessionTimeoutMs * 2)) {
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot reconnect to "${this.device.name}" at ${f.endpoint}: the session is not restored yet (away ${
          Math.round((Date.now() - p.at) / 1000)
        } s; node-opcua keeps trying)`,
      );
    }
    this.ctx.log.warn("Session not restored in time; opening a new one", {
      awayMs: Date.now() - p.at,
    });
    await this.#dropParked();
    return false;
  }

  async #dropParked(): Promise<void> {
    const p = this.#parked;
    this.#parked = undefined;
    this.park.clear();
    this.monitored = 0;
    await p?.conn.close();
  }

  async close(): Promise<void> {
    const c = this.#conn;
    this.#conn = undefined;
    if (c && this.#lost !== undefined) {
      // Lost: node-opcua repairs it; the next connect() takes it back.
      const engine = (c.session as unknown as {
        getPublishEngine?(): { getSubscriptionIds(): number[] };
      }).getPublishEngine?.();
      const subs = engine?.getSubscriptionIds() ?? [];
      this.#parked = { conn: c, at: Date.now(), sessionId: c.sessionId(), subs };
      return;
    }
    this.monitored = 0;
    await c?.close();
    await this.#dropParked();
  }

  plan(tags: readonly TagConfig[]): OpcuaPlan {
    return new OpcuaPlan(tags);
  }

  /** The live connection, or NOT_CONNECTED. */
  live(): Connection {
    const c = this.#conn;
    if (!c || this.#lost !== undefined) {
      throw new BifrostError(
        "NOT_CONNECTED",
        `Device "${this.device.name}" is not connected${this.#lost ? `: ${this.#lost}` : ""}`,
      );
    }
    return c;
  }

  /** A service call bounded by the device's timeout; a broken channel is NOT_CONNECTED. */
  async call<T>(what: string, p: Promise<T>): Promise<T> {
    try {
      return await withTimeout(p, this.fields.timeoutMs, () =>
        new BifrostError(
          "TIMEOUT",
          `${what}: no answer from "${this.device.name}" within ${this.fields.timeoutMs} ms`,
        ));
    } catch (e) {
      if (e instanceof BifrostError) throw e;
      const text = e instanceof Error ? e.message : String(e);
      if (
        this.#lost !== undefined ||
        /closed|disconnect|BadConnection|BadSecureChannel|BadSession|BadNotConnected|invalid channel|premature/i
          .test(text)
      ) {
        throw new BifrostError("NOT_CONNECTED", `${what}: ${text.split("\n")[0]}`, { cause: e });
      }
      throw new BifrostError("DEVICE_EXCEPTION", `${what}: ${text.split("\n")[0]}`, { cause: e });
    }
  }

  /** The NodeIds of a plan's tags on this connection (browse paths resolved once). */
  async ids(c: Connection, plan: ReadPlan): Promise<Resolved[]> {
    const known = this.#resolved.get(plan);
    if (known && known.conn === c) return known.ids;
    const map = await this.call(
      `Cannot resolve the tags of "${this.device.name}"`,
      resolveAll(c, plan.tags.map((t) => t.address)),
    );
    const ids = plan.tags.map((t) => map.get(t.address)!);
    this.#resolved.set(plan, { conn: c, ids });
    return ids;
  }

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    const sink = new ResultArraySink(plan.tags.length);
    await this.readInto(plan, signal, sink);
    return sink.results;
  }

  async readInto(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void> {
    const c = this.live();
    const p = plan instanceof OpcuaPlan ? plan : new OpcuaPlan(plan.tags);
    const { batches, invalid } = await this.#batches(c, p);
    for (const [i, why] of invalid) sink.fail(i, this.#tagError("CONFIG_INVALID", p.tags[i]!, why));
    for (let b = 0; b < batches.length; b++) {
      signal.throwIfAborted();
      const { indexes, nodes } = batches[b]!;
      let dvs: DataValue[];
      try {
        dvs = await this.call(
          `Cannot read ${indexes.length} node(s) of "${this.device.name}"`,
          c.session.read(nodes, 0),
        );
      } catch (e) {
        if (e instanceof BifrostError && e.code === "NOT_CONNECTED") throw e;
        // A silent server fails the rest of the poll at once, not one timeout per batch.
        const timedOut = (e as BifrostError).code === "TIMEOUT";
        for (const q of timedOut ? batches.slice(b) : [batches[b]!]) {
          for (const i of q.indexes) sink.fail(i, e as BifrostError);
        }
        if (timedOut) return;
        continue;
      }
      const now = Date.now();
      for (let k = 0; k < indexes.length; k++) this.deliver(p, indexes[k]!, dvs[k], sink, now);
    }
  }

  #plans = new WeakMap<
    ReadPlan,
    { conn: Connection; batches: ReadBatch[]; invalid: [number, string][] }
  >();

  /** The Read requests of a plan on this connection, under MaxNodesPerRead (made once). */
  async #batches(c: Connection, p: OpcuaPlan) {
    const known = this.#plans.get(p);
    if (known && known.conn === c) return known;
    const ids = await this.ids(c, p);
    const todo: number[] = [];
    const invalid: [number, string][] = [];
    for (const [i, r] of ids.entries()) {
      if (!r.ok) invalid.push([i, r.why]);
      else if (p.tags[i]!.type === "Event") {
        invalid.push([i, "an Event tag is read by a subscribe: poll, not polled"]);
      } else todo.push(i);
    }
    const per = c.limits.maxNodesPerRead > 0 ? c.limits.maxNodesPerRead : todo.length || 1;
    const attributeId = c.lib.AttributeIds.Value;
    const batches: ReadBatch[] = [];
    for (let at = 0; at < todo.length; at += per) {
      const indexes = todo.slice(at, at + per);
      batches.push({
        indexes,
        nodes: indexes.map((i) => ({ nodeId: (ids[i] as { nodeId: string }).nodeId, attributeId })),
      });
    }
    const entry = { conn: c, batches, invalid };
    this.#plans.set(p, entry);
    return entry;
  }

  /** Reports one DataValue of tag `i` of `plan`. */
  deliver(plan: OpcuaPlan, i: number, dv: DataValue | undefined, sink: ReadSink, now: number) {
    const tag = plan.tags[i]!;
    if (!dv) {
      return sink.fail(i, this.#tagError("DEVICE_EXCEPTION", tag, "the server sent no value"));
    }
    const code = dv.statusCode.value;
    if (severity(code) === "bad") {
      return sink.fail(
        i,
        statusError(this.#what(tag), code, dv.statusCode.name, dv.statusCode.description),
      );
    }
    const v = dv.value;
    const ts = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? now;
    const isArray = v.arrayType !== 0;
    const declared = plan.types[i]!;
    const got = typeName(v.dataType);
    if (declared.scalar !== "auto" && v.dataType !== 0) {
      if (
        isArray !== declared.array ||
        (got !== undefined && scalarKind(got) !== scalarKind(declared.scalar))
      ) {
        return sink.fail(
          i,
          this.#tagError(
            "DEVICE_EXCEPTION",
            tag,
            `the node holds ${got ?? `DataType ${v.dataType}`}${
              isArray ? "[]" : ""
            }, the tag declares ${tag.type} (set type: ${got ?? "auto"}${isArray ? "[]" : ""})`,
          ),
        );
      }
    }
    // An Uncertain* status keeps the value: uncertain, its reason the code's name.
    const uncertain = severity(code) === "uncertain" ? dv.statusCode.name : undefined;
    sink.value(i, variantValue(v.dataType, v.value, isArray), ts, uncertain);
  }

  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    if (!tag.writable) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot write ${
          JSON.stringify(value)
        } to "${tag.name}" on "${this.device.name}": the tag is not writable (set writable: true)`,
      );
    }
    signal.throwIfAborted();
    const c = this.live();
    const plan = this.#writePlans.get(tag) ?? new OpcuaPlan([tag]);
    this.#writePlans.set(tag, plan);
    const [id] = await this.ids(c, plan);
    if (!id!.ok) throw this.#tagError("CONFIG_INVALID", tag, id!.why);
    if (tag.type === "Event") return await alarmAction(this, c, tag, value);
    const info = await this.call(
      `Cannot write "${tag.name}" on "${this.device.name}"`,
      nodeInfo(this, c, id!.nodeId),
    );
    await writeTag(this, c, tag, parseType(tag.type), id!.nodeId, info, value);
  }

  #writePlans = new WeakMap<TagConfig, OpcuaPlan>();

  async subscribe(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
    options: Record<string, unknown>,
  ): Promise<Subscription> {
    return await subscribePlan(
      this,
      plan instanceof OpcuaPlan ? plan : new OpcuaPlan(plan.tags),
      sink,
      signal,
      options,
    );
  }

  async browse(node: string | undefined, _signal: AbortSignal): Promise<BrowseNode[]> {
    const c = this.live();
    const what = `Cannot browse ${node ?? "/Objects"} on "${this.device.name}"`;
    const kids = await this.call(what, browseChildren(c, node ?? "i=85"));
    const vars = kids.filter((k) => k.nodeClass === 2);
    const nodes = vars.flatMap((k) => [
      { nodeId: k.id, attributeId: c.lib.AttributeIds.DataType },
      { nodeId: k.id, attributeId: c.lib.AttributeIds.ValueRank },
      { nodeId: k.id, attributeId: c.lib.AttributeIds.UserAccessLevel },
    ]);
    // Under the server's MaxNodesPerRead (a batch of whole nodes), all batches at once.
    const per = c.limits.maxNodesPerRead > 0
      ? Math.max(3, c.limits.maxNodesPerRead - c.limits.maxNodesPerRead % 3)
      : nodes.length || 1;
    const batches: (typeof nodes)[] = [];
    for (let at = 0; at < nodes.length; at += per) batches.push(nodes.slice(at, at + per));
    const attrs = (await Promise.all(
      batches.map((b) => this.call(what, c.session.read(b))),
    )).flat();
    const out: BrowseNode[] = [];
    const varIndex = new Map(vars.map((k, i) => [k, i]));
    for (const k of kids) {
      const n: BrowseNode = { id: k.nodeId, name: k.name, hasChildren: k.nodeClass !== 2 };
      const vi = varIndex.get(k) ?? -1;
      if (vi >= 0) {
        const dt = attrs[vi * 3]?.value?.value as
          | { namespace?: number; value?: unknown }
          | undefined;
        const rank = attrs[vi * 3 + 1]?.value?.value as number | undefined;
        const access = attrs[vi * 3 + 2]?.value?.value as number | undefined;
        const scalar = dt && dt.namespace === 0 ? typeName(Number(dt.value)) : undefined;
        n.address = k.nodeId;
        if (scalar) {
          const array = typeof rank === "number" && rank >= 1;
          n.type = array ? `${scalar}[]` : scalar;
          n.kind = array ? "array" : scalarKind(scalar);
        }
        n.writable = typeof access === "number" && (access & 2) !== 0;
        n.hasChildren = false;
      }
      if (k.display && k.display !== k.name) n.description = k.display;
      out.push(n);
    }
    return out;
  }

  #what(tag: TagConfig): string {
    return `Cannot read "${tag.name}" (${tag.address}) on "${this.device.name}"`;
  }

  #tagError(
    code: "CONFIG_INVALID" | "DEVICE_EXCEPTION",
    tag: TagConfig,
    why: string,
  ): BifrostError {
    return new BifrostError(code, `${this.#what(tag)}: ${why}`);
  }
}
