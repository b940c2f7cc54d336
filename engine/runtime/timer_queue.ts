/**
 * @module
 * One timer for many periodic deadlines. A thousand polls each awaiting their own
 * `clock.sleep()` for a second keep a promise, a timer, an abort listener and a suspended
 * async frame alive across two young-generation collections, so V8 promotes them all to the
 * old generation every cycle (about 1.4 MB/s at 1,000 polls/s). Here the deadlines live in a
 * binary min-heap over preallocated parallel arrays (a `Float64Array` of deadlines, one of
 * insertion sequence numbers so that equal deadlines fire in the order queued, and the entries,
 * allocated once each), and a single timer is armed for the earliest deadline. Firing an
 * entry moves its key in place: a steady cycle allocates nothing here.
 *
 * On `systemClock` the timer is a bare `setTimeout` with a callback bound once, and when it
 * fires, entries due within their `early` window fire with the ones due now. Polls use 1 % of
 * their interval, at most {@linkcode MAX_EARLY_MS}: a thousand 1 s polls spread over the
 * second then wake the process about 200 times a second instead of 1,000, and each wake-up
 * sends several requests, whose answers tend to come back together. With the simulators on
 * the same CPU, that measured 0.25 instead of 0.28 core in the tag-level benchmark. A poll
 * fires at most 5 ms before its deadline on the grid, never later because of it. Other
 * clocks (tests' `ManualClock`, wrappers) fire entries at their deadline exactly and are
 * driven through `clock.sleep()` with an `AbortController` per arm: they are not on the hot
 * path, and `sleep()` is all the `Clock` contract offers. Deadlines further than
 * {@linkcode MAX_TIMER_MS} away (`every: 30d`) are reached through a chain of shorter timers.
 */

import { type Clock, MAX_TIMER_MS, systemClock } from "../clock.ts";

/** The widest `early` window of a poll, ms. */
export const MAX_EARLY_MS = 5;

/** An entry of a {@link TimerQueue}: something due at a monotonic deadline. */
export abstract class TimerEntry {
  /** Position in the queue's heap; -1 while not queued. Maintained by the queue only. */
  heapIndex = -1;
  /**
   * How long before its deadline (ms) the entry may fire, on the system clock, when the
   * queue's timer fires for an earlier one. 0: never early.
   */
  early = 0;

  /**
   * Called when the entry's deadline is at or before `now` (monotonic ms), or on the system
   * clock up to `early` after it. Returns the next deadline, which must lie more than `early`
   * after `now`, or `Infinity` to leave the queue. It may insert or remove entries; if it
   * removes this one, the returned deadline is ignored.
   */
  abstract due(now: number): number;
}

