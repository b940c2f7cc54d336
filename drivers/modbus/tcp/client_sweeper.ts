/**
 * @module
 * The one timeout sweeper that every {@linkcode ModbusTcpClient} of the process shares. A
 * gateway polling 1,000 devices once a second used to start and stop 1,000 interval timers a
 * second (one per connection and poll); each lived long enough to be promoted to V8's old
 * space. Here one interval runs while any client has requests on the wire, and stops a few
 * idle sweeps after the last one ended (unref'd, so an idle process can exit).
 *
 * A client owns one {@linkcode SweepEntry}, allocated with it; the entries of the clients
 * with requests on the wire form an intrusive doubly linked list, so registering (4 field
 * writes; nothing when already registered) and unregistering allocate nothing, per request
 * or per poll cycle. Each sweep calls every registered entry's `sweep(now)`; an entry that
 * answers `false` (nothing active) leaves the list.
 *
 * Time: a shared clock in whole milliseconds ({@linkcode sweeperNow}), advanced by each
 * sweep by the time measured since the previous sweep, but never by more than the period.
 * So it never runs ahead of real time (not even when a late interval is followed by a short
 * catch-up one), and a request takes its deadline from it without reading the time itself.
 * The period is the smallest tick among the registered clients (a client's tick is
 * `timeout / 20` in whole ms, 5..50; registered clients are counted per tick value, so the
 * smallest is found without a scan). It shrinks at once when a client with a shorter tick
 * registers (the interval restarts), and grows back only after no registered client has
 * needed the shorter one for {@linkcode GROW_AFTER_MS}: a mix of timeouts restarts the
 * interval at most about once a second, never once per poll.
 *
 * Guarantee: a request sent when {@linkcode register} returned `base` expires at the first
 * sweep whose clock reads at least `base + timeout`; `base` is the clock rounded up plus the
 * period. The clock advances by at most that period between the send and the next sweep
 * (after a restart, the first step is capped by the old period as well as the new one), and
 * by no more than real time afterwards, so at least `timeout` really passed; with punctual
 * timers at most two periods more (`timeout + 10 %`). When the event loop is late the
 * clock lags behind real time and timeouts stretch with it: an answer waiting unread in a
 * busy process is not declared missing.
 */

/** Idle sweeps (no client registered) after which the interval stops. */
const IDLE_SWEEPS = 3;
/** Clock time a longer period must have sufficed before the interval restarts with it. */
export const GROW_AFTER_MS = 1000;

/** The shortest tick a client may ask for, in ms. */
export const MIN_TICK_MS = 5;
/** The longest tick, in ms. */
export const MAX_TICK_MS = 50;

/** The sweeper tick for a timeout: `timeout / 20` in whole ms, 5..50. */
export function tickFor(timeoutMs: number): number {
  return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(timeoutMs / 20)));
}

/** A client's place in the sweeper; one per client, reused for its whole life. */
export class SweepEntry {
  /** @internal list links */
  prev: SweepEntry | undefined = undefined;
  /** @internal */
  next: SweepEntry | undefined = undefined;
  /** Whether the entry is in the sweeper's list. */
  registered = false;

  /**
   * `tickMs`: the longest sweep period this client's timeout tolerates (see
   * {@linkcode tickFor}). `sweep(now)`: expires the client's requests whose deadline is at
   * most `now`; returns whether requests are still active (`false` unregisters the entry).
   * It must not unregister other entries.
   */
  constructor(readonly tickMs: number, readonly sweep: (now: number) => boolean) {
    if (!Number.isInteger(tickMs) || tickMs < MIN_TICK_MS || tickMs > MAX_TICK_MS) {
      throw new RangeError(
        `Cannot sweep every ${tickMs} ms: expected a whole number ${MIN_TICK_MS}..${MAX_TICK_MS}`,
      );
    }
  }
}

let head: SweepEntry | undefined;
let count = 0;
let timer: ReturnType<typeof setInterval> | undefined;
/** Registered entries per tick value. */
const perTick = new Int32Array(MAX_TICK_MS + 1);
let periodMs = 0;
/** The most the clock may advance at the next sweep. */
let capMs = 0;
/** Clock reading since which a longer period would have sufficed, or -1. */
let slackSince = -1;
let idleSweeps = 0;
/** The clock in ms (fractional), never ahead of real time. */
let exact = 0;
/** `floor(exact)`. */
let now = 0;
/** `ceil(exact) + periodMs`: the base of the deadlines of requests sent now. */
let base = 0;
/** `performance.now()` at the last sweep (or start). */
let lastSample = 0;

