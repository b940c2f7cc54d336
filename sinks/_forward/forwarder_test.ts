/**
 * @module
 * The delivery loop against a real (in-memory) durable queue and scripted destinations:
 * order, retries, bisection into dead letters, the breaker, historical marking, Retry-After
 * and shutdown.
 */

import assert from "node:assert/strict";
import {
  Batch,
  createLogger,
  ManualClock,
  nullLogger,
  Quality,
  systemClock,
} from "../../engine/plugin.ts";
import { DurableQueue } from "../_queue/mod.ts";
import { BreakerState, CircuitBreaker } from "./breaker.ts";
import { DeadLetterStore } from "./dead_letter.ts";
import { DeliveryError } from "./errors.ts";
import { type Deliver, Forwarder, type ForwarderOptions } from "./forwarder.ts";

function records(from: number, n: number): Batch {
  const b = new Batch(n);
  for (let s = from; s < from + n; s++) {
    b.add("plc", `t${s % 3}`, s, Quality.good, undefined, 1_000 + s, 1_000 + s, s);
  }
  return b;
}

const seqs = (b: Batch) => Array.from(b.seq.subarray(0, b.length));

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function setup(deliver: Deliver, o: Partial<ForwarderOptions> = {}) {
  const clock = o.clock ?? systemClock;
  const queue = new DurableQueue({ path: ":memory:", clock });
  const deadLetters = new DeadLetterStore({ path: ":memory:", clock });
  const fwd = new Forwarder({
    name: "t",
    target: "test destination",
    queue,
    deadLetters,
    deliver,
    batchSize: 10,
    retryMinMs: 1,
    retryMaxMs: 5,
    breakerThreshold: 1_000,
    breakerCoolDownMs: 10,
    replayRate: 0,
    clock,
    log: nullLogger,
    random: () => 0.5,
    ...o,
  });
  return {
    queue,
    deadLetters,
    fwd,
    async [Symbol.asyncDispose]() {
      await fwd.stop(0);
      queue.close();
      deadLetters.close();
    },
  };
}

Deno.test("forwarder delivers every record in order, in chunks of batchSize at most", async () => {
  const got: number[] = [];
  const sizes: number[] = [];
  await using t = setup((b) => {
    sizes.push(b.length);
    got.push(...seqs(b));
    return Promise.resolve();
  });
  t.queue.enqueue(records(0, 55));
  t.fwd.start();
  await until(() => t.queue.depth() === 0, "the queue to drain");
  assert.deepEqual(got, Array.from({ length: 55 }, (_, i) => i));
  assert.ok(sizes.every((n) => n <= 10));
  assert.equal(t.fwd.stats().sent, 55);
});

Deno.test("forwarder retries transient failures without losing or reordering", async () => {
  const got: number[] = [];
  let calls = 0;
  await using t = setup((b) => {
    if (++calls <= 3) return Promise.reject(new Error("connection refused"));
    got.push(...seqs(b));
    return Promise.resolve();
  });
  t.fwd.start();
  t.queue.enqueue(records(0, 30));
  t.fwd.wake();
  await until(() => t.queue.depth() === 0, "the queue to drain");
  assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
  assert.equal(t.fwd.stats().failed, 3);
  assert.equal(t.fwd.stats().consecutiveFailures, 0);
});

Deno.test("forwarder bisects a refused chunk: only the bad records are dead-lettered", async () => {
  const bad = new Set([3, 37, 38, 99]);
  const got: number[] = [];
  let requests = 0;
  await using t = setup((b) => {
    requests++;
    const hit = seqs(b).find((s) => bad.has(s));
    if (hit !== undefined) {
      return Promise.reject(
        new DeliveryError(`value ${hit} violates check`, { permanent: true, code: "test 400" }),
      );
    }
    got.push(...seqs(b));
    return Promise.resolve();
  }, { batchSize: 64 });
  t.queue.enqueue(records(0, 128));
  t.fwd.start();
  await until(() => t.queue.depth() === 0, "the queue to drain");
  assert.deepEqual(got, Array.from({ length: 128 }, (_, i) => i).filter((s) => !bad.has(s)));
  const dl = t.deadLetters.recent(10).reverse();
  assert.deepEqual(dl.map((d) => d.record.seq), [3, 37, 38, 99]);
  assert.equal(dl[1]!.reason, "value 37 violates check");
  assert.equal(dl[1]!.code, "test 400");
  assert.equal(dl[1]!.record.value, 37);
  const s = t.fwd.stats();
  assert.equal(s.deadLettered, 4);
  assert.equal(s.sent, 124);
  assert.equal(s.failed, 0);
  // Far fewer requests than one per record.
  assert.ok(requests < 64, `requests: ${requests}`);
});

Deno.test("circuit breaker opens after the threshold and probes after the cool-down", async () => {
  const clock = new ManualClock(0);
  const b = new CircuitBreaker({ threshold: 3, coolDownMs: 1_000, clock });
  assert.equal(b.failure(), undefined);
  assert.equal(b.failure(), undefined);
  assert.equal(b.failure(), "opened");
  assert.equal(b.state, BreakerState.open);
  assert.equal(b.waitMs(), 1_000);
  await clock.advance(1_000);
  assert.equal(b.state, BreakerState.halfOpen);
  assert.equal(b.failure(), "reopened");
  assert.equal(b.state, BreakerState.open);
  await clock.advance(1_000);
  assert.equal(b.success(), "closed");
  assert.equal(b.state, BreakerState.closed);
  assert.equal(b.failures, 0);
  assert.equal(b.opens, 2);
});

