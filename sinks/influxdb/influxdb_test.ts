/**
 * @module
 * The `influxdb` sink against a real InfluxDB 1.x (Debian's influxd, API 1): points with
 * tricky names read back with their values, tags and timestamps; a field type conflict
 * dead-letters the one refused point with InfluxDB's message. API 2 is checked against a
 * local `Deno.serve` peer (path, query, token, gzip, body): no InfluxDB 2.x server can be
 * installed here, so that is a protocol check, not an interoperability test.
 */

import assert from "node:assert/strict";
import { Batch, Quality, systemClock, type Value } from "../../engine/plugin.ts";
import { gunzip } from "../_forward/mod.ts";
import { Influxd, influxdMissing } from "./_influxd.ts";
import { createInfluxSink, type InfluxConfig } from "./sink.ts";

const skip = influxdMissing();
if (skip) console.log(`SKIPPED influxdb_test.ts (InfluxDB 1.x cases): ${skip}`);

const T0 = 1_700_000_000_000;

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function batch(rows: [string, string, Value, number][]): Batch {
  const b = new Batch(rows.length);
  for (const [device, tag, value, seq] of rows) {
    b.add(device, tag, value, Quality.good, undefined, T0 + seq, T0 + seq, seq);
  }
  return b;
}

async function withSink<T>(
  config: InfluxConfig,
  fn: (s: ReturnType<typeof createInfluxSink>) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_influx_q_" });
  const sink = createInfluxSink(
    { retryMin: "20ms", retryMax: "100ms", ...config, queue: { dir } },
    {
      name: "tsdb",
      clock: systemClock,
    },
  );
  await sink.open();
  try {
    return await fn(sink);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "influxdb sink writes points that read back with values, tags and timestamps (1.x)",
  ignore: skip !== undefined,
  async fn() {
    await using influx = await Influxd.start();
    await influx.query("CREATE DATABASE plant");
    await withSink({
      url: influx.url,
      database: "plant",
      tags: { site: "north west", "a=b": "c,d" },
      batchSize: 100,
    }, async (sink) => {
      await sink.write(batch([
        ["boiler 1,a", "temp=1", 71.5, 0],
        ["boiler 1,a", "temp=1", -0.25, 1],
        ["valve", 'état "x"', true, 2],
        ["label", "text", 'he said "hi" \\ and\nleft', 3],
        ["counter", "n", 9007199254740993n, 4],
      ]));
      let seq = 10;
      for (let w = 0; w < 5; w++) {
        const rows: [string, string, Value, number][] = [];
        for (let i = 0; i < 200; i++, seq++) rows.push(["bulk", `t${seq % 7}`, seq * 0.5, seq]);
        await sink.write(batch(rows));
      }
      await until(() => sink.stats().depth === 0, "the queue to drain");
      assert.equal(sink.stats().deadLettered, 0);
      assert.equal(sink.stats().sent, 1005);
    });
    const [boiler] = await influx.query('SELECT * FROM "boiler 1,a"', "plant");
    assert.deepEqual(boiler!.columns, ["time", "a=b", "device", "quality", "site", "tag", "value"]);
    assert.deepEqual(boiler!.values, [
      [T0, "c,d", "boiler 1,a", "good", "north west", "temp=1", 71.5],
      [T0 + 1, "c,d", "boiler 1,a", "good", "north west", "temp=1", -0.25],
    ]);
    const [valve] = await influx.query('SELECT "tag", "value" FROM "valve"', "plant");
    assert.deepEqual(valve!.values, [[T0 + 2, 'état "x"', true]]);
    const [label] = await influx.query('SELECT "value" FROM "label"', "plant");
    assert.deepEqual(label!.values, [[T0 + 3, 'he said "hi" \\ and\nleft']]);
    // InfluxQL reads an int64 into a JSON number: compare the text of the answer instead.
    const raw = await (await fetch(
      `${influx.url}/query?db=plant&epoch=ms&q=${
        encodeURIComponent('SELECT "value" FROM "counter"')
      }`,
    )).text();
    assert.match(raw, /\[1700000000004,9007199254740993\]/);
    const [count] = await influx.query('SELECT count("value") FROM "bulk"', "plant");
    assert.equal(count!.values[0]![1], 1000);
  },
});

Deno.test({
  name: "influxdb sink dead-letters a point with a field type conflict, the rest land (1.x)",
  ignore: skip !== undefined,
  async fn() {
    await using influx = await Influxd.start();
    await influx.query("CREATE DATABASE plant");
    await withSink({ url: influx.url, database: "plant", measurement: "mixed" }, async (sink) => {
      await sink.write(batch([["m", "a", 1, 0]]));
      await until(() => sink.stats().depth === 0, "the first point");
      const rows: [string, string, Value, number][] = [];
      for (let s = 1; s <= 40; s++) rows.push(["m", "a", s === 17 ? "seventeen" : s, s]);
      await sink.write(batch(rows));
      await until(() => sink.stats().depth === 0, "the queue to drain");
      const s = sink.stats();
      assert.equal(s.deadLettered, 1);
      assert.equal(s.failed, 0);
      const [d] = sink.deadLetters!.recent();
      assert.equal(d!.record.seq, 17);
      assert.equal(d!.code, "http 400");
      assert.match(d!.reason, /field type conflict/);
    });
    const [count] = await influx.query('SELECT count("value") FROM "mixed"', "plant");
    assert.equal(count!.values[0]![1], 40);
  },
});

Deno.test("influxdb sink speaks API 2: path, org/bucket/precision, token and gzip", async () => {
  const requests: { url: URL; headers: Headers; body: string }[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      const body = new TextDecoder().decode(
        req.headers.get("content-encoding") === "gzip" ? await gunzip(raw) : raw,
      );
      requests.push({ url: new URL(req.url), headers: req.headers, body });
      return new Response(null, { status: 204 });
    },
  );
  await withSink({
    url: `http://127.0.0.1:${server.addr.port}/`,
    version: 2,
    org: "acme",
    bucket: "plant/raw",
    token: "t0k",
  }, async (sink) => {
    await sink.write(batch([["press", "p", 2.5, 0], ["press", "p", 2.75, 1]]));
    await until(() => sink.stats().depth === 0, "delivery");
  });
  const r = requests[0]!;
  assert.equal(r.url.pathname, "/api/v2/write");
  assert.equal(r.url.searchParams.get("org"), "acme");
  assert.equal(r.url.searchParams.get("bucket"), "plant/raw");
  assert.equal(r.url.searchParams.get("precision"), "ms");
  assert.equal(r.headers.get("authorization"), "Token t0k");
  assert.equal(r.headers.get("content-encoding"), "gzip");
  assert.equal(
    r.body,
    `press,device=press,quality=good,tag=p value=2.5 ${T0}\n` +
      `press,device=press,quality=good,tag=p value=2.75 ${T0 + 1}\n`,
  );
});

Deno.test("influxdb sink refuses a config without database (1) or org/bucket/token (2)", () => {
  const ctx = { name: "tsdb", clock: systemClock };
  assert.throws(() => createInfluxSink({ url: "http://x:8086" }, ctx), /'database' is required/);
  assert.throws(
    () => createInfluxSink({ url: "http://x:8086", version: 2, org: "a", bucket: "b" }, ctx),
    /'token' is required with version 2/,
  );
});
