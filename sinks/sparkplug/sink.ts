/**
 * @module
 * The `sparkplug` sink: Bifrost as a Sparkplug B 3.0 edge node. `write()` enqueues the
 * batch in the durable queue (`sinks/_queue`) and returns; the {@linkcode EdgeNode} publishes
 * births and DDATA from the queue and carries DCMD writes back through `ctx.writeTag`.
 * See `session.ts` for the protocol behaviour and `payload.ts` for the codec.
 *
 * The bdSeq of the last connection is kept in `<queue file>.bdseq` beside the queue, so a
 * restarted gateway continues the sequence (a host can then tell a late NDEATH of the
 * previous process from the current session's).
 *
 * The module entry (the `sparkplug` sink's registry record) is `mod.ts`; this file loads with the
 * first `sparkplug` sink a flow opens.
 */

import { checkpointQueue, queuedWrite } from "../_queue/sink_io.ts";
import { readFileSync, writeFileSync } from "node:fs";
import type { IClientOptions } from "mqtt";
import {
  type Batch,
  errorMessage,
  nullLogger,
  parseDuration,
  type Sink,
  type SinkContext,
  type SinkStats,
} from "../../engine/plugin.ts";
import { type DurableQueue, openSinkQueue, queuePath } from "../_queue/mod.ts";
import { NodeModel } from "./model.ts";
import { type BdSeqStore, EdgeNode } from "./session.ts";
import { SPARKPLUG_DEFAULTS, type SparkplugConfig } from "./spec.ts";
import { Topics } from "./topics.ts";

export { decodePayload, encodePayload } from "./payload.ts";
export { type SparkplugConfig, SparkplugSpec } from "./spec.ts";

/** A running sparkplug sink, with its edge node (stats, test hooks). */
export interface SparkplugSink extends Sink {
  /** The edge node once open. */
  readonly node: EdgeNode | undefined;
  readonly queue: DurableQueue | undefined;
}

/**
 * A bdSeq store in a small text file holding the last bdSeq a broker accepted; a missing or
 * unreadable file starts at 0.
 */
export function fileBdSeqStore(path: string): BdSeqStore {
  let last = -1;
  try {
    const n = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    if (Number.isInteger(n) && n >= 0 && n <= 255) last = n;
  } catch { /* first start */ }
  return {
    peek: () => (last + 1) % 256,
    commit() {
      last = (last + 1) % 256;
      try {
        writeFileSync(path, `${last}\n`);
      } catch { /* the sequence still holds for this process */ }
    },
  };
}

function clientOptions(config: SparkplugConfig): IClientOptions {
  const o: IClientOptions = {
    clientId: config.clientId ?? `bifrost-${config.groupId}-${config.edgeNode}`,
    protocolVersion: 4,
    keepalive: Math.round(parseDuration(config.keepalive ?? SPARKPLUG_DEFAULTS.keepalive) / 1000),
    connectTimeout: parseDuration(config.connectTimeout ?? SPARKPLUG_DEFAULTS.connectTimeout),
  };
  if (config.username !== undefined) o.username = config.username;
  if (config.password !== undefined) o.password = config.password;
  return o;
}

/**
 * Creates a sparkplug sink.
 *
 * @example
 * ```ts
 * const sink = createSparkplugSink(
 *   { url: "mqtt://127.0.0.1:1883", groupId: "plant1", edgeNode: "line3" },
 *   ctx,
 * );
 * await sink.open();      // connects in the background: NBIRTH, DBIRTHs
 * await sink.write(batch); // durable on return; DDATA in the background
 * await sink.close();      // drains, publishes NDEATH, disconnects
 * ```
 */
export function createSparkplugSink(config: SparkplugConfig, ctx: SinkContext): SparkplugSink {
  const log = ctx.log ?? nullLogger;
  const closeTimeoutMs = parseDuration(config.closeTimeout ?? SPARKPLUG_DEFAULTS.closeTimeout);
  let queue: DurableQueue | undefined;
  let node: EdgeNode | undefined;
  let model: NodeModel | undefined;
  return {
    get node() {
      return node;
    },
    get queue() {
      return queue;
    },
    open() {
      if (queue) return Promise.resolve();
      try {
        queue = openSinkQueue(config.queue, { ...ctx, log });
        model = new NodeModel(ctx.catalog, log);
        const bdSeqPath = queuePath(config.queue, ctx.name, ctx.dataDir).replace(/\.db$/, "") +
          ".bdseq";
        node = new EdgeNode({
          url: config.url,
          mqtt: clientOptions(config),
          topics: new Topics(config.groupId, config.edgeNode),
          qos: config.qos ?? SPARKPLUG_DEFAULTS.qos,
          queue,
          model,
          writeTag: (d, t, v) => ctx.writeTag(d, t, v),
          bdSeq: fileBdSeqStore(bdSeqPath),
          maxInFlight: config.maxInFlight ?? SPARKPLUG_DEFAULTS.maxInFlight,
          metricsPerMessage: config.metricsPerMessage ?? SPARKPLUG_DEFAULTS.metricsPerMessage,
          reconnectMinMs: parseDuration(config.reconnectMin ?? SPARKPLUG_DEFAULTS.reconnectMin),
          reconnectMaxMs: parseDuration(config.reconnectMax ?? SPARKPLUG_DEFAULTS.reconnectMax),
          clock: ctx.clock,
          log,
        });
        node.start();
        return Promise.resolve();
      } catch (e) {
        queue?.close();
        queue = undefined;
        return Promise.reject(e);
      }
    },
    write(b: Batch) {
      const n = node, m = model;
      return queuedWrite(n && m && queue, `sparkplug sink "${ctx.name}"`, b, () => {
        m!.remember(b);
        n!.notify();
      });
    },
    // Records are on disk once write() returned; this only folds the WAL back.
    flush: () => checkpointQueue(queue),
    async close() {
      const n = node;
      const q = queue;
      node = undefined;
      queue = undefined;
      try {
        await n?.close(closeTimeoutMs);
      } catch (e) {
        log.warn(`Sparkplug sink "${ctx.name}" did not close cleanly: ${errorMessage(e)}`);
      } finally {
        q?.close();
      }
    },
    stats(): SinkStats {
      return { ...(queue?.stats() ?? {}), ...(node?.stats ?? {}) };
    },
  };
}
