/**
 * @module
 * The live-value hub behind `ws.ts`: the latest value of every watched tag, and per client
 * the tags it watches and the updates it has not been sent yet.
 *
 * Memory is bounded by the flows, never by traffic or a client's speed: the hub keeps one
 * entry per tag some client has watched (created when a pattern first matches it, kept
 * afterwards so that the next snapshot has its value), and a client's pending updates are a
 * set of those entries, at most one per tag: a newer value replaces the one not yet sent
 * (latest wins) and is counted as a drop. A client is sent to while its socket's
 * `bufferedAmount` is below a low-water mark; otherwise it waits, rechecked on a timer,
 * while its pending set keeps coalescing.
 *
 * A gateway batch costs one map lookup per device and per record, plus one set insertion
 * per record and watching client; the JSON of a changed value is built once, on the first
 * flush that needs it, and shared by every client, and so is the text of an update that
 * several clients get alike.
 */

import { type Batch, QUALITY_NAMES, type Value } from "../../engine/record.ts";
import type { Gateway } from "../../engine/runtime/gateway.ts";
import type { TagPattern } from "./glob.ts";

/** The socket side a client needs (a `WebSocket`, or a test double of its two members). */
export interface LiveSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
}

/** One watched tag and its latest value. */
class Entry {
  seen = false;
  value: Value = null;
  quality = 0;
  reason: string | undefined;
  ts = 0;
  /** The JSON of the value, built on demand and dropped when the value changes. */
  json: string | undefined;
  readonly clients = new Set<LiveClient>();
  readonly #head: string;

  constructor(readonly device: string, readonly tag: string) {
    this.#head = `{"tag":${JSON.stringify(`${device}/${tag}`)},"value":`;
  }

  toJSON(): string {
    if (this.json !== undefined) return this.json;
    const v = this.value;
    const value = typeof v === "bigint"
      ? `"${v}"`
      : typeof v === "number" && !Number.isFinite(v)
      ? "null"
      : JSON.stringify(v);
    const reason = this.reason === undefined ? "" : `,"reason":${JSON.stringify(this.reason)}`;
    return this.json = `${this.#head}${value},"quality":"${
      QUALITY_NAMES[this.quality] ?? "bad"
    }","ts":${this.ts}${reason}}`;
  }
}

/** Options of a {@linkcode LiveHub}. */
export interface LiveHubOptions {
  /** A client is sent to while its socket buffers less than this, bytes. */
  lowWaterBytes: number;
  /** How often a client waiting on a full buffer is checked, ms. */
  checkEveryMs: number;
}

/** One WebSocket client. */
export class LiveClient {
  readonly patterns = new Map<string, TagPattern>();
  readonly entries = new Set<Entry>();
  readonly pending = new Set<Entry>();
  /** Updates replaced before they were sent, not yet reported to the client. */
  dropped = 0;
  /** Updates replaced before they were sent, since the client connected. */
  droppedTotal = 0;
  #scheduled = false;

  constructor(readonly hub: LiveHub, readonly socket: LiveSocket) {}

  /** Notes a new value of `e`. */
  queue(e: Entry): void {
    if (this.pending.has(e)) {
      this.dropped++;
      this.droppedTotal++;
      this.hub.counters.dropped++;
    } else this.pending.add(e);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends what is pending if the socket has room; otherwise waits for the hub's check. */
  flush(): void {
    this.#scheduled = false;
    if (this.pending.size === 0 || this.socket.readyState !== 1) return;
    if (this.socket.bufferedAmount >= this.hub.options.lowWaterBytes) {
      this.hub.wait(this);
      return;
    }
    if (this.dropped > 0) {
      this.socket.send(`{"type":"dropped","count":${this.dropped}}`);
      this.dropped = 0;
    }
    const entries = [...this.pending];
    this.pending.clear();
    this.socket.send(this.hub.updateText(entries));
    this.hub.counters.updates++;
  }
}

/** The latest values of watched tags, fed by the gateway's tap. */
export class LiveHub {
  readonly clients = new Set<LiveClient>();
  /** Totals since the hub started, for `/metrics`. */
  readonly counters = {
    /** Clients accepted. */
    connections: 0,
    /** Clients refused (too many). */
    refused: 0,
    /** Update messages sent. */
    updates: 0,
    /** Values replaced before they could be sent (coalesced). */
    dropped: 0,
    /** Clients closed for not reading their messages. */
    slowClosed: 0,
  };
  #byDevice = new Map<string, Map<string, Entry>>();
  #waiting = new Set<LiveClient>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #untap: () => void;
  /** Bumped by every batch: the cached update text is for this version of the values. */
  #version = 0;
  #cache: { version: number; entries: Entry[]; text: string } | undefined;

