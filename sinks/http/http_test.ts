/**
 * @module
 * The `http` sink against local `Deno.serve` endpoints: a failing endpoint that recovers
 * (nothing lost, order kept, duplicates counted), a poisoned record refused with 400
 * (dead-lettered, the rest delivered), Retry-After, NDJSON + gzip + bearer auth, and a
 * restart that replays the records kept on disk as historical.
 */

import assert from "node:assert/strict";
import { Batch, Quality, systemClock } from "../../engine/plugin.ts";
import { gunzip } from "../_forward/mod.ts";
import { createHttpSink, type HttpConfig } from "./sink.ts";

interface Received {
  seq: number;
  value: unknown;
  historical?: boolean;
}

function records(from: number, n: number, value = (s: number): number | string => s): Batch {
  const b = new Batch(n);
  const now = Date.now();
  for (let s = from; s < from + n; s++) {
    b.add("line1", `t${s % 4}`, value(s), Quality.good, undefined, now, now, s);
  }
  return b;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An endpoint whose answer to each request `answer` decides (after parsing the body). */
function endpoint(
  answer: (recs: Received[], req: Request, n: number) => Response | undefined,
) {
  const got: Received[] = [];
  const at: number[] = [];
  let n = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    let raw: Uint8Array = new Uint8Array(await req.arrayBuffer());
    if (req.headers.get("content-encoding") === "gzip") raw = await gunzip(raw);
    const text = new TextDecoder().decode(raw);
    const recs: Received[] = req.headers.get("content-type") === "application/x-ndjson"
      ? text.trim().split("\n").map((l) => JSON.parse(l))
      : JSON.parse(text).records;
    at.push(Date.now());
    const res = answer(recs, req, n++);
    if (res) return res;
    got.push(...recs);
    return new Response(null, { status: 204 });
  });
  const url = `http://127.0.0.1:${server.addr.port}/ingest`;
  return { server, url, got, at, requests: () => n };
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "bifrost_http_" });
}

function checkSeqs(got: Received[], expected: number[]): number {
  const first: number[] = [];
  const seen = new Set<number>();
  let dups = 0;
  for (const r of got) {
    if (seen.has(r.seq)) dups++;
    else first.push(r.seq), seen.add(r.seq);
  }
  assert.deepEqual(first, expected, "every record once, in order");
  return dups;
}

const base = (url: string, dir: string): HttpConfig => ({
  url,
  retryMin: "20ms",
  retryMax: "100ms",
  closeTimeout: "3s",
  queue: { dir },
});

