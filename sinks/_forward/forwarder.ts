/**
 * @module
 * The delivery loop of request/response sinks (HTTP, InfluxDB, PostgreSQL): peek a chunk
 * of the durable queue, `deliver()` it, acknowledge it once the destination confirmed it.
 * One request in flight per sink, so order is kept and records arriving during a request
 * make the next chunk larger (batching without a linger timer).
 *
 * - Transient failures (network, 5xx, 408, 429, lost database connection) retry the same
 *   chunk with exponential backoff and jitter (`Retry-After` honoured); after
 *   `breakerThreshold` in a row the {@linkcode CircuitBreaker} opens for a cool-down, then
 *   one probe decides.
 * - Permanent failures (HTTP 4xx, constraint violations) must not block the queue: the
 *   chunk is bisected, halves delivered in order, until the failing record(s) are alone;
 *   those go to the {@linkcode DeadLetterStore} with the destination's reason and the good
 *   records of the chunk still go through. One bad record in n costs about 2·log2(n)
 *   extra requests.
 * - A record is delivered as historical when it was already queued when the loop started
 *   (gateway restart) or when the destination came back after an outage; historical and
 *   live records never share a request. `replayRate` caps the historical records/s.
 *
 * At-least-once: a request whose confirmation is lost (timeout after the destination
 * committed, connection cut before the reply) is sent again.
 */

import {
  backoffDelay,
  type Batch,
  type Clock,
  errorMessage,
  type Logger,
} from "../../engine/plugin.ts";
import { type DurableQueue, sliceBatch } from "../_queue/mod.ts";
import { type BreakerTransition, CircuitBreaker } from "./breaker.ts";
import type { DeadLetterStore } from "./dead_letter.ts";
import { DeliveryError, isPermanent } from "./errors.ts";

/** Dead letters are logged at most this often (the count is always exact). */
export const DEAD_LETTER_LOG_INTERVAL_MS = 10_000;
/** At close, how long an aborted request may take to settle (ms). */
const STOP_GRACE_MS = 1_000;

/** What a destination is told with each chunk. */
export interface DeliverContext {
  /** The records waited through an outage or a restart (backlog replay). */
  historical: boolean;
  /** Aborted when the sink closes: cancel the request. */
  signal: AbortSignal;
}

/**
 * Sends one chunk. Resolves when the destination confirmed every record; rejects with a
 * {@linkcode DeliveryError} (`permanent: true` to dead-letter) or any other error (retried).
 */
export type Deliver = (batch: Batch, c: DeliverContext) => Promise<void>;

/** Settings of a {@linkcode Forwarder}. */
export interface ForwarderOptions {
  /** Sink name, for messages. */
  name: string;
  /** The destination as shown in logs (no credentials). */
  target: string;
  queue: DurableQueue;
  deadLetters: DeadLetterStore;
  deliver: Deliver;
  /** Records per request at most. */
  batchSize: number;
  retryMinMs: number;
  retryMaxMs: number;
  breakerThreshold: number;
  breakerCoolDownMs: number;
  /** Historical records per second at most; 0: no limit. */
  replayRate: number;
  clock: Clock;
  log: Logger;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
}

/** Figures of a forwarder since it started. */
export interface ForwarderStats {
  [key: string]: number;
  /** Records the destination confirmed. */
  sent: number;
  /** Of those, delivered as historical. */
  historical: number;
  /** Requests confirmed. */
  requests: number;
  /** Requests that failed transiently (their records were retried). */
  failed: number;
  /** Records the destination refused for good, moved to the dead-letter table. */
  deadLettered: number;
  /** 0 closed, 1 open, 2 half-open. */
  breaker: number;
  breakerOpens: number;
  /** Transient failures in a row now. */
  consecutiveFailures: number;
}

