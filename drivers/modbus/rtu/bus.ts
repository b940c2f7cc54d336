/**
 * @module
 * The scheduler of one Modbus RTU line shared by several slaves. RTU has no transaction
 * ids, so one request is on the line at a time; the scheduler decides whose goes next.
 *
 * - Fair: every slave has its own queue and the line serves the queues round-robin, one
 *   request each, so a slave with many requests cannot starve the others (a FIFO across
 *   everyone would let one slave's 40-request poll hold everybody for 40 round trips).
 * - Per-slave circuit breaker: after `breakerTimeouts` consecutive timeouts a slave's
 *   breaker opens and its requests fail at once with `DEVICE_UNREACHABLE`, so a dead slave
 *   no longer costs the others its timeouts. Every `probeIntervalMs` (± `jitter`) one
 *   request is let through as a probe (half-open); an answer closes the breaker, another
 *   timeout opens it again. Only `TIMEOUT` counts: an exception response or a bad CRC
 *   means something answered.
 *
 * Pure logic on an injected {@linkcode Clock} and a {@linkcode BusLine}; the registry of
 * lines (`bus_registry.ts`) connects it to real transports.
 */

import { BifrostError, type Clock, isBifrostError } from "../../../engine/plugin.ts";
import type {
  BreakerOptions,
  BreakerState,
  BusLine,
  BusOptions,
  BusStats,
  SlaveStats,
} from "./bus_types.ts";

export type {
  BreakerOptions,
  BreakerState,
  BusLine,
  BusOptions,
  BusStats,
  SlaveStats,
} from "./bus_types.ts";

interface Job {
  unitId: number;
  pdu: Uint8Array;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  enqueued: number;
  probe: boolean;
  resolve: (pdu: Uint8Array) => void;
  reject: (e: unknown) => void;
}

interface Slave {
  stats: SlaveStats;
  queue: Job[];
  threshold: number;
  probeIntervalMs: number;
  consecutive: number;
  nextProbeAt: number;
  probing: boolean;
}

/** Default consecutive timeouts that open a breaker. */
export const DEFAULT_BREAKER_TIMEOUTS = 3;
/** Default probe interval of an open breaker, ms. */
export const DEFAULT_PROBE_INTERVAL_MS = 10_000;

/** Serialises and shares one line between slaves, fairly, with a breaker per slave. */
export class BusScheduler {
  readonly where: string;
  readonly #line: BusLine;
  readonly #clock: Clock;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #slaves = new Map<number, Slave>();
  /** Unit ids in round-robin order; `#turn` is the index of the next one to serve. */
  readonly #ring: number[] = [];
  #turn = 0;
  #busy = false;
  #requests = 0;
  #busyMs = 0;

  constructor(line: BusLine, o: BusOptions) {
    this.#line = line;
    this.#clock = o.clock;
    this.where = o.where ?? "the bus";
    this.#jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
    this.#random = o.random ?? Math.random;
  }

  /** Registers a slave (or updates its breaker settings). */
  configure(unitId: number, o: BreakerOptions = {}): void {
    const s = this.#slave(unitId);
    s.threshold = o.breakerTimeouts ?? DEFAULT_BREAKER_TIMEOUTS;
    s.probeIntervalMs = o.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  }

