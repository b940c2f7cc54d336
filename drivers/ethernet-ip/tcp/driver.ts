/**
 * @module
 * The `ethernet-ip` Driver: a {@linkcode CipClient} to one controller, reads by the plan's
 * packets (Multiple Service Packet, Read Tag, Read Tag Fragmented), writes by Write Tag
 * (fragmented when large; Read-Modify-Write for bits), and one level of browse.
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
  type TagConfig,
  type TagResult,
  type Value,
} from "../../../engine/plugin.ts";
import {
  readReply,
  readTagFragmented,
  readTemplateAttributes,
  type Reply,
  splitMultiple,
  type SymbolEntry,
  templateAttributes,
} from "../core/cip.ts";
import { decodeTag, wireType } from "../core/decode.ts";
import { type MemberSlot, memberValue, parentKey, slotOf, structRead } from "../core/struct.ts";
import { STRING_HANDLE } from "../core/types.ts";
import { EipPlan, type Packet, planPackets } from "../core/plan.ts";
import { deviceFields, type EipDevice } from "../core/spec.ts";
import { describeStatus } from "../core/status.ts";
import { indexesOf, pathOf, type ResolvedTag, resolveTag } from "../core/tags.ts";
import { CipClient } from "./client.ts";
import { writeValue } from "./write.ts";

/** The driver of one Logix controller. */
export class EipDriver implements Driver {
  readonly maxInFlight = 1;
  readonly device: DeviceConfig;
  readonly fields: EipDevice;
  #ctx: DriverContext;
  #client: CipClient | undefined;
  #structPlans = new WeakMap<EipPlan, EipPlan>();
  /** The plan a read plan runs as on this connection (sized, structures), made on its first read. */
  #ready = new WeakMap<ReadPlan, EipPlan>();
  #noStructs = false;

  constructor(device: DeviceConfig, ctx: DriverContext) {
    this.device = device;
    this.fields = deviceFields(device.config);
    this.#ctx = ctx;
  }

  /** The open client (tests, tools). */
  get client(): CipClient | undefined {
    return this.#client;
  }

  async connect(signal: AbortSignal): Promise<void> {
    this.#client?.close();
    const f = this.fields;
    const client = new CipClient({
      ...f,
      name: this.device.name,
      onLost: (reason) => this.#ctx.connectionLost?.(reason),
      onWarn: (line) => this.#ctx.log.warn(line),
    });
    await client.connect(signal);
    this.#client = client;
    // Templates may have changed while disconnected (a download): learn them again.
    this.#structPlans = new WeakMap();
    this.#ready = new WeakMap();
    this.#noStructs = false;
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.closeGracefully();
  }

  plan(tags: readonly TagConfig[]): EipPlan {
    return makePlan(tags, this.fields.connected ? this.fields.connectionSize : 504);
  }

  /** The live client, or NOT_CONNECTED. */
  live(): CipClient {
    const c = this.#client;
    if (!c) {
      throw new BifrostError("NOT_CONNECTED", `Device "${this.device.name}" is not connected`);
    }
    return c;
  }