Deno.test("forwarder opens its breaker while the destination is down and recovers", async () => {
  let up = false;
  const got: number[] = [];
  await using t = setup((b) => {
    if (!up) return Promise.reject(new Error("down"));
    got.push(...seqs(b));
    return Promise.resolve();
  }, { breakerThreshold: 2, breakerCoolDownMs: 30 });
  t.queue.enqueue(records(0, 5));
  t.fwd.start();
  await until(() => t.fwd.stats().breakerOpens >= 2, "the breaker to open twice");
  assert.equal(t.queue.depth(), 5);
  up = true;
  await until(() => t.queue.depth() === 0, "the queue to drain");
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.equal(t.fwd.stats().breaker, BreakerState.closed);
});

Deno.test("forwarder logs an outage once and its recovery once, with how long and what waits", async () => {
  let up = false;
  const lines: string[] = [];
  const log = createLogger({ level: "info", json: true, write: (l) => lines.push(l) });
  await using t = setup((_b) => up ? Promise.resolve() : Promise.reject(new Error("down")), {
    breakerThreshold: 3,
    breakerCoolDownMs: 5,
    log,
  });
  t.queue.enqueue(records(0, 5));
  t.fwd.start();
  // Many failed attempts, the breaker opening and probing more than once.
  await until(() => t.fwd.stats().breakerOpens >= 3, "the breaker to open three times");
  up = true;
  await until(() => t.queue.depth() === 0, "the queue to drain");
  const msgs = lines.map((l) => {
    const { level, msg } = JSON.parse(l) as { level: string; msg: string };
    return `${level} ${msg}`;
  });
  assert.equal(msgs.length, 2, msgs.join("\n"));
  assert.match(
    msgs[0]!,
    /^warn Cannot deliver to test destination; sink "t" keeps its records on disk and retries/,
  );
  assert.match(
    msgs[1]!,
    /^info Sink "t" delivers to test destination again after \d+\.\d s; 5 queued records to deliver/,
  );
});

Deno.test("forwarder marks the restart backlog and the outage backlog historical", async () => {
  let up = true;
  const seen: { seq: number; historical: boolean }[] = [];
  await using t = setup((b, c) => {
    if (!up) return Promise.reject(new Error("down"));
    for (const s of seqs(b)) seen.push({ seq: s, historical: c.historical });
    return Promise.resolve();
  });
  t.queue.enqueue(records(0, 15)); // queued before the start: a restart backlog
  t.fwd.start();
  await until(() => t.queue.depth() === 0, "the backlog");
  t.queue.enqueue(records(15, 5)); // live
  t.fwd.wake();
  await until(() => t.queue.depth() === 0, "live records");
  up = false;
  t.queue.enqueue(records(20, 5)); // fails: waits through the outage
  t.fwd.wake();
  await until(() => t.fwd.stats().failed >= 2, "failures");
  t.queue.enqueue(records(25, 5)); // enqueued during the outage
  up = true;
  await until(() => t.queue.depth() === 0, "the outage backlog");
  t.queue.enqueue(records(30, 5)); // live again
  t.fwd.wake();
  await until(() => t.queue.depth() === 0, "live records");
  const hist = (s: number) => seen.find((x) => x.seq === s)!.historical;
  assert.deepEqual(seen.map((x) => x.seq), Array.from({ length: 35 }, (_, i) => i));
  assert.ok([0, 14, 20, 29].every(hist));
  assert.ok([15, 19, 30, 34].every((s) => !hist(s)));
  assert.equal(t.fwd.stats().historical, 25);
});

Deno.test("forwarder waits as long as Retry-After says", async () => {
  const clock = new ManualClock(0);
  let calls = 0;
  await using t = setup(() => {
    calls++;
    return calls === 1
      ? Promise.reject(new DeliveryError("HTTP 429", { permanent: false, retryAfterMs: 60_000 }))
      : Promise.resolve();
  }, { clock, retryMinMs: 1, retryMaxMs: 1 });
  t.queue.enqueue(records(0, 3));
  t.fwd.start();
  await until(() => t.fwd.stats().failed === 1, "the first attempt to fail");
  await clock.advance(59_000);
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(calls, 1);
  await clock.advance(1_000);
  await until(() => t.queue.depth() === 0, "the retry");
  assert.equal(calls, 2);
});

Deno.test("forwarder.stop() aborts a hanging request and keeps the records queued", async () => {
  let aborted = false;
  await using t = setup((_b, c) =>
    new Promise((_resolve, reject) => {
      c.signal.addEventListener("abort", () => {
        aborted = true;
        reject(c.signal.reason);
      });
    })
  );
  t.queue.enqueue(records(0, 7));
  t.fwd.start();
  await t.fwd.stop(30);
  assert.ok(aborted);
  assert.equal(t.queue.depth(), 7);
  assert.equal(t.fwd.stats().sent, 0);
});
