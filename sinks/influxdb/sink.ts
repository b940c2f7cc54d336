/**
 * @module
 * The `influxdb` sink: records become line protocol points (see `line.ts`), written in
 * gzipped batches to InfluxDB's HTTP API (1.x `/write` or 2.x `/api/v2/write`, precision
 * ms) through the durable queue and the forwarder (`sinks/_forward`). 204 confirms a batch;
 * a 400 (bad point, field type conflict; InfluxDB keeps the good points of a partial write)
 * dead-letters the refused points after bisection, re-sending good points, which InfluxDB
 * overwrites in place (same series and time), so no duplicate is stored.
 *
 * The module entry (the `influxdb` sink's registry record) is `mod.ts`; this file loads with the
 * first `influxdb` sink a flow opens.
 */

import { BifrostError, parseDuration } from "../../engine/plugin.ts";
import {
  basicAuth,
  createForwardSink,
  DeliveryError,
  displayUrl,
  type ForwardContext,
  type ForwardSink,
  gzip,
  send,
} from "../_forward/mod.ts";
import { lineEncoder } from "./line.ts";
import { INFLUX_DEFAULTS, type InfluxConfig } from "./spec.ts";

export { escapeKey, escapeMeasurement, lineEncoder, quoteString } from "./line.ts";
export { INFLUX_DEFAULTS, type InfluxConfig, InfluxSpec } from "./spec.ts";

/** The write URL and headers of a config; throws CONFIG_INVALID when a field is missing. */
export function influxWrite(config: InfluxConfig, sink = "influxdb"): {
  url: string;
  headers: Headers;
} {
  const base = config.url.replace(/\/+$/, "");
  const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
  if (config.gzip ?? INFLUX_DEFAULTS.gzip) headers.set("content-encoding", "gzip");
  const missing = (what: string, version: number) =>
    new BifrostError(
      "CONFIG_INVALID",
      `Cannot write to InfluxDB from sink "${sink}": '${what}' is required with version ${version}`,
    );
  if ((config.version ?? INFLUX_DEFAULTS.version) === 1) {
    if (!config.database) throw missing("database", 1);
    const u = new URL(`${base}/write`);
    u.searchParams.set("db", config.database);
    if (config.retentionPolicy) u.searchParams.set("rp", config.retentionPolicy);
    u.searchParams.set("precision", "ms");
    if (config.username !== undefined) {
      headers.set("authorization", basicAuth(config.username, config.password ?? ""));
    }
    return { url: u.toString(), headers };
  }
  if (!config.org) throw missing("org", 2);
  if (!config.bucket) throw missing("bucket", 2);
  if (!config.token) throw missing("token", 2);
  const u = new URL(`${base}/api/v2/write`);
  u.searchParams.set("org", config.org);
  u.searchParams.set("bucket", config.bucket);
  u.searchParams.set("precision", "ms");
  headers.set("authorization", `Token ${config.token}`);
  return { url: u.toString(), headers };
}

/**
 * Creates an influxdb sink.
 *
 * @example
 * ```ts
 * const sink = createInfluxSink({ url: "http://127.0.0.1:8086", database: "plant" }, { name: "tsdb", clock: systemClock });
 * ```
 */
export function createInfluxSink(
  config: InfluxConfig,
  ctx: ForwardContext,
  random?: () => number,
): ForwardSink {
  const { url, headers } = influxWrite(config, ctx.name);
  const enc = lineEncoder(config.measurement ?? INFLUX_DEFAULTS.measurement, config.tags, ctx.name);
  const zip = config.gzip ?? INFLUX_DEFAULTS.gzip;
  const timeoutMs = parseDuration(config.timeout ?? INFLUX_DEFAULTS.timeout);
  const retryStatuses = config.retryStatuses ?? INFLUX_DEFAULTS.retryStatuses;
  const target = displayUrl(url);
  return createForwardSink({
    kind: "influxdb",
    config,
    batchSize: INFLUX_DEFAULTS.batchSize,
    ctx,
    ...(random ? { random } : {}),
    destination: () => ({
      target: `InfluxDB ${target}`,
      async deliver(b, c) {
        const lines = new Array<string>(b.length);
        for (let i = 0; i < b.length; i++) {
          const l = enc.line(b, i, c.historical);
          if (l === undefined) {
            // Found locally: bisection isolates the record without sending it.
            throw new DeliveryError(
              `Cannot write ${b.device[i]}/${b.tag[i]} seq ${b.seq[i]} to InfluxDB: value ${
                String(b.value(i))
              } has no line protocol form and the record has no reason`,
              { permanent: true, code: "influx unencodable" },
            );
          }
          lines[i] = l;
        }
        const text = lines.join("\n") + "\n";
        const body = zip ? await gzip(text) : text;
        await send(url, { method: "POST", headers, body: body as BodyInit }, {
          timeoutMs,
          signal: c.signal,
          what: `InfluxDB write to ${target}`,
          retryStatuses,
        });
      },
    }),
  });
}
