/**
 * @module
 * A client of one gateway's HTTP API (`/api/v1`, see app/http/api.ts): devices, tags,
 * reads, writes, running flows, counters, history and the Prometheus text of `/metrics`,
 * with the token as a bearer. Errors carry the gateway's own code and message. `fetch` is
 * given, so the same code runs in VS Code's extension host and in Deno's tests.
 */

import type { GatewayCheck } from "./check_source.ts";

/** A device and its health (`GET /devices`). */
export interface DeviceInfo {
  name: string;
  driver: string;
  state: string;
  since: number;
  lastError?: string;
  latencyMs?: number;
  answering: boolean;
  reads: number;
  readErrors: number;
  timeouts: number;
  connectFailures: number;
  tags: number;
}

/** A JSON value as the API sends it (64-bit integers as strings). */
export type JsonValue = number | string | boolean | null | JsonValue[] | {
  [k: string]: JsonValue;
};

/** A tag and its last value (`GET /tags`). */
export interface TagInfo {
  device: string;
  name: string;
  type: string;
  kind?: string;
  writable: boolean;
  unit?: string;
  description?: string;
  value?: JsonValue;
  quality?: string;
  reason?: string;
  sourceTs?: number;
}

/** One result of `POST /read` or `POST /write`. */
export interface ItemResult {
  device: string;
  tag: string;
  ok: boolean;
  value?: JsonValue;
  previous?: JsonValue;
  quality?: string;
  error?: { code: string; message: string };
}

/** `GET /stats`. */
export interface Stats {
  polls: Record<string, Record<string, number>>;
  subscriptions: Record<string, Record<string, number>>;
  steps: Record<string, Record<string, number>>;
  sinks: Record<string, { use: string; counters: Record<string, number> }>;
}

/** `GET /flows`. */
export interface FlowsInfo {
  revision: string;
  valid: boolean;
  errors: string[];
  dir: string;
  files: string[];
  devices: number;
  polls: number;
  steps: number;
  sinks: number;
}

/** `GET /history`. */
export interface History {
  device: string;
  tag: string;
  sink: string;
  from: number;
  to: number;
  downsampled: boolean;
  records: number;
  truncated: boolean;
  points: {
    ts: number;
    value: JsonValue;
    min?: number;
    max?: number;
    count: number;
    quality: string;
  }[];
}

/** An error the gateway answered, or a failure to reach it. */
export class GatewayError extends Error {
  /** HTTP status; 0 when the gateway could not be reached. */
  readonly status: number;
  /** The gateway's error code (`NOT_FOUND`, `WRITE_REJECTED`…) or `UNREACHABLE`. */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.code = code;
  }
}

/** The `fetch` the client uses. */
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of {@linkcode GatewayClient}. */
export interface GatewayClientOptions {
  /** e.g. `http://127.0.0.1:8720` (a trailing `/api/v1` is accepted). */
  url: string;
  token?: string;
  fetch?: Fetch;
  /** Per request, ms (default 10,000). */
  timeoutMs?: number;
}

/** A gateway's base URL without a trailing slash or `/api/v1`; throws on a bad URL. */
export function normalizeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new TypeError(`Invalid gateway URL "${url}": expected e.g. http://127.0.0.1:8720`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`Invalid gateway URL "${url}": the scheme must be http or https`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "")}`;
}

/** The live WebSocket URL of a gateway. */
export function liveUrl(base: string): string {
  return `${normalizeUrl(base).replace(/^http/, "ws")}/ws`;
}

/** A client of one gateway. */
export class GatewayClient {
  readonly url: string;
  #token: string | undefined;
  #fetch: Fetch;
  #timeout: number;

  constructor(o: GatewayClientOptions) {
    this.url = normalizeUrl(o.url);
    this.#token = o.token || undefined;
    this.#fetch = o.fetch ?? ((i, init) => fetch(i, init));
    this.#timeout = o.timeoutMs ?? 10_000;
  }

  /** Request headers (the bearer token when there is one). */
  headers(): Record<string, string> {
    return this.#token ? { Authorization: `Bearer ${this.#token}` } : {};
  }

  async #request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = this.#timeout,
  ): Promise<Response> {
    const url = `${this.url}${path}`;
    let res: Response;
    try {
      res = await this.#fetch(url, {
        method,
        headers: {
          ...this.headers(),
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new GatewayError(0, "UNREACHABLE", `Cannot reach the gateway at ${this.url}: ${why}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let code = `HTTP_${res.status}`;
      let message = text.slice(0, 300) || res.statusText;
      try {
        const j = JSON.parse(text) as { error?: { code?: string; message?: string } | string };
        if (typeof j.error === "string") message = j.error;
        else if (j.error) {
          code = j.error.code ?? code;
          message = j.error.message ?? message;
        }
      } catch { /* not JSON: keep the text */ }
      throw new GatewayError(res.status, code, `${method} ${path}: ${message}`);
    }
    return res;
  }

  async #json<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    return await (await this.#request(method, `/api/v1${path}`, body, timeoutMs)).json() as T;
  }

  /** Every device with its health. */
  async devices(): Promise<DeviceInfo[]> {
    return (await this.#json<{ devices: DeviceInfo[] }>("GET", "/devices")).devices;
  }

  /** Every tag (or one device's) with its last value. */
  async tags(device?: string): Promise<TagInfo[]> {
    const q = device === undefined ? "" : `?device=${encodeURIComponent(device)}`;
    return (await this.#json<{ tags: TagInfo[] }>("GET", `/tags${q}`)).tags;
  }

  /** Reads one tag now from its device. */
  async read(device: string, tag: string): Promise<ItemResult> {
    const r = await this.#json<{ results: ItemResult[] }>("POST", "/read", { device, tag });
    return r.results[0]!;
  }

  /** Writes one value; throws the gateway's refusal (403 not writable, 400 out of range…). */
  async write(device: string, tag: string, value: JsonValue): Promise<ItemResult> {
    const r = await this.#json<{ results: ItemResult[] }>("POST", "/write", {
      device,
      tag,
      value,
    });
    return r.results[0]!;
  }

  /** The running flows. */
  flows(): Promise<FlowsInfo> {
    return this.#json("GET", "/flows");
  }

  /** Counters of polls, steps and sinks. */
  stats(): Promise<Stats> {
    return this.#json("GET", "/stats");
  }

  /** A tag's history, downsampled to at most `points`. */
  history(
    device: string,
    tag: string,
    o: { from?: number; to?: number; points?: number } = {},
  ): Promise<History> {
    const q = new URLSearchParams({ device, tag });
    if (o.from !== undefined) q.set("from", String(o.from));
    if (o.to !== undefined) q.set("to", String(o.to));
    if (o.points !== undefined) q.set("points", String(o.points));
    return this.#json("GET", `/history?${q}`);
  }

  /**
   * `bifrost check` of flow files on the gateway (`POST /check`): `files` maps each path
   * relative to the flow directory to its text. Function type checks may take a while.
   */
  check(files: Record<string, string>): Promise<GatewayCheck> {
    return this.#json("POST", "/check", { files }, 120_000);
  }

  /** The Prometheus text of `/metrics`. */
  async metrics(): Promise<string> {
    return await (await this.#request("GET", "/metrics")).text();
  }
}
