/**
 * @module
 * The background sender of the `mqtt` sink: connect (exponential backoff with jitter),
 * publish from the durable queue in order with at most `maxInFlight` unconfirmed, and
 * acknowledge queue entries only for the prefix the broker confirmed. When the connection
 * is lost, everything unconfirmed stays queued and the next connection resumes from the
 * oldest unconfirmed record (at-least-once: a record confirmed by the broker whose PUBACK
 * was lost with the connection is sent again).
 *
 * A record is published with `"historical": true` when it was already queued when the
 * current connection was made: it waited through a broker outage or a gateway restart.
 * Those are replayed at `replayRate` records/s at most; records that arrive while
 * connected are live and go out as soon as the backlog before them has.
 *
 * Queue acks are written at most every {@linkcode ACK_INTERVAL_MS} (one small transaction
 * each), not per PUBACK.
 *
 * A link whose credentials expire (Azure SAS tokens) says when to replace it
 * (`renewAfterMs`): the sender stops publishing on it, waits up to
 * {@linkcode RENEW_DRAIN_MS} for what is in flight to be confirmed (so nothing is sent
 * twice), and connects again at once with fresh credentials. That is a renewal, not a
 * lost connection: counted in `renewals`, logged at debug level.
 *
 * Logging follows the devices' rule, one line per state change: the broker's loss once
 * (warn), failed attempts after it at debug, and the recovery once (info: after how long, and
 * how many queued records wait to go out), whatever the number of attempts in between.
 */

import { backoffDelay, errorMessage } from "../../engine/plugin.ts";
import { payload } from "./format.ts";
import { type MqttLink, reasonCode } from "./link.ts";
import {
  emptySenderStats,
  type SenderOptions,
  type SenderStats,
  type Session,
} from "./sender_types.ts";

export { emptySenderStats, type SenderOptions, type SenderStats } from "./sender_types.ts";

/** How often confirmed records are removed from the queue at most (ms). */
export const ACK_INTERVAL_MS = 20;
/** Records read from the queue per step at most. */
const CHUNK = 500;
/** Rejections are logged at most this often. */
const REJECT_LOG_INTERVAL_MS = 10_000;
/** When renewing a link, how long to wait for in-flight publishes to be confirmed. */
export const RENEW_DRAIN_MS = 5_000;

/** Publishes a durable queue to a broker until stopped. */
export class Sender {
  readonly #o: SenderOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #kick: (() => void) | undefined;
  #session: Session | undefined;
  /** Highest id of the confirmed prefix; written to the queue by #flushAcks. */
  #confirmed = 0;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #lastRejectLog = -Infinity;
  /** Set by a renewal: the next session keeps this `historicalUpTo` (no outage happened). */
  #renewedUpTo: number | undefined;
  #stats: SenderStats = emptySenderStats();

  constructor(o: SenderOptions) {
    this.#o = o;
  }

  /** Starts the loop (idempotent). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Tells the loop that records were enqueued. */
  wake(): void {
    const k = this.#kick;
    if (k) {
      this.#kick = undefined;
      k();
    }
  }