/** Delivers a durable queue to a request/response destination until stopped. */
export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #breaker: CircuitBreaker;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #kick: (() => void) | undefined;
  #replay: { start: number; n: number } | undefined;
  #dlUnlogged = 0;
  #dlLastLog = -Infinity;
  #stats = { sent: 0, historical: 0, requests: 0, failed: 0, deadLettered: 0 };

  constructor(o: ForwarderOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
      throw new RangeError(
        `Cannot forward sink "${o.name}": 'batchSize' must be an integer >= 1, got ${o.batchSize}`,
      );
    }
    this.#o = o;
    this.#breaker = new CircuitBreaker({
      threshold: o.breakerThreshold,
      coolDownMs: o.breakerCoolDownMs,
      clock: o.clock,
    });
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Tells the loop that records were enqueued. */
  wake(): void {
    const k = this.#kick;
    this.#kick = undefined;
    k?.();
  }

  /** Figures as of now. */
  stats(): ForwarderStats {
    return {
      ...this.#stats,
      breaker: this.#breaker.state,
      breakerOpens: this.#breaker.opens,
      consecutiveFailures: this.#breaker.failures,
    };
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /**
   * Keeps delivering until the queue is empty, a delivery fails or `timeoutMs` passed,
   * then stops the loop (aborting a request in flight). What is left stays queued.
   */
  async stop(timeoutMs: number): Promise<void> {
    const c = this.#o.clock;
    const deadline = c.monotonic() + timeoutMs;
    while (
      this.#loop && this.#o.queue.depth() > 0 && this.#breaker.failures === 0 &&
      c.monotonic() < deadline
    ) {
      await c.sleep(Math.min(20, deadline - c.monotonic()));
    }
    this.#stop.abort(new Error(`sink "${this.#o.name}" is closing`));
    this.wake();
    if (this.#loop) await Promise.race([this.#loop, c.sleep(STOP_GRACE_MS)]);
    this.#logDeadLetters(true);
  }

  #sleep(ms: number): Promise<void> {
    return this.#o.clock.sleep(ms, this.#stop.signal).catch(() => {});
  }

  #waitKick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#kick = resolve);
  }

  async #run(): Promise<void> {
    const { queue: q, clock } = this.#o;
    // Records queued before the start waited through a restart: historical.
    let historicalUpTo = q.lastId;
    // One line when deliveries start failing, one when they work again (how long, what waits).
    let down = false;
    let downSince = 0;
    while (!this.#stopped) {
      const wait = this.#breaker.waitMs();
      if (wait > 0) {
        await this.#sleep(wait);
        continue;
      }
      // While the destination is down, everything queued so far waited through the outage.
      if (down) historicalUpTo = q.lastId;
      const head = q.headId;
      const historical = head < historicalUpTo;
      let max = this.#o.batchSize;
      if (historical) {
        max = Math.min(max, historicalUpTo - head);
        const rate = this.#o.replayRate;
        if (rate > 0) {
          this.#replay ??= { start: clock.monotonic(), n: 0 };
          const ahead = this.#replay.start + (this.#replay.n * 1000) / rate - clock.monotonic();
          if (ahead >= 1) {
            await this.#sleep(ahead);
            continue;
          }
          // About 200 ms worth of replay per request keeps the rate smooth.
          max = Math.min(max, Math.max(1, Math.ceil(rate / 5)));
        }
      } else this.#replay = undefined;
      const chunk = q.peek(max);
      if (!chunk) {
        await this.#waitKick();
        continue;
      }
      // What waited through the outage, this chunk included.
      const backlog = down ? q.depth() : 0;
      try {
        await this.#deliverRange(chunk.batch, 0, chunk.batch.length, chunk.firstId, historical);
        if (this.#replay && historical) this.#replay.n += chunk.batch.length;
        if (down) {
          down = false;
          this.#transition(this.#breaker.success(), undefined);
          const s = ((clock.monotonic() - downSince) / 1000).toFixed(1);
          this.#o.log.info(
            `Sink "${this.#o.name}" delivers to ${this.#o.target} again after ${s} s; ${backlog} queued records to deliver`,
            { sink: this.#o.name, backlog },
          );
        } else this.#transition(this.#breaker.success(), undefined);
      } catch (e) {
        if (this.#stopped) break;
        if (!down) downSince = clock.monotonic();
        down = true;
        this.#replay = undefined;
        this.#stats.failed++;
        const t = this.#breaker.failure();
        const n = this.#breaker.failures;
        let delay = backoffDelay(n, {
          baseMs: this.#o.retryMinMs,
          maxMs: this.#o.retryMaxMs,
          ...(this.#o.random ? { random: this.#o.random } : {}),
        });
        if (e instanceof DeliveryError && e.retryAfterMs !== undefined) delay = e.retryAfterMs;
        const fields = {
          sink: this.#o.name,
          error: errorMessage(e),
          retryInMs: Math.max(delay, this.#breaker.waitMs()),
          depth: q.depth(),
        };
        if (n === 1) {
          this.#o.log.warn(
            `Cannot deliver to ${this.#o.target}; sink "${this.#o.name}" keeps its records on disk and retries`,
            fields,
          );
        } else this.#o.log.debug(`Cannot deliver to ${this.#o.target}`, { ...fields, failures: n });
        this.#transition(t, e);
        if (this.#breaker.waitMs() === 0) await this.#sleep(delay);
      }
    }
  }

  /** Delivers records `from`..`to` of `b` (record i has id firstId + i), bisecting on refusal. */
  async #deliverRange(
    b: Batch,
    from: number,
    to: number,
    firstId: number,
    historical: boolean,
  ): Promise<void> {
    const part = from === 0 && to === b.length ? b : sliceBatch(b, from, to);
    try {
      await this.#o.deliver(part, { historical, signal: this.#stop.signal });
    } catch (e) {
      if (this.#stopped || !isPermanent(e)) throw e;
      // The destination answered: it is up, whatever it thinks of these records.
      this.#transition(this.#breaker.success(), undefined);
      if (to - from === 1) {
        const d = e as DeliveryError;
        this.#o.deadLetters.add(b, from, to, d.message, d.reasonCode, historical);
        this.#stats.deadLettered++;
        this.#dlUnlogged++;
        this.#logDeadLetters(false, d, b.seq[from]!);
        this.#ack(firstId + from);
        return;
      }
      const mid = (from + to) >>> 1;
      await this.#deliverRange(b, from, mid, firstId, historical);
      await this.#deliverRange(b, mid, to, firstId, historical);
      return;
    }
    if (this.#stopped && !this.#o.queue.db.isOpen) return;
    this.#stats.sent += to - from;
    this.#stats.requests++;
    if (historical) this.#stats.historical += to - from;
    this.#ack(firstId + to - 1);
  }

  #ack(id: number): void {
    const q = this.#o.queue;
    if (!q.db.isOpen) return;
    try {
      q.ack(id);
    } catch (e) {
      // The records stay queued and are delivered again: a duplicate, never a loss.
      this.#o.log.error(`Cannot remove delivered records from the queue of "${this.#o.name}"`, {
        error: errorMessage(e),
      });
    }
  }

  #transition(t: BreakerTransition, e: unknown): void {
    if (t === undefined) return;
    const fields = {
      sink: this.#o.name,
      depth: this.#o.queue.depth(),
      ...(e === undefined ? {} : { error: errorMessage(e) }),
    };
    // The outage and the recovery have their lines already (see #run): breaker changes are
    // details of the outage, in stats (`breaker`, `breakerOpens`) and at debug level.
    if (t === "opened") {
      this.#o.log.debug(
        `Circuit breaker of sink "${this.#o.name}" opened after ${this.#breaker.failures} failures: pausing deliveries to ${this.#o.target} for ${this.#o.breakerCoolDownMs} ms`,
        fields,
      );
    } else if (t === "reopened") {
      this.#o.log.debug(`Circuit breaker of sink "${this.#o.name}" probe failed`, fields);
    } else {
      this.#o.log.debug(`Circuit breaker of sink "${this.#o.name}" closed`, fields);
    }
  }

  #logDeadLetters(final: boolean, e?: DeliveryError, seq?: number): void {
    if (this.#dlUnlogged === 0) return;
    const t = this.#o.clock.monotonic();
    if (!final && t - this.#dlLastLog < DEAD_LETTER_LOG_INTERVAL_MS) return;
    this.#dlLastLog = t;
    this.#o.log.warn(
      `${this.#o.target} refused ${this.#dlUnlogged} record(s) for good; moved to the dead-letter table`,
      {
        sink: this.#o.name,
        deadLettered: this.#stats.deadLettered,
        path: this.#o.deadLetters.path,
        ...(e ? { lastReason: e.message, lastSeq: seq } : {}),
      },
    );
    this.#dlUnlogged = 0;
  }
}