  constructor(readonly gateway: Gateway, readonly options: LiveHubOptions) {
    this.#untap = gateway.tap((node, batch) => {
      if (gateway.polls.has(node) || gateway.subscriptions.has(node)) this.#onBatch(batch);
    });
  }

  #onBatch(b: Batch): void {
    if (this.#byDevice.size === 0) return; // nobody ever watched a tag: no cost
    this.#version++;
    let device: string | undefined;
    let tags: Map<string, Entry> | undefined;
    for (let i = 0; i < b.length; i++) {
      if (b.device[i] !== device) {
        device = b.device[i]!;
        tags = this.#byDevice.get(device);
      }
      const e = tags?.get(b.tag[i]!);
      if (e === undefined) continue;
      e.seen = true;
      e.value = b.value(i);
      e.quality = b.quality[i]!;
      e.reason = b.reason[i];
      e.ts = b.sourceTs[i]!;
      e.json = undefined;
      for (const c of e.clients) c.queue(e);
    }
  }

  /** Adds patterns to a client; returns the entries they newly match. */
  watch(c: LiveClient, patterns: readonly TagPattern[]): Entry[] {
    for (const p of patterns) c.patterns.set(p.source, p);
    const added: Entry[] = [];
    for (const [device, d] of this.gateway.flows.devices) {
      for (const tag of d.tags.keys()) {
        if (!patterns.some((p) => p.matches(device, tag))) continue;
        let tags = this.#byDevice.get(device);
        if (!tags) this.#byDevice.set(device, tags = new Map());
        let e = tags.get(tag);
        if (!e) tags.set(tag, e = new Entry(device, tag));
        if (c.entries.has(e)) continue;
        c.entries.add(e);
        e.clients.add(c);
        added.push(e);
      }
    }
    return added;
  }

  /** Removes patterns (all when `sources` is undefined); returns how many tags it unwatched. */
  unwatch(c: LiveClient, sources: readonly string[] | undefined): number {
    if (sources === undefined) c.patterns.clear();
    else for (const s of sources) c.patterns.delete(s);
    const keep = [...c.patterns.values()];
    let n = 0;
    for (const e of c.entries) {
      if (keep.some((p) => p.matches(e.device, e.tag))) continue;
      c.entries.delete(e);
      c.pending.delete(e);
      e.clients.delete(c);
      n++;
    }
    return n;
  }

  /**
   * The update message of `entries`. Clients watching the same tags flush the same entries
   * in the same order after a batch: the text built for the first is reused by the others
   * (checked entry by entry, which costs far less than building it again).
   */
  updateText(entries: readonly Entry[]): string {
    const c = this.#cache;
    if (c && c.version === this.#version && c.entries.length === entries.length) {
      let same = true;
      for (let i = 0; i < entries.length && same; i++) same = c.entries[i] === entries[i];
      if (same) return c.text;
    }
    const parts: string[] = [];
    for (const e of entries) parts.push(e.toJSON());
    const text = `{"type":"update","values":[${parts.join(",")}]}`;
    this.#cache = { version: this.#version, entries: entries as Entry[], text };
    return text;
  }

  /** The snapshot message of `entries` (those with a value). */
  snapshot(id: unknown, entries: readonly Entry[]): string {
    const parts: string[] = [];
    for (const e of entries) if (e.seen) parts.push(e.toJSON());
    const idPart = id === undefined ? "" : `"id":${JSON.stringify(id)},`;
    return `{"type":"snapshot",${idPart}"tags":${entries.length},"values":[${parts.join(",")}]}`;
  }

  /** Registers a client. */
  add(socket: LiveSocket): LiveClient {
    const c = new LiveClient(this, socket);
    this.clients.add(c);
    this.counters.connections++;
    return c;
  }

  /** Forgets a client (its socket closed). */
  remove(c: LiveClient): void {
    this.unwatch(c, undefined);
    this.clients.delete(c);
    this.#waiting.delete(c);
  }

  /** Puts a client whose buffer is full on the check list. */
  wait(c: LiveClient): void {
    this.#waiting.add(c);
    this.#timer ??= setTimeout(() => this.#check(), this.options.checkEveryMs);
  }

  #check(): void {
    this.#timer = undefined;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    // A client still full goes back on the list through flush().
    for (const c of waiting) c.flush();
  }

  /** Clients waiting for their socket's buffer to drain. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Stops listening to the gateway. */
  close(): void {
    this.#untap();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#waiting.clear();
  }
}
