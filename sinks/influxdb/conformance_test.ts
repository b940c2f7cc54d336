/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `influxdb` sink against
 * a real InfluxDB 1.x (`_influxd.ts`), skipped by name when influxd is not installed. One
 * measurement per device and tag (`{device}_{tag}`): a field keeps one type per measurement,
 * so a string tag and a float tag cannot share one. InfluxDB keeps no gateway time and no
 * seq; records are matched by device, tag and source time.
 */

import type { Value } from "../../engine/record.ts";
import {
  type ReadBackRecord,
  runSinkConformance,
  type SinkServer,
} from "../../tests/conformance/sink.ts";
import { Influxd, influxdMissing } from "./_influxd.ts";
import { influxdbSink } from "./mod.ts";

interface Influx extends SinkServer {
  influx: Influxd;
}

async function startInflux(): Promise<Influx> {
  const influx = await Influxd.start();
  const close = () => influx[Symbol.asyncDispose]();
  try {
    await influx.query("CREATE DATABASE plant");
  } catch (e) {
    await close();
    throw e;
  }
  return {
    influx,
    stop: () => influx.stop(),
    start: () => influx.resume(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function readBack(s: Influx): Promise<ReadBackRecord[]> {
  const out: ReadBackRecord[] = [];
  // One query per measurement: a regex query over measurements whose `value` fields differ
  // in type drops rows and values.
  const names = (await s.influx.query("SHOW MEASUREMENTS", "plant")).flatMap((m) =>
    m.values.map((v) => String(v[0]))
  );
  const all = [];
  for (const n of names) {
    all.push(...await s.influx.query(`SELECT * FROM "${n.replaceAll('"', '\\"')}"`, "plant"));
  }
  for (const series of all) {
    const col = (name: string) => series.columns.indexOf(name);
    for (const row of series.values) {
      const reason = row[col("reason")] as string | null;
      out.push({
        device: row[col("device")] as string,
        tag: row[col("tag")] as string,
        value: (row[col("value")] ?? null) as Value,
        quality: row[col("quality")] as ReadBackRecord["quality"],
        ...(reason === null ? {} : { reason }),
        sourceTs: row[col("time")] as number,
      });
    }
  }
  return out;
}

const missing = influxdMissing();

runSinkConformance<Influx>({
  module: influxdbSink,
  ...(missing ? { unavailable: missing } : {}),
  startServer: startInflux,
  config: (s, dataDir) => ({
    url: s.influx.url,
    database: "plant",
    measurement: "{device}_{tag}",
    timeout: "2s",
    retryMin: "20ms",
    retryMax: "200ms",
    breakerCoolDown: "300ms",
    queue: { dir: dataDir },
  }),
  readBack,
  fields: ["value", "quality", "reason", "sourceTs"],
  queued: true,
  delivered: (s) => s.sent ?? 0,
  exampleBase: { url: "http://influx:8086", database: "plant" },
});