/** Deadlines of many entries behind one timer of a clock. */
export class TimerQueue {
  readonly #clock: Clock;
  readonly #native: boolean;
  #deadlines = new Float64Array(64);
  #seqs = new Float64Array(64);
  #entries: (TimerEntry | undefined)[] = new Array(64).fill(undefined);
  #size = 0;
  #seq = 0;
  /** The deadline the armed timer is aimed at; Infinity when no timer is armed. */
  #armedAt = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sleep: AbortController | undefined;
  #firing = false;
  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    this.#fire();
  };

  /** A queue whose timer runs on `clock`. Prefer {@link timerQueueFor}, which shares one per clock. */
  constructor(clock: Clock) {
    this.#clock = clock;
    this.#native = clock === systemClock;
  }

  /** Entries queued. */
  get size(): number {
    return this.#size;
  }

  /** The earliest deadline queued (monotonic ms), or Infinity when empty. */
  peek(): number {
    return this.#size > 0 ? this.#deadlines[0]! : Infinity;
  }

  /** Whether a timer is armed. */
  get armed(): boolean {
    return this.#armedAt !== Infinity;
  }

  /** Queues `entry` for `deadline` (monotonic ms); re-arms the timer when it is the new earliest. */
  insert(entry: TimerEntry, deadline: number): void {
    if (entry.heapIndex >= 0) throw new RangeError("Cannot insert a timer entry: it is queued");
    if (this.#size === this.#deadlines.length) this.#grow();
    const i = this.#size++;
    this.#entries[i] = entry;
    entry.heapIndex = i;
    this.#deadlines[i] = deadline;
    this.#seqs[i] = this.#seq++;
    this.#up(i);
    this.#arm();
  }

  /** Takes `entry` out of the queue; returns whether it was queued. */
  remove(entry: TimerEntry): boolean {
    const i = entry.heapIndex;
    if (i < 0 || this.#entries[i] !== entry) return false;
    const last = --this.#size;
    entry.heapIndex = -1;
    if (i !== last) {
      this.#move(last, i);
      this.#entries[last] = undefined;
      this.#down(i);
      this.#up(i);
    } else {
      this.#entries[last] = undefined;
    }
    // An armed timer aimed earlier than the new top only wakes early and re-arms.
    if (this.#size === 0) this.#disarm();
    return true;
  }

  /** Fires every entry due by `clock.monotonic()`, then arms the timer for the earliest left. */
  #fire(): void {
    if (this.#firing) return;
    this.#firing = true;
    try {
      while (this.#size > 0) {
        // Read per entry: tasks run synchronously here, and time moves while they do.
        const now = this.#clock.monotonic();
        const e = this.#entries[0]!;
        if (this.#deadlines[0]! > (this.#native ? now + e.early : now)) break;
        const next = e.due(now);
        // due() may have removed or moved the entry (an abort, a new schedule).
        const i = e.heapIndex;
        if (i < 0) continue;
        if (next === Infinity || Number.isNaN(next)) {
          this.remove(e);
          continue;
        }
        const old = this.#deadlines[i]!;
        // The sequence number stays: equal deadlines keep firing in the order first queued.
        this.#deadlines[i] = next;
        if (next >= old) this.#down(i);
        else this.#up(i);
      }
    } finally {
      this.#firing = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (this.#firing) return;
    if (this.#size === 0) return this.#disarm();
    const top = this.#deadlines[0]!;
    // A timer aimed at or before the top stays: if early, it finds nothing due and re-arms.
    if (this.#armedAt <= top) return;
    this.#disarm();
    this.#armedAt = top;
    const wait = Math.max(0, top - this.#clock.monotonic());
    if (this.#native) {
      // A deadline beyond one timer's reach (every: 30d) is reached by timers in steps: each
      // that fires finds nothing due and arms the next.
      this.#timer = setTimeout(this.#onTimer, Math.min(wait, MAX_TIMER_MS));
      return;
    }
    const ac = new AbortController();
    this.#sleep = ac;
    this.#clock.sleep(wait, ac.signal).then(() => {
      if (this.#sleep !== ac) return;
      this.#sleep = undefined;
      this.#onTimer();
    }, () => {
      // Aborted by a re-arm or by the queue emptying: a newer timer (or none) took over.
    });
  }

  #disarm(): void {
    this.#armedAt = Infinity;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#sleep) {
      const ac = this.#sleep;
      this.#sleep = undefined;
      ac.abort();
    }
  }

  #grow(): void {
    const n = this.#deadlines.length * 2;
    const d = new Float64Array(n);
    d.set(this.#deadlines);
    this.#deadlines = d;
    const s = new Float64Array(n);
    s.set(this.#seqs);
    this.#seqs = s;
    const e = new Array<TimerEntry | undefined>(n).fill(undefined);
    for (let i = 0; i < this.#size; i++) e[i] = this.#entries[i];
    this.#entries = e;
  }

  #less(a: number, b: number): boolean {
    const da = this.#deadlines[a]!, db = this.#deadlines[b]!;
    return da < db || (da === db && this.#seqs[a]! < this.#seqs[b]!);
  }

  #swap(a: number, b: number): void {
    const d = this.#deadlines, s = this.#seqs, e = this.#entries;
    const td = d[a]!, ts = s[a]!, te = e[a]!;
    d[a] = d[b]!;
    s[a] = s[b]!;
    e[a] = e[b]!;
    d[b] = td;
    s[b] = ts;
    e[b] = te;
    e[a]!.heapIndex = a;
    te.heapIndex = b;
  }

  #move(from: number, to: number): void {
    this.#deadlines[to] = this.#deadlines[from]!;
    this.#seqs[to] = this.#seqs[from]!;
    const e = this.#entries[from]!;
    this.#entries[to] = e;
    e.heapIndex = to;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.#size) return;
      const r = l + 1;
      const c = r < this.#size && this.#less(r, l) ? r : l;
      if (!this.#less(c, i)) return;
      this.#swap(i, c);
      i = c;
    }
  }
}

const queues = new WeakMap<Clock, TimerQueue>();

/** The one queue shared by everything scheduled on `clock`. */
export function timerQueueFor(clock: Clock): TimerQueue {
  let q = queues.get(clock);
  if (!q) {
    q = new TimerQueue(clock);
    queues.set(clock, q);
  }
  return q;
}