/** The shared clock, in whole ms: what `sweep(now)` receives. */
export function sweeperNow(): number {
  return now;
}

/**
 * Registers `entry` (nothing to do when it is registered), starts the sweeper or shortens
 * its period if needed, and returns the deadline base: a request sent now times out at the
 * first sweep whose clock reaches `register(entry) + timeoutMs`.
 */
export function register(entry: SweepEntry): number {
  if (!entry.registered) {
    entry.registered = true;
    entry.prev = undefined;
    entry.next = head;
    if (head !== undefined) head.prev = entry;
    head = entry;
    count++;
    perTick[entry.tickMs]!++;
    if (timer === undefined) start(entry.tickMs);
    else if (entry.tickMs < periodMs) restart(entry.tickMs);
  }
  return base;
}

/** Takes `entry` out of the sweeper (nothing to do when it is not registered). */
export function unregister(entry: SweepEntry): void {
  if (!entry.registered) return;
  entry.registered = false;
  const { prev, next } = entry;
  if (prev === undefined) head = next;
  else prev.next = next;
  if (next !== undefined) next.prev = prev;
  entry.prev = undefined;
  entry.next = undefined;
  count--;
  perTick[entry.tickMs]!--;
}

/** What the sweeper is doing, for tests and diagnostics. */
export interface SweeperState {
  /** Whether the interval timer exists. */
  running: boolean;
  /** Registered clients. */
  registered: number;
  /** Sweep period in ms (0 when stopped). */
  periodMs: number;
}

/** The sweeper's state, for tests and diagnostics. */
export function sweeperState(): SweeperState {
  return { running: timer !== undefined, registered: count, periodMs };
}

/** The smallest tick among the registered entries (`MAX_TICK_MS` when none). */
function neededPeriod(): number {
  for (let t = MIN_TICK_MS; t < MAX_TICK_MS; t++) if (perTick[t]! > 0) return t;
  return MAX_TICK_MS;
}

function start(tickMs: number): void {
  periodMs = tickMs;
  capMs = tickMs;
  slackSince = -1;
  idleSweeps = 0;
  lastSample = performance.now();
  base = Math.ceil(exact) + periodMs;
  timer = newInterval();
}

function newInterval(): ReturnType<typeof setInterval> {
  const t = setInterval(sweep, periodMs);
  Deno.unrefTimer(t);
  return t;
}

/**
 * Another period. The clock keeps its last sample, and its next step is capped by every
 * period since the last sweep: never more than the period a pending deadline was based on.
 */
function restart(tickMs: number): void {
  clearInterval(timer);
  periodMs = tickMs;
  if (tickMs < capMs) capMs = tickMs;
  slackSince = -1;
  base = Math.ceil(exact) + periodMs;
  timer = newInterval();
}

function stop(): void {
  clearInterval(timer);
  timer = undefined;
  periodMs = 0;
}

/** Restarts with a longer period once a longer one has sufficed for `GROW_AFTER_MS`. */
function maybeGrow(): void {
  const needed = neededPeriod();
  if (needed <= periodMs) slackSince = -1;
  else if (slackSince < 0) slackSince = now;
  else if (now - slackSince >= GROW_AFTER_MS) restart(needed);
}

function sweep(): void {
  const t = performance.now();
  const step = t - lastSample;
  lastSample = t;
  exact += step < capMs ? step : capMs;
  capMs = periodMs;
  now = Math.floor(exact);
  base = Math.ceil(exact) + periodMs;
  // `next` is read first: `sweep` may unregister its own entry.
  for (let e = head; e !== undefined;) {
    const next: SweepEntry | undefined = e.next;
    if (!e.sweep(now)) unregister(e);
    e = next;
  }
  if (head === undefined && ++idleSweeps >= IDLE_SWEEPS) stop();
  else {
    if (head !== undefined) idleSweeps = 0;
    if (periodMs < MAX_TICK_MS) maybeGrow();
  }
}