  async read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]> {
    const sink = new ResultArraySink(plan.tags.length);
    await this.readInto(plan, signal, sink);
    return sink.results;
  }

  readInto(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void> {
    // The hot path: a plan read before on this connection whose one packet is a plain request
    // is one `requestWith` (no async frame of its own; the reply decoded where it arrives).
    const client = this.#client;
    const p = client === undefined ? undefined : this.#ready.get(plan);
    if (p !== undefined && p.packets.length === 1 && p.invalid.size === 0) {
      const packet = p.packets[0]!;
      if (packet.kind !== "fragmented") {
        return client!.requestWith(
          packet.request,
          signal,
          this.#onReply,
          packet,
          sink,
          this.#onFail,
        );
      }
    }
    return this.#readAll(plan, signal, sink);
  }

  async #readAll(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void> {
    const client = this.live();
    let p = this.#ready.get(plan);
    if (p === undefined) {
      p = plan as EipPlan;
      // Planned for the configured size; a controller that granted less gets a plan of its
      // own, made once per plan and connection like the structure plan.
      if (p.size > client.size) p = makePlan(plan.tags, client.size);
      p = this.#structPlans.get(p) ?? await this.#withStructs(p, client, signal);
      if (this.#client === client) this.#ready.set(plan, p);
    }
    if (p.invalid.size > 0) {
      for (const [i, why] of p.invalid) {
        sink.fail(i, this.#error("CONFIG_INVALID", plan.tags[i]!, why));
      }
    }
    const packets = p.packets;
    for (let k = 0; k < packets.length; k++) {
      const packet = packets[k]!;
      try {
        if (packet.kind === "fragmented") await this.#readPacket(client, packet, signal, sink);
        else await client.requestWith(packet.request, signal, this.#onReply, packet, sink);
      } catch (e) {
        if (this.#failFrom(e, packets, k, sink)) return;
      }
    }
  }

  /**
   * Fails the tags of packet `k` (of every packet from `k` on when the controller is silent:
   * one timeout per poll, not per packet); true when the rest of the poll is failed. A lost
   * connection is thrown for the engine.
   */
  #failFrom(e: unknown, packets: readonly Packet[], k: number, sink: ReadSink): boolean {
    if (e instanceof BifrostError && e.code === "NOT_CONNECTED") throw e;
    const err = e instanceof BifrostError ? e : new BifrostError(
      "DEVICE_EXCEPTION",
      `Cannot read from "${this.device.name}": ${(e as Error).message}`,
      { cause: e },
    );
    const failed = err.code === "TIMEOUT" ? packets.slice(k) : [packets[k]!];
    for (const q of failed) {
      for (const t of q.tags) for (const i of indexesOf(t)) sink.fail(i, err);
    }
    return err.code === "TIMEOUT";
  }

  async #readPacket(
    client: CipClient,
    packet: Packet,
    signal: AbortSignal,
    sink: ReadSink,
  ): Promise<void> {
    if (packet.kind === "fragmented") {
      const t = packet.tags[0]!;
      const data = await this.#fragmented(client, t, signal);
      this.#deliver(t, { service: 0x52, status: 0, extended: [], data }, sink, Date.now());
      return;
    }
    await client.requestWith(packet.request, signal, this.#onReply, packet, sink);
  }

  /** Fails the tags of the one packet of a plan read on the hot path (see `readInto`). */
  #onFail = (e: Error, packet: Packet, sink: ReadSink): void => {
    this.#failFrom(e, [packet], 0, sink);
  };

  /** Decodes a reply borrowed from the client's buffer into the sink (see `requestWith`). */
  #onReply = (r: Reply, packet: Packet, sink: ReadSink): void => {
    const now = Date.now();
    if (packet.kind === "single") return this.#deliver(packet.tags[0]!, r, sink, now);
    if (r.status !== 0 && r.status !== 0x1e) {
      const err = this.#cipError("read", packet.tags.map((t) => t.tag.name).join(", "), r);
      for (const t of packet.tags) for (const i of indexesOf(t)) sink.fail(i, err);
      return;
    }
    const replies = splitMultiple(r.data);
    for (const [i, t] of packet.tags.entries()) {
      const b = replies[i];
      if (!b) {
        sink.fail(
          t.index,
          this.#error("DEVICE_EXCEPTION", t.tag, "the Multiple Service reply has no answer for it"),
        );
      } else this.#deliver(t, readReply(b), sink, now);
    }
  };

  async #fragmented(client: CipClient, t: ResolvedTag, signal: AbortSignal): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let offset = 0;
    let head: Uint8Array | undefined;
    for (let guard = 0; guard < 100_000; guard++) {
      const r = await client.request(readTagFragmented(pathOf(t), t.requestCount, offset), signal);
      if (r.status !== 0 && r.status !== 0x06) throw this.#cipError("read", t.tag.name, r);
      const typeLen = r.data[0] === 0xa0 && r.data[1] === 0x02 ? 4 : 2;
      head ??= r.data.slice(0, typeLen);
      const body = r.data.subarray(typeLen);
      parts.push(body.slice());
      offset += body.length;
      if (r.status === 0) break;
      if (body.length === 0) {
        throw this.#error("DEVICE_EXCEPTION", t.tag, "a fragment came back empty");
      }
    }
    const out = new Uint8Array((head?.length ?? 0) + offset);
    out.set(head ?? new Uint8Array(0));
    let at = head?.length ?? 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  #deliver(t: ResolvedTag, r: Reply, sink: ReadSink, now: number): void {
    if (t.members) return this.#deliverStruct(t, r, sink, now);
    if (r.status !== 0) {
      return sink.fail(t.index, this.#cipError("read", t.tag.name, r, t.tag.address));
    }
    try {
      sink.value(t.index, decodeTag(t, r.data), now);
    } catch (e) {
      sink.fail(t.index, this.#error("DEVICE_EXCEPTION", t.tag, (e as Error).message));
    }
  }

  #deliverStruct(t: ResolvedTag, r: Reply, sink: ReadSink, now: number): void {
    const members = t.members!;
    if (r.status !== 0) {
      const err = this.#cipError("read", t.tag.name, r, t.address.text);
      for (const m of members) sink.fail(m.t.index, err);
      return;
    }
    let body: Uint8Array | undefined;
    try {
      const { wire, body: b } = wireType(r.data);
      if (!("struct" in wire) || wire.struct !== t.handle) {
        throw new RangeError(
          `${t.address.text} is not the structure its template describes (handle changed: download?)`,
        );
      }
      body = b;
    } catch (e) {
      for (const m of members) {
        sink.fail(m.t.index, this.#error("DEVICE_EXCEPTION", m.t.tag, (e as Error).message));
      }
      // The controller changed: the members are read one by one until the next connect.
      this.#structPlans = new WeakMap();
      this.#ready = new WeakMap();
      this.#noStructs = true;
      return;
    }
    for (const m of members) {
      try {
        sink.value(m.t.index, memberValue(m, body), now);
      } catch (e) {
        sink.fail(m.t.index, this.#error("DEVICE_EXCEPTION", m.t.tag, (e as Error).message));
      }
    }
  }

  /**
   * The plan with members of one structure read as the whole structure, when the controller
   * gives templates (made once per plan and connection); the plan itself otherwise.
   */
  async #withStructs(p: EipPlan, client: CipClient, signal: AbortSignal): Promise<EipPlan> {
    const have = this.#structPlans.get(p);
    if (have) return have;
    let out = p;
    const groups = new Map<string, ResolvedTag[]>();
    for (const t of p.resolved) {
      const k = parentKey(t);
      if (k) groups.set(k, [...(groups.get(k) ?? []), t]);
    }
    const slotted = new Set<ResolvedTag>();
    const reads: ResolvedTag[] = [];
    if (!this.#noStructs && [...groups.values()].some((g) => g.length > 1)) {
      const { listScope, template } = await import("./browse.ts");
      const scopes = new Map<string, SymbolEntry[] | undefined>();
      for (const g of groups.values()) {
        if (g.length < 2) continue;
        const a = g[0]!.address;
        const scope = a.program ?? "";
        if (!scopes.has(scope)) {
          scopes.set(scope, await listScope(client, a.program, signal).catch(() => undefined));
        }
        const sym = scopes.get(scope)?.find((s) =>
          s.name.toLowerCase() === a.parts[0]!.name.toLowerCase()
        );
        if (!sym || (sym.type & 0x8000) === 0) continue;
        const tpl = await template(client, sym.type & 0x0fff, signal).catch(() => undefined);
        if (!tpl || tpl.handle === STRING_HANDLE) continue;
        const slots: MemberSlot[] = [];
        for (const t of g) {
          const m = tpl.members.find((x) =>
            x.name.toLowerCase() === t.address.parts[1]!.name.toLowerCase()
          );
          let isString = false;
          if (m?.template !== undefined) {
            const sub = await template(client, m.template, signal).catch(() => undefined);
            isString = sub?.handle === STRING_HANDLE || sub?.name === "STRING";
          }
          const slot = slotOf(t, m, isString);
          if (slot) slots.push(slot);
        }
        if (slots.length < 2) continue;
        const size = await this.#structSize(client, sym.type & 0x0fff, signal);
        if (size === undefined) continue;
        for (const s of slots) slotted.add(s.t);
        reads.push(structRead(slots, tpl.handle, size));
      }
    }
    if (reads.length > 0) {
      const rest = p.resolved.filter((t) => !slotted.has(t));
      out = new EipPlan(
        p.tags,
        planPackets([...reads, ...rest], p.size),
        p.invalid,
        p.size,
        p.resolved,
      );
    }
    this.#structPlans.set(p, out);
    return out;
  }

  async #structSize(
    client: CipClient,
    id: number,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const r = await client.request(templateAttributes(id), signal).catch(() => undefined);
    if (!r || r.status !== 0) return undefined;
    return readTemplateAttributes(r.data).structureSize;
  }

  #error(code: "DEVICE_EXCEPTION" | "CONFIG_INVALID", tag: TagConfig, why: string): BifrostError {
    return new BifrostError(
      code,
      `Cannot read "${tag.name}" (${tag.address}) on "${this.device.name}": ${why}`,
    );
  }

  #cipError(what: string, tags: string, r: Reply, address?: string): BifrostError {
    const status = describeStatus(r.status, r.extended);
    return new BifrostError(
      "DEVICE_EXCEPTION",
      `Cannot ${what} "${tags}"${
        address ? ` (${address})` : ""
      } on "${this.device.name}": ${status}`,
      { details: { protocol: "ethernet-ip", code: r.status, name: status, extended: r.extended } },
    );
  }

  async write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void> {
    if (!tag.writable) {
      throw new BifrostError(
        "WRITE_REJECTED",
        `Cannot write "${this.device.name}/${tag.name}": the tag is not writable (set writable: true in the flow)`,
      );
    }
    await writeValue(this.device.name, this.live(), tag, value, signal);
  }

  async browse(node: string | undefined, signal: AbortSignal): Promise<BrowseNode[]> {
    const { browseLevel } = await import("./browse.ts");
    return await browseLevel(this.live(), node, signal);
  }
}

/** The plan of `tags` for a connection of `size` bytes. */
export function makePlan(tags: readonly TagConfig[], size: number): EipPlan {
  const resolved: ResolvedTag[] = [];
  const invalid = new Map<number, string>();
  for (const [i, t] of tags.entries()) {
    try {
      resolved.push(resolveTag(t, i));
    } catch (e) {
      invalid.set(i, (e as Error).message);
    }
  }
  return new EipPlan(tags, planPackets(resolved, size), invalid, size, resolved);
}
