/**
 * @module
 * The sparkplug sink against a real mosquitto, checked by a host stand-in that decodes
 * every message with Eclipse Tahu's decoder: births, aliases, seq wrap, rebirth, DCMD
 * writes, the NDEATH will, bdSeq across reconnects and restarts, historical replay.
 */

import assert from "node:assert/strict";
import {
  Batch,
  BifrostError,
  type Catalog,
  createLogger,
  type DataRecord,
  type SinkContext,
  systemClock,
  type Value,
} from "../../engine/plugin.ts";
import {
  Broker,
  checkSequence,
  Host,
  type HostMessage,
  mosquittoMissing,
  waitFor,
} from "./_broker.ts";
import { sparkplugSink } from "./mod.ts";
import { type SparkplugConfig, type SparkplugSink } from "./sink.ts";

// The sink loads on first use (`load()`), as in a gateway.
await sparkplugSink.load?.();

const skip = mosquittoMissing();
const GROUP = "G1";
const NODE = "edge1";

const catalog: Catalog = new Map([
  ["press-1", [
    { name: "temp", type: "float32", unit: "°C", writable: false },
    { name: "count", type: "int32", writable: false },
    { name: "total", type: "uint64", writable: false },
    { name: "run", type: "bool", writable: true },
    { name: "setpoint", type: "float64", writable: true },
    { name: "label", type: "string", writable: false },
  ]],
  ["press-2", [{ name: "level", type: "int16", writable: false }]],
]);

let seqNo = 0;
function batch(...rs: Partial<DataRecord>[]): Batch {
  return Batch.from(rs.map((r) => ({
    device: "press-1",
    tag: "count",
    value: 0,
    quality: "good",
    sourceTs: 1_700_000_000_000 + seqNo,
    gatewayTs: 1_700_000_000_000 + seqNo,
    seq: seqNo++,
    ...r,
  })));
}

