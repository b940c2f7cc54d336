/**
 * @module
 * Live tag values from a gateway's WebSocket (`GET /ws`, protocol in app/http/ws.ts):
 * subscribes to patterns, hands every snapshot and update to a callback, and reconnects
 * with a growing delay (0.5 s doubling to 10 s) when the connection drops. The WebSocket
 * constructor is given: the `ws` package in VS Code's extension host (Node 20 has no global
 * WebSocket), Deno's own in tests.
 */

import type { JsonValue } from "./gateway.ts";

/** A live value: `tag` is `device/tag`. */
export interface LiveValue {
  tag: string;
  value: JsonValue;
  quality: string;
  ts: number;
  reason?: string;
}

/** The part of a WebSocket this module uses. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(): void;
}

/** Opens a socket to `url` with these request headers (the bearer token). */
export type SocketFactory = (url: string, headers: Record<string, string>) => SocketLike;

/** Options of {@linkcode LiveFeed}. */
export interface LiveFeedOptions {
  url: string;
  headers: Record<string, string>;
  patterns: string[];
  open: SocketFactory;
  onValues: (values: LiveValue[]) => void;
  /** Connection state changes and protocol errors, for the UI. */
  onState?: (state: "connecting" | "open" | "closed", detail?: string) => void;
  /** Timers, given so tests control them (default: the global ones). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
}

/** The delay before reconnect attempt `n` (0-based), ms. */
export function reconnectDelay(n: number): number {
  return Math.min(10_000, 500 * 2 ** n);
}

/** A subscription that lives until {@linkcode LiveFeed.close}. */
export class LiveFeed {
  #o: LiveFeedOptions;
  #socket: SocketLike | undefined;
  #attempts = 0;
  #timer: unknown;
  #closed = false;
  /** Values replaced by newer ones before the gateway could send them. */
  dropped = 0;

  constructor(o: LiveFeedOptions) {
    this.#o = o;
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    this.#o.onState?.("connecting");
    let s: SocketLike;
    try {
      s = this.#o.open(this.#o.url, this.#o.headers);
    } catch (e) {
      this.#retry(e instanceof Error ? e.message : String(e));
      return;
    }
    this.#socket = s;
    s.onopen = () => {
      this.#attempts = 0;
      this.#o.onState?.("open");
      s.send(JSON.stringify({ type: "subscribe", patterns: this.#o.patterns, id: 1 }));
    };
    s.onmessage = (ev) => this.#message(ev.data);
    s.onerror = () => {};
    s.onclose = () => {
      if (this.#socket === s) this.#socket = undefined;
      this.#retry("connection closed");
    };
  }

  #retry(why: string): void {
    if (this.#closed) return;
    this.#o.onState?.("closed", why);
    const set = this.#o.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#timer = set(() => this.#connect(), reconnectDelay(this.#attempts++));
  }

  #message(data: unknown): void {
    const text = typeof data === "string" ? data : String(data);
    let m: { type?: string; values?: LiveValue[]; count?: number; message?: string };
    try {
      m = JSON.parse(text);
    } catch {
      this.#o.onState?.("open", `not JSON from the gateway: ${text.slice(0, 80)}`);
      return;
    }
    if ((m.type === "snapshot" || m.type === "update") && Array.isArray(m.values)) {
      if (m.values.length > 0) this.#o.onValues(m.values);
    } else if (m.type === "dropped" && typeof m.count === "number") {
      this.dropped += m.count;
    } else if (m.type === "error") {
      this.#o.onState?.("open", m.message ?? "error");
    }
  }

  /** Stops for good. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) (this.#o.clearTimer ?? clearTimeout)(this.#timer as number);
    const s = this.#socket;
    this.#socket = undefined;
    if (s) {
      s.onclose = null;
      s.close();
    }
  }
}