Deno.test("http sink delivers every record in order through a failing endpoint", async () => {
  let failing = true;
  const ep = endpoint((_recs, req) => {
    assert.equal(req.headers.get("authorization"), `Basic ${btoa("gw:s3cret")}`);
    return failing ? new Response("upstream down", { status: 500 }) : undefined;
  });
  await using _s = ep.server;
  const dir = await tempDir();
  const sink = createHttpSink({ ...base(ep.url, dir), username: "gw", password: "s3cret" }, {
    name: "mes",
    clock: systemClock,
  });
  await sink.open();
  try {
    let seq = 0;
    for (let i = 0; i < 20; i++) {
      await sink.write(records(seq, 25));
      seq += 25;
      if (i === 10) {
        await until(() => sink.stats().failed >= 3, "three failed requests");
        failing = false;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => sink.stats().depth === 0, "the queue to drain");
    await sink.write(records(500, 10));
    await until(() => sink.stats().depth === 0, "live records");
    const dups = checkSeqs(ep.got, Array.from({ length: 510 }, (_, i) => i));
    const s = sink.stats();
    assert.equal(s.sent, 510 + dups);
    assert.ok(s.failed >= 3);
    assert.equal(s.deadLettered, 0);
    // Records that waited through the outage are marked historical, later ones are not.
    assert.equal(ep.got.find((r) => r.seq === 0)?.historical, true);
    assert.equal(ep.got.find((r) => r.seq === 509)?.historical, undefined);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http sink dead-letters a record refused with 400 and delivers the rest", async () => {
  const ep = endpoint((recs) => {
    const bad = recs.find((r) => r.value === "poison");
    return bad
      ? Response.json({ error: `cannot store seq ${bad.seq}: not a number` }, { status: 400 })
      : undefined;
  });
  await using _s = ep.server;
  const dir = await tempDir();
  const sink = createHttpSink({ ...base(ep.url, dir), batchSize: 100 }, {
    name: "mes",
    clock: systemClock,
  });
  await sink.open();
  try {
    await sink.write(records(0, 300, (s) => (s === 42 || s === 250 ? "poison" : s)));
    await until(() => sink.stats().depth === 0, "the queue to drain");
    checkSeqs(
      ep.got,
      Array.from({ length: 300 }, (_, i) => i).filter((s) => s !== 42 && s !== 250),
    );
    const s = sink.stats();
    assert.equal(s.deadLettered, 2);
    assert.equal(s.deadLetters, 2);
    assert.equal(s.failed, 0);
    const dl = sink.deadLetters!.recent().reverse();
    assert.deepEqual(dl.map((d) => d.record.seq), [42, 250]);
    assert.equal(dl[0]!.code, "http 400");
    assert.match(
      dl[0]!.reason,
      /HTTP 400 Bad Request: \{"error":"cannot store seq 42: not a number"\}/,
    );
    assert.equal(dl[0]!.record.value, "poison");
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http sink waits as long as a 429's Retry-After says", async () => {
  const ep = endpoint((_recs, _req, n) =>
    n === 0
      ? new Response("slow down", { status: 429, headers: { "retry-after": "1" } })
      : undefined
  );
  await using _s = ep.server;
  const dir = await tempDir();
  const sink = createHttpSink(base(ep.url, dir), { name: "mes", clock: systemClock });
  await sink.open();
  try {
    await sink.write(records(0, 10));
    await until(() => sink.stats().depth === 0, "the retry");
    assert.equal(ep.requests(), 2);
    assert.ok(ep.at[1]! - ep.at[0]! >= 900, `retried after ${ep.at[1]! - ep.at[0]!} ms`);
    checkSeqs(ep.got, Array.from({ length: 10 }, (_, i) => i));
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http sink sends NDJSON, gzip and a bearer token", async () => {
  const seen: Headers[] = [];
  const ep = endpoint((_recs, req) => {
    seen.push(req.headers);
    return undefined;
  });
  await using _s = ep.server;
  const dir = await tempDir();
  const sink = createHttpSink({
    ...base(ep.url, dir),
    format: "ndjson",
    gzip: true,
    token: "tok-123",
    headers: { "X-Plant": "north" },
  }, { name: "mes", clock: systemClock });
  await sink.open();
  try {
    await sink.write(records(0, 5));
    await until(() => sink.stats().depth === 0, "delivery");
    checkSeqs(ep.got, [0, 1, 2, 3, 4]);
    assert.equal(seen[0]!.get("authorization"), "Bearer tok-123");
    assert.equal(seen[0]!.get("content-encoding"), "gzip");
    assert.equal(seen[0]!.get("x-plant"), "north");
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("http sink keeps undelivered records on disk at close and replays them as historical", async () => {
  const down = endpoint(() => new Response("maintenance", { status: 503 }));
  const dir = await tempDir();
  try {
    const first = createHttpSink({ ...base(down.url, dir), closeTimeout: "100ms" }, {
      name: "mes",
      clock: systemClock,
    });
    await first.open();
    await first.write(records(0, 40));
    await until(() => first.stats().failed >= 1, "a failed request");
    await first.close();
    assert.equal(first.stats().depth, 40);
    await down.server.shutdown();

    const up = endpoint(() => undefined);
    await using _s = up.server;
    const second = createHttpSink(base(up.url, dir), { name: "mes", clock: systemClock });
    await second.open();
    try {
      await second.write(records(40, 10));
      await until(() => second.stats().depth === 0, "the replay");
      checkSeqs(up.got, Array.from({ length: 50 }, (_, i) => i));
      assert.ok(up.got.filter((r) => r.seq < 40).every((r) => r.historical === true));
      assert.ok(up.got.filter((r) => r.seq >= 40).every((r) => r.historical === undefined));
    } finally {
      await second.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