interface Harness {
  broker: Broker;
  host: Host;
  dir: string;
  logs: string[];
  writes: { device: string; tag: string; value: Value }[];
  open(extra?: Partial<SparkplugConfig>): Promise<SparkplugSink>;
}

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  await using broker = await Broker.start();
  const dir = await Deno.makeTempDir({ prefix: "bifrost_sparkplug_" });
  const host = await Host.connect(broker.url, GROUP);
  const sinks: SparkplugSink[] = [];
  const h: Harness = {
    broker,
    host,
    dir,
    logs: [],
    writes: [],
    async open(extra = {}) {
      const ctx: SinkContext = {
        name: "spb",
        log: createLogger({ level: "debug", json: true, write: (l) => h.logs.push(l) }),
        clock: systemClock,
        dataDir: dir,
        catalog,
        writeTag: (device, tag, value) => {
          if (value === 13) {
            return Promise.reject(new BifrostError("WRITE_REJECTED", "unlucky value"));
          }
          h.writes.push({ device, tag, value });
          return Promise.resolve();
        },
      };
      const config: SparkplugConfig = {
        url: broker.url,
        groupId: GROUP,
        edgeNode: NODE,
        keepalive: "5s",
        reconnectMin: "50ms",
        reconnectMax: "200ms",
        queue: { dir },
        ...extra,
      };
      const sink = sparkplugSink.create(config, ctx) as SparkplugSink;
      sinks.push(sink);
      await sink.open();
      await waitFor(() => sink.node?.online === true, () => "sink never came online");
      return sink;
    },
  };
  try {
    await fn(h);
  } finally {
    for (const s of sinks) await s.close();
    await host.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function metric(m: HostMessage, name: string) {
  const x = m.metrics.find((x) => x.name === name);
  assert.ok(x, `metric "${name}" in ${m.topic}`);
  return x;
}

function births(host: Host, n: number): () => boolean {
  return () => host.of("NBIRTH").length >= n && host.of("DBIRTH").length >= 2 * n;
}

Deno.test({
  name: "sparkplug publishes NBIRTH, DBIRTHs, then DDATA by alias with seq wrapping at 256",
  ignore: skip !== undefined,
  async fn() {
    await withHarness(async (h) => {
      const sink = await h.open();
      await waitFor(births(h.host, 1), () => `births: ${h.host.messages.length} messages`);
      const nbirth = h.host.of("NBIRTH")[0]!;
      assert.equal(h.host.messages[0], nbirth);
      assert.equal(String(metric(nbirth, "bdSeq").value), "0");
      assert.equal(metric(nbirth, "bdSeq").type, "UInt64");
      assert.equal(metric(nbirth, "Node Control/Rebirth").value, false);
      const dbirth = h.host.of("DBIRTH", "press-1")[0]!;
      const types = Object.fromEntries(dbirth.metrics.map((m) => [m.name, m.type]));
      assert.deepEqual(types, {
        temp: "Float",
        count: "Int32",
        total: "UInt64",
        run: "Boolean",
        setpoint: "Double",
        label: "String",
      });
      assert.deepEqual(metric(dbirth, "temp").properties, {
        engUnit: { type: "String", value: "°C" },
      });
      assert.ok(dbirth.metrics.every((m) => m.value === null), "nothing written yet: is_null");
      const aliases = [...h.host.of("DBIRTH")].flatMap((m) =>
        m.metrics.map((x) => String(x.alias))
      );
      assert.equal(new Set(aliases).size, 7, "aliases unique across the node");
      const countAlias = String(metric(dbirth, "count").alias);

      const N = 300;
      for (let i = 0; i < N; i++) await sink.write(batch({ value: i === 0 ? 0 : -i }));
      await sink.write(batch(
        { tag: "total", value: 2n ** 64n - 2n },
        { tag: "label", value: "ok ✓" },
        { device: "press-2", tag: "level", value: -7 },
      ));
      const ddataMetrics = () => h.host.of("DDATA").flatMap((m) => m.metrics);
      await waitFor(
        () => ddataMetrics().length === N + 3,
        () => `${ddataMetrics().length} DDATA metrics`,
      );

      assert.ok(checkSequence(h.host.messages) >= 1, "seq wrapped");
      const counts = ddataMetrics().filter((m) => String(m.alias) === countAlias);
      assert.deepEqual(
        counts.map((m) => m.value),
        Array.from({ length: N }, (_, i) => i === 0 ? 0 : -i),
      );
      assert.ok(
        ddataMetrics().every((m) => m.name === undefined || m.name === null),
        "aliases only",
      );
      assert.ok(ddataMetrics().every((m) => !m.isHistorical));
      const total = ddataMetrics().find((m) => m.type === "UInt64")!;
      assert.equal(String(total.value), (2n ** 64n - 2n).toString());
      assert.equal(ddataMetrics().find((m) => m.type === "String")!.value, "ok ✓");
      assert.equal(h.host.of("DDATA", "press-2")[0]!.metrics[0]!.value, -7);

      await sink.close();
      await waitFor(() => h.host.of("NDEATH").length === 1, () => "no NDEATH on clean close");
      assert.equal(String(metric(h.host.of("NDEATH")[0]!, "bdSeq").value), "0");
    });
  },
});

Deno.test({
  name: "sparkplug rebirths on NCMD and writes DCMD metrics of writable tags only",
  ignore: skip !== undefined,
  async fn() {
    await withHarness(async (h) => {
      const sink = await h.open();
      await waitFor(births(h.host, 1), () => "first births");
      await sink.write(batch({ tag: "setpoint", value: 12.5 }));
      await waitFor(() => h.host.of("DDATA").length === 1, () => "DDATA");

      await h.host.command(`spBv1.0/${GROUP}/NCMD/${NODE}`, [
        { name: "Node Control/Rebirth", type: "Boolean", value: true },
      ]);
      await waitFor(births(h.host, 2), () => "births after the rebirth request");
      const second = h.host.of("NBIRTH")[1]!;
      assert.equal(String(metric(second, "bdSeq").value), "0", "same connection, same bdSeq");
      const reborn = h.host.of("DBIRTH", "press-1")[1]!;
      assert.equal(metric(reborn, "setpoint").value, 12.5, "DBIRTH carries the current value");

      const runAlias = metric(reborn, "run").alias;
      await h.host.command(`spBv1.0/${GROUP}/DCMD/${NODE}/press-1`, [
        { name: "setpoint", type: "Double", value: 42.5 },
        { alias: runAlias, type: "Boolean", value: true },
        { name: "temp", type: "Float", value: 1 },
        { name: "setpoint", type: "Double", value: 13 },
        { name: "nope", type: "Int32", value: 1 },
      ]);
      await h.host.command(`spBv1.0/${GROUP}/DCMD/${NODE}/press-9`, [
        { name: "run", type: "Boolean", value: false },
      ]);
      await waitFor(
        () => h.logs.filter((l) => l.includes("Ignored DCMD")).length >= 4,
        () => h.logs.join("\n"),
      );
      await sink.write(batch({ tag: "count", value: 1 }));
      await waitFor(() => h.host.of("DDATA").length === 2, () => "DDATA after rebirth");
      assert.deepEqual(h.writes, [
        { device: "press-1", tag: "setpoint", value: 42.5 },
        { device: "press-1", tag: "run", value: true },
      ]);
      const log = h.logs.join("\n");
      assert.match(
        log,
        /Ignored DCMD metric \\"temp\\" for \\"press-1\\": tag \\"temp\\" is not writable/,
      );
      assert.match(log, /nope.*no such metric/);
      assert.match(log, /setpoint.*the write failed: unlucky value/);
      assert.match(log, /press-9.*no such device/);
      checkSequence(h.host.messages);
      assert.equal(sink.stats!().rebirths, 1);
    });
  },
});

Deno.test({
  name: "sparkplug NDEATH arrives as the will when the socket dies; bdSeq moves on, births repeat",
  ignore: skip !== undefined,
  async fn() {
    await withHarness(async (h) => {
      const sink = await h.open();
      await waitFor(births(h.host, 1), () => "first births");
      sink.node!.dropConnection();
      await waitFor(() => h.host.of("NDEATH").length === 1, () => "no NDEATH will");
      assert.equal(String(metric(h.host.of("NDEATH")[0]!, "bdSeq").value), "0");
      await waitFor(births(h.host, 2), () => "births after reconnect");
      assert.equal(String(metric(h.host.of("NBIRTH")[1]!, "bdSeq").value), "1");
      await sink.write(batch({ value: 5 }));
      await waitFor(() => h.host.of("DDATA").length === 1, () => "DDATA after reconnect");
      checkSequence(h.host.messages);
      await sink.close();
      await waitFor(() => h.host.of("NDEATH").length === 2, () => "NDEATH on close");
      assert.equal(String(metric(h.host.of("NDEATH")[1]!, "bdSeq").value), "1");

      // A restarted gateway continues the bdSeq sequence (kept beside the queue).
      await h.open();
      await waitFor(births(h.host, 3), () => "births after restart");
      assert.equal(String(metric(h.host.of("NBIRTH")[2]!, "bdSeq").value), "2");
    });
  },
});

Deno.test({
  name: "sparkplug replays values queued during a broker outage with is_historical",
  ignore: skip !== undefined,
  async fn() {
    await withHarness(async (h) => {
      const sink = await h.open({ qos: 1 });
      await waitFor(births(h.host, 1), () => "first births");
      for (let i = 0; i < 5; i++) await sink.write(batch({ value: i }));
      await waitFor(() => sink.queue!.depth() === 0, () => "live records acknowledged");

      await h.broker.stop();
      await waitFor(() => !sink.node!.online, () => "sink noticed the outage");
      for (let i = 100; i < 120; i++) await sink.write(batch({ value: i }));
      await new Promise((r) => setTimeout(r, 2_000));
      assert.equal(sink.queue!.depth(), 20, "held in the durable queue");
      await h.broker.resume();

      await waitFor(
        births(h.host, 2),
        () =>
          `births after the outage: ${JSON.stringify(h.host.messages.map((m) => m.topic))} online=${
            sink.node!.online
          } connected=${h.host.client.connected}\n${h.logs.join("\n")}\n${
            Deno.readTextFileSync(h.broker.dir + "/mosquitto.log")
          }`,
        10_000,
      );
      const values = () => h.host.of("DDATA").flatMap((m) => m.metrics);
      await waitFor(() => values().length === 25, () => `${values().length} of 25 values`, 10_000);
      await sink.write(batch({ value: 200 }));
      await waitFor(() => values().length === 26, () => "live value after the outage");

      const all = values();
      assert.deepEqual(
        all.slice(0, 5).map((m) => [m.value, !!m.isHistorical]),
        [0, 1, 2, 3, 4].map((v) => [v, false]),
      );
      assert.deepEqual(
        all.slice(5, 25).map((m) => [m.value, m.isHistorical]),
        Array.from({ length: 20 }, (_, i) => [100 + i, true]),
      );
      assert.deepEqual([all[25]!.value, !!all[25]!.isHistorical], [200, false]);
      assert.equal(String(metric(h.host.of("NBIRTH")[1]!, "bdSeq").value), "1");
      const reborn = h.host.of("DBIRTH", "press-1")[1]!;
      assert.equal(
        metric(reborn, "count").value,
        119,
        "DBIRTH after the outage has the newest value",
      );
      checkSequence(h.host.messages);
      assert.equal(sink.stats!().historical, 20);
    });
  },
});