  /** Figures as of now. */
  stats(): SenderStats {
    return { ...this.#stats, inFlight: this.#session?.inFlight ?? 0 };
  }

  /**
   * Keeps publishing (connecting first if the connection is not up yet, as right after
   * `open()`) until the queue is empty or `timeoutMs` passed, then stops the loop and closes
   * the connection. What is left stays in the queue.
   */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = this.#o.clock.monotonic() + timeoutMs;
    while (
      this.#loop && !this.#stopped && this.#o.queue.depth() > 0 &&
      this.#o.clock.monotonic() < deadline
    ) {
      if (this.#session?.alive) this.#flushAcks();
      if (this.#o.queue.depth() === 0) break;
      await this.#o.clock.sleep(Math.min(ACK_INTERVAL_MS, deadline - this.#o.clock.monotonic()));
    }
    this.#stop.abort(new Error("sink closing"));
    this.wake();
    await this.#loop;
    this.#flushAcks();
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Resolves at the next kick, or after `ms` when given. */
  #waitKick(ms?: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      if (ms === undefined) {
        this.#kick = resolve;
        return;
      }
      const timer = new AbortController();
      this.#kick = () => {
        timer.abort();
        resolve();
      };
      this.#o.clock.sleep(ms, timer.signal).then(() => this.wake(), () => {});
    });
  }

  async #run(): Promise<void> {
    const { log, target } = this.#o;
    const what = `MQTT sink "${this.#o.name}"`;
    let failures = 0;
    // Like a device: the loss of the broker is logged once (the first failed connect or the
    // end of a connection), then quiet (debug) until a connection succeeds, logged once with
    // how long the outage lasted and what waits to go out.
    let down = false;
    let downSince = 0;
    const wentDown = () => {
      if (down) return false;
      down = true;
      downSince = this.#o.clock.monotonic();
      return true;
    };
    let everConnected = false;
    while (!this.#stopped) {
      let link: MqttLink;
      try {
        const attempt = this.#o.connect();
        const got = await untilAborted(attempt, this.#stop.signal);
        if (!got) {
          // Closing while connecting: do not wait for the connect timeout.
          attempt.then((l) => l.end(), () => {});
          break;
        }
        link = got;
      } catch (e) {
        if (this.#stopped) break;
        failures++;
        const delay = backoffDelay(failures, {
          baseMs: this.#o.reconnectMinMs,
          maxMs: this.#o.reconnectMaxMs,
        });
        const fields = { error: errorMessage(e), retryInMs: delay, depth: this.#o.queue.depth() };
        if (wentDown()) {
          log.warn(
            `Cannot connect to MQTT broker ${target}; ${what} keeps its records on disk and retries`,
            fields,
          );
        } else log.debug(`Cannot connect to MQTT broker ${target}`, { ...fields, failures });
        await this.#o.clock.sleep(delay, this.#stop.signal).catch(() => {});
        continue;
      }
      if (this.#stopped) {
        await link.end();
        break;
      }
      this.#stats.connected = 1;
      const backlog = this.#o.queue.depth();
      if (down) {
        const s = ((this.#o.clock.monotonic() - downSince) / 1000).toFixed(1);
        log.info(
          `${what} reconnected to ${target} after ${s} s; ${backlog} queued records to deliver`,
          { backlog },
        );
        down = false;
      } else if (!everConnected) log.info(`Connected to MQTT broker ${target}`, { backlog });
      else log.debug(`Connected to MQTT broker ${target}`, { backlog });
      everConnected = true;
      const sentBefore = this.#stats.sent + this.#stats.rejected;
      const { error, renewed } = await this.#publishWhileConnected(link);
      this.#stats.connected = 0;
      await link.end();
      this.#flushAcks();
      if (this.#stopped) break;
      if (renewed) {
        this.#stats.renewals++;
        failures = 0;
        log.debug(`Renewing the connection to MQTT broker ${target} (credentials expire)`, {
          depth: this.#o.queue.depth(),
        });
        continue;
      }
      this.#stats.reconnects++;
      // A connection that confirmed nothing while records waited counts as a failure, so a
      // broker that drops us right after CONNACK is not hammered in a tight loop.
      const useless = this.#stats.sent + this.#stats.rejected === sentBefore &&
        this.#o.queue.depth() > 0;
      failures = useless ? failures + 1 : 0;
      const fields = {
        error: error ? errorMessage(error) : undefined,
        depth: this.#o.queue.depth(),
      };
      if (wentDown()) {
        log.warn(
          `Lost connection to MQTT broker ${target}; ${what} keeps its records on disk and reconnects`,
          fields,
        );
      } else log.debug(`Lost connection to MQTT broker ${target}`, { ...fields, failures });
      if (failures > 0) {
        const delay = backoffDelay(failures, {
          baseMs: this.#o.reconnectMinMs,
          maxMs: this.#o.reconnectMaxMs,
        });
        await this.#o.clock.sleep(delay, this.#stop.signal).catch(() => {});
      }
    }
  }

  /**
   * Publishes until the link closes, is due for renewal, or the sender stops; returns why
   * the link closed, and whether it was a renewal with nothing left unconfirmed.
   */
  async #publishWhileConnected(
    link: MqttLink,
  ): Promise<{ error: Error | undefined; renewed: boolean }> {
    const q = this.#o.queue;
    const s: Session = {
      alive: true,
      broken: false,
      link,
      ids: [],
      done: [],
      base: 0,
      head: 0,
      inFlight: 0,
      limit: Math.max(1, Math.min(this.#o.maxInFlight, link.receiveMaximum)),
      waitingSlot: false,
      historicalUpTo: this.#renewedUpTo ?? q.lastId,
      replayStart: this.#o.clock.monotonic(),
      replayed: 0,
      renewing: false,
    };
    this.#session = s;
    const renewTimer = new AbortController();
    if (link.renewAfterMs !== undefined) {
      this.#o.clock.sleep(link.renewAfterMs, renewTimer.signal).then(() => {
        s.renewing = true;
        this.wake();
      }, () => {});
    }
    let lostWith: Error | undefined;
    link.closed.then((e) => {
      lostWith = e;
      s.alive = false;
      this.wake();
    });
    const limit = s.limit;
    const rate = this.#o.replayRate;
    this.#confirmed = q.headId;
    let cursor = q.headId;
    while (s.alive && !s.broken && !s.renewing && !this.#stopped) {
      if (s.inFlight >= limit) {
        s.waitingSlot = true;
        await this.#waitKick();
        s.waitingSlot = false;
        continue;
      }
      let want = Math.min(limit - s.inFlight, CHUNK);
      if (rate > 0 && Math.max(cursor, q.headId) < s.historicalUpTo) {
        const wait = s.replayStart + (s.replayed * 1000) / rate - this.#o.clock.monotonic();
        if (wait >= 1) {
          await this.#waitKick(wait);
          continue;
        }
        // About 20 ms worth of replay per step keeps the rate smooth.
        want = Math.min(want, Math.max(1, Math.ceil(rate / 50)));
      }
      const chunk = q.peek(want, cursor);
      if (!chunk) {
        await this.#waitKick();
        continue;
      }
      cursor = chunk.lastId;
      const b = chunk.batch;
      const topic = this.#o.topic;
      let historical = 0;
      link.burst(() => {
        for (let i = 0; i < b.length && s.alive; i++) {
          const id = chunk.firstId + i;
          const old = id <= s.historicalUpTo;
          if (old) historical++;
          const k = s.base + s.ids.length;
          s.ids.push(id);
          s.done.push(false);
          s.inFlight++;
          link.publish(
            topic(b.device[i]!, b.tag[i]!),
            payload(b, i, old),
            (err) => this.#onDone(s, k, old, err),
          );
        }
      });
      s.replayed += historical;
    }
    renewTimer.abort();
    if (s.renewing) await this.#drain(s);
    const renewed = s.renewing && s.alive && !s.broken && s.inFlight === 0;
    // Records that arrive while a link is renewed did not wait through an outage.
    this.#renewedUpTo = renewed ? s.historicalUpTo : undefined;
    s.alive = false;
    this.#session = undefined;
    this.#stats.failed += s.inFlight;
    return {
      error: lostWith ?? (s.broken ? new Error("a publish failed") : undefined),
      renewed,
    };
  }

  /** Waits (bounded) until every publish of the session is confirmed. */
  async #drain(s: Session): Promise<void> {
    const clock = this.#o.clock;
    const deadline = clock.monotonic() + RENEW_DRAIN_MS;
    while (s.alive && !s.broken && s.inFlight > 0 && !this.#stopped) {
      const left = deadline - clock.monotonic();
      if (left <= 0) break;
      s.waitingSlot = true;
      await this.#waitKick(left);
      s.waitingSlot = false;
    }
  }

  #onDone(s: Session, k: number, historical: boolean, err: Error | undefined): void {
    if (!s.alive) return;
    s.inFlight--;
    if (err) {
      const code = reasonCode(err);
      if (code === undefined) {
        // Not confirmed and not refused: resend it on a new connection.
        s.broken = true;
        this.wake();
        return;
      }
      this.#stats.rejected++;
      this.#logRejected(err, code);
    } else {
      this.#stats.sent++;
      if (historical) this.#stats.historical++;
    }
    s.done[k - s.base] = true;
    let advanced = false;
    while (s.head < s.done.length && s.done[s.head]) {
      this.#confirmed = s.ids[s.head]!;
      s.head++;
      advanced = true;
    }
    if (s.head > 4096 && s.head * 2 > s.done.length) {
      s.ids.splice(0, s.head);
      s.done.splice(0, s.head);
      s.base += s.head;
      s.head = 0;
    }
    if (advanced) this.#ackTimer ??= setTimeout(() => this.#flushAcks(), ACK_INTERVAL_MS);
    if (s.waitingSlot) this.wake();
  }

  #flushAcks(): void {
    if (this.#ackTimer !== undefined) clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const q = this.#o.queue;
    if (this.#confirmed <= q.headId || !q.db.isOpen) return;
    try {
      q.ack(this.#confirmed);
    } catch (e) {
      // Records stay queued and are sent again: a duplicate, never a loss.
      this.#o.log.error(`Cannot remove confirmed records from the queue of "${this.#o.name}"`, {
        error: errorMessage(e),
      });
    }
  }

  #logRejected(err: Error, code: number): void {
    const t = this.#o.clock.monotonic();
    if (t - this.#lastRejectLog < REJECT_LOG_INTERVAL_MS) return;
    this.#lastRejectLog = t;
    this.#o.log.warn(`MQTT broker ${this.#o.target} refused a message; it is dropped`, {
      reasonCode: code,
      error: err.message,
      rejected: this.#stats.rejected,
    });
  }
}

/**
 * `p`'s value, or undefined as soon as `signal` aborts. Unlike a `Promise.race` against a
 * promise that settles only at stop, it leaves nothing behind once `p` settles: each race
 * kept a reaction on that promise, and through it the failed attempt's error and its client
 * with its socket (one MQTT client a reconnect attempt, about 10 MB an hour in the soak).
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