  #slave(unitId: number): Slave {
    let s = this.#slaves.get(unitId);
    if (!s) {
      s = {
        stats: {
          unitId,
          requests: 0,
          timeouts: 0,
          errors: 0,
          rejected: 0,
          breaker: "closed",
          opened: 0,
          waitMs: 0,
          queued: 0,
        },
        queue: [],
        threshold: DEFAULT_BREAKER_TIMEOUTS,
        probeIntervalMs: DEFAULT_PROBE_INTERVAL_MS,
        consecutive: 0,
        nextProbeAt: 0,
        probing: false,
      };
      this.#slaves.set(unitId, s);
      this.#ring.push(unitId);
    }
    return s;
  }

  /** The breaker state of a slave. */
  breaker(unitId: number): BreakerState {
    return this.#slaves.get(unitId)?.stats.breaker ?? "closed";
  }

  /**
   * Queues a request for `unitId`; resolves with the response PDU. Rejects at once with
   * `DEVICE_UNREACHABLE` while the slave's breaker is open and no probe is due.
   */
  request(
    unitId: number,
    pdu: Uint8Array,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const s = this.#slave(unitId);
    const refused = this.#admit(s);
    if (refused) return Promise.reject(refused);
    return new Promise<Uint8Array>((resolve, reject) => {
      const job: Job = {
        unitId,
        pdu,
        timeoutMs,
        signal,
        onAbort: undefined,
        enqueued: this.#clock.monotonic(),
        probe: false,
        resolve,
        reject,
      };
      if (s.stats.breaker === "open") {
        // #admit let it through: the probe is due and this request is it.
        job.probe = true;
        s.probing = true;
        s.stats.breaker = "half-open";
      }
      if (signal) {
        job.onAbort = () => {
          const i = s.queue.indexOf(job);
          if (i < 0) return;
          s.queue.splice(i, 1);
          s.stats.queued = s.queue.length;
          if (job.probe) this.#reopen(s);
          reject(signal.reason);
        };
        signal.addEventListener("abort", job.onAbort, { once: true });
      }
      s.queue.push(job);
      s.stats.queued = s.queue.length;
      this.#pump();
    });
  }

  /** Undefined when a request of `s` may go on the line, else the error that refuses it. */
  #admit(s: Slave): BifrostError | undefined {
    const st = s.stats.breaker;
    if (st === "closed") return undefined;
    if (st === "open" && !s.probing && this.#clock.monotonic() >= s.nextProbeAt) return undefined;
    return this.#refuse(s);
  }

  #refuse(s: Slave): BifrostError {
    s.stats.rejected++;
    const st = s.stats.breaker;
    const inMs = Math.max(0, Math.round(s.nextProbeAt - this.#clock.monotonic()));
    return new BifrostError(
      "DEVICE_UNREACHABLE",
      `Cannot reach unit ${s.stats.unitId} on ${this.where}: its breaker is open after ${s.threshold} timeouts in a row (${
        st === "half-open" ? "a probe is under way" : `next probe in ${inMs} ms`
      })`,
      { details: { unitId: s.stats.unitId, breaker: st } },
    );
  }

  /** Opens (again) the breaker of `s` and schedules its next probe. */
  #reopen(s: Slave): void {
    if (s.stats.breaker === "closed") s.stats.opened++;
    s.stats.breaker = "open";
    s.probing = false;
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    s.nextProbeAt = this.#clock.monotonic() + s.probeIntervalMs * spread;
  }

  /** The next job, round-robin over the slaves with something queued. */
  #next(): { s: Slave; job: Job } | undefined {
    const n = this.#ring.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#turn + k) % n;
      const s = this.#slaves.get(this.#ring[i]!)!;
      const job = s.queue.shift();
      if (!job) continue;
      s.stats.queued = s.queue.length;
      this.#turn = i + 1;
      return { s, job };
    }
    return undefined;
  }

  #pump(): void {
    if (this.#busy) return;
    for (;;) {
      const next = this.#next();
      if (!next) return;
      const { s, job } = next;
      if (job.onAbort) job.signal!.removeEventListener("abort", job.onAbort);
      // The breaker may have opened while this job waited: it fails now, not after a timeout.
      if (!job.probe && s.stats.breaker !== "closed") {
        job.reject(this.#refuse(s));
        continue;
      }
      this.#busy = true;
      void this.#run(s, job);
      return;
    }
  }

  async #run(s: Slave, job: Job): Promise<void> {
    const start = this.#clock.monotonic();
    s.stats.waitMs += start - job.enqueued;
    s.stats.requests++;
    this.#requests++;
    try {
      const pdu = await this.#line.request(job.unitId, job.pdu, job.timeoutMs, job.signal);
      s.consecutive = 0;
      if (s.stats.breaker !== "closed") {
        s.stats.breaker = "closed";
        s.probing = false;
      }
      job.resolve(pdu);
    } catch (e) {
      if (isBifrostError(e, "TIMEOUT")) {
        s.stats.timeouts++;
        s.consecutive++;
        if (job.probe || (s.threshold > 0 && s.consecutive >= s.threshold)) this.#reopen(s);
      } else {
        s.stats.errors++;
        if (isBifrostError(e) && e.code !== "NOT_CONNECTED") s.consecutive = 0;
        // Something answered (bad CRC) or the line failed: the probe is over either way.
        if (job.probe) {
          s.probing = false;
          if (isBifrostError(e, "PROTOCOL_ERROR")) s.stats.breaker = "closed";
          else this.#reopen(s);
        }
      }
      job.reject(e);
    } finally {
      this.#busyMs += this.#clock.monotonic() - start;
      this.#busy = false;
      this.#pump();
    }
  }

  /** Rejects every queued request (the line is going away). */
  failAll(error: unknown): void {
    for (const s of this.#slaves.values()) {
      for (const job of s.queue.splice(0)) {
        if (job.onAbort) job.signal!.removeEventListener("abort", job.onAbort);
        job.reject(error);
      }
      s.stats.queued = 0;
    }
  }

  /** A snapshot of the line's counters. */
  stats(): BusStats {
    return {
      where: this.where,
      requests: this.#requests,
      busyMs: this.#busyMs,
      slaves: [...this.#slaves.values()].map((s) => ({ ...s.stats })),
    };
  }
}
