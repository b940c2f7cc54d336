/**
 * @module
 * Tests of what a hostile or runaway function can no longer do to the gateway, with real
 * child processes and the fixture `testdata/hostile.ts`: post its own messages, flood the
 * log, grow without bound, start threads, return non-finite numbers or a million records.
 * Waits are bounded polls; nothing asserts on durations.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { systemClock } from "../clock.ts";
import { createLogger } from "../log.ts";
import { Batch, type DataRecord } from "../record.ts";
import { FunctionHost, type FunctionHostOptions } from "./host.ts";

const FIXTURE = fileURLToPath(new URL("./testdata/hostile.ts", import.meta.url));

interface Harness extends AsyncDisposable {
  host: FunctionHost;
  lines: Record<string, unknown>[];
  errors: string[];
  run(...values: DataRecord["value"][]): Promise<Batch>;
}

async function start(o: Partial<FunctionHostOptions> = {}): Promise<Harness> {
  const lines: Record<string, unknown>[] = [];
  const errors: string[] = [];
  const host = new FunctionHost({
    step: "x",
    path: FIXTURE,
    params: {},
    permissions: {},
    timeoutMs: 2000,
    log: createLogger({ level: "debug", json: true, write: (l) => lines.push(JSON.parse(l)) }),
    clock: systemClock,
    countError: (r) => errors.push(r),
    ...o,
  });
  await host.start();
  return {
    host,
    lines,
    errors,
    run: (...values) => host.process(batchOf(...values)),
    [Symbol.asyncDispose]: () => host.close(),
  };
}

function batchOf(...values: DataRecord["value"][]): Batch {
  return Batch.from(values.map((value, i) => ({
    device: "plc",
    tag: `t${i}`,
    value,
    quality: "good" as const,
    sourceTs: 1000 + i,
    gatewayTs: 2000 + i,
    seq: i,
  })));
}

function assertAllBad(b: Batch, reason: RegExp): void {
  assert.ok(b.length > 0);
  for (const r of b) {
    assert.equal(r.quality, "bad");
    assert.match(r.reason ?? "", reason);
  }
}

/** Polls `ok` every 50 ms until it holds, for at most `ms`. */
async function eventually(ok: () => boolean, ms: number, what: string): Promise<void> {
  for (const end = performance.now() + ms; !ok();) {
    if (performance.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("a message the function writes to the host's channel is validated, dropped and counted", async () => {
  await using h = await start();
  // The process's own log message with a level that is not one: it crashed the worker host.
  assert.equal((await h.run("post", 1)).get(0).quality, "good");
  await eventually(() => h.host.malformed === 1, 5000, "the message is counted");
  assert.ok(
    h.lines.some((l) => /sent a malformed message: a log line with level "x"/.test(String(l.msg))),
  );
  assert.equal((await h.run("ok")).get(0).quality, "good", "the host lives on");
});

Deno.test("a malformed message is dropped and counted, and a log level that is not one is refused", async () => {
  const { checkMessage } = await import("./check.ts");
  assert.match(String(checkMessage({ t: "log", level: "x", msg: "" })), /level "x"/);
  assert.match(String(checkMessage({ t: "log", level: "constructor", msg: "" })), /level/);
  assert.match(String(checkMessage({ t: "ok", id: -1 })), /id -1/);
  assert.match(String(checkMessage(null)), /expected an object, got null/);
  assert.match(String(checkMessage({ t: "__proto__" })), /unknown message type/);
  const long = checkMessage({ t: "log", level: "info", msg: "a".repeat(10_000) });
  assert.ok(typeof long === "object" && long.t === "log" && long.msg.length < 4200);
});

Deno.test("a flood of log lines is rate-limited on the host side too", async () => {
  await using h = await start();
  assert.equal((await h.run("flood")).get(0).quality, "good");
  assert.equal((await h.run("console")).get(0).quality, "good");
  const lines = h.lines.filter((l) => /^line /.test(String(l.msg)));
  assert.ok(lines.length > 0 && lines.length <= 25, `${lines.length} lines logged`);
});

Deno.test("bytes that are no frame end the process; the next batch runs in a new one", async () => {
  await using h = await start();
  await h.run("hoard");
  const out = await h.run("garbage");
  // The garbage may be read before the reply (the batch fails) or after it.
  if (out.get(0).quality === "bad") assertAllBad(out, /its process sent a frame of \d+ bytes/);
  await eventually(() => h.host.malformed > 0, 5000, "the garbage is noticed");
  const next = await h.run("ok");
  assert.equal(next.get(0).quality, "good");
  assert.ok(h.lines.some((l) => /restarted in a new process/.test(String(l.msg))));
});

Deno.test("a process ended by bytes that are no frame leaves no open pipe behind", async () => {
  // Each such end leaked the read end of the old process's stdout: 40 descriptors (and their
  // buffers) after 20 minutes of the soak's forge fault.
  const probe = fileURLToPath(new URL("./testdata/fd_probe.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe, "8"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    before: number;
    after: number;
    malformed: number;
  };
  assert.ok(r.malformed >= 8, `${r.malformed} malformed frames seen`);
  assert.ok(
    r.after - r.before < 3,
    `open descriptors ${r.before} -> ${r.after} over 7 replacements`,
  );
});

Deno.test("a function that keeps growing its state is stopped at its memory limit", async () => {
  await using h = await start({ memoryMb: 64 });
  // The host's heap (nothing of the function's state is decoded or held here); not the RSS,
  // which other test files share under --parallel. The limit itself is the assertion above.
  const before = Deno.memoryUsage().heapUsed;
  let out = await h.run("grow");
  for (let i = 0; i < 20 && out.get(0).quality === "good"; i++) out = await h.run("grow");
  assertAllBad(out, /^function "x" exceeded its memory limit of 64 MB$/);
  // The state grew in the function's process, not in the gateway (80 MB a batch).
  const grown = (Deno.memoryUsage().heapUsed - before) / 2 ** 20;
  assert.ok(grown < 30, `the gateway's heap grew ${grown.toFixed(1)} MB`);
  const next = await h.run("ok");
  assert.equal(next.get(0).quality, "good", "a new process runs the next batch");
});

Deno.test("a function that allocates in a loop is stopped at its memory limit", async () => {
  await using h = await start({ memoryMb: 64, timeoutMs: 30_000 });
  assertAllBad(await h.run("alloc"), /^function "x" exceeded its memory limit of 64 MB$/);
  assert.equal((await h.run("ok")).get(0).quality, "good");
});

Deno.test("NaN and Infinity returned by a function are bad with the reason", async () => {
  await using h = await start();
  const out = await h.run("nan", 1, 2);
  assert.deepEqual(out.toArray().map((r) => [r.quality, r.reason]), [
    ["bad", 'function "x" returned a non-finite number (Infinity) for "plc/t0"'],
    ["bad", 'function "x" returned a non-finite number (NaN) for "plc/t1"'],
    ["bad", 'function "x" returned a non-finite number (Infinity) for "plc/t2"'],
  ]);
  assert.equal(h.errors.length, 1);
});

Deno.test("more records than maxOutput mark the batch bad and nothing huge reaches the host", async () => {
  await using h = await start({ timeoutMs: 60_000 });
  assertAllBad(await h.run("many"), /100000 records, more than its limit of 1010/);
  await using fixed = await start({ maxOutput: 5, timeoutMs: 60_000 });
  assertAllBad(await fixed.run("many"), /more than its limit of 5$/);
  assert.equal((await fixed.run("ok")).get(0).quality, "good", "state and process kept");
});

Deno.test("a function cannot start a web worker", async () => {
  await using h = await start();
  assertAllBad(await h.run("web"), /new Worker\(\) is not allowed in a function/);
});

Deno.test("a node worker a function starts does not outlive the time limit", async () => {
  await using h = await start({ timeoutMs: 1000 });
  const out = await h.run("node");
  assert.equal(out.get(0).quality, "good", String(out.get(0).reason));
  await eventually(
    () => h.lines.some((l) => /kept running after its batch/.test(String(l.msg))),
    15_000,
    "the spinning worker's process is ended",
  );
  assert.equal((await h.run("ok")).get(0).quality, "good", "a new process runs the next batch");
});

Deno.test("restarts of a function that fails every batch are logged a few times, then counted", async () => {
  await using h = await start({ timeoutMs: 300 });
  for (let i = 0; i < 6; i++) {
    let r = await h.run("ok");
    for (let j = 0; j < 100 && r.get(0).quality !== "good"; j++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await h.run("ok");
    }
    assertAllBad(await h.run("spin"), /timed out after 300 ms/);
  }
  const logged = h.lines.filter((l) => /restarted in a new process/.test(String(l.msg)));
  const restarts = h.host.stats().restarts ?? 0;
  assert.ok(restarts >= 5, `${restarts} restarts`);
  assert.equal(logged.length, 3, "three restart lines, the rest counted");
  assert.deepEqual(logged.map((l) => l.restarts), [1, 2, 3]);
});

Deno.test("replacing a timed-out process releases everything: the gateway's memory stays flat", async () => {
  // In a process of its own: under --parallel, this process's RSS is every test file's.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      fileURLToPath(new URL("./testdata/replacement_rss.ts", import.meta.url)),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const { grownMB } = JSON.parse(new TextDecoder().decode(out.stdout)) as { grownMB: number };
  // The worker host grew about 8 MB a replacement (120 MB here).
  assert.ok(grownMB < 40, `the gateway grew ${grownMB.toFixed(1)} MB over 15 replacements`);
});
