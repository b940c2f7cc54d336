/**
 * @module
 * The Sparkplug B 3.0 edge node session: one MQTT connection at a time, owned here (mqtt.js
 * reconnect is off; backoff with jitter between attempts).
 *
 * Per connection: the next bdSeq (0..255, kept across restarts by the sink; a number is used
 * up only once a broker accepted the CONNECT that carried it) goes into the
 * NDEATH registered as the MQTT will (QoS 1, not retained); after CONNACK the node subscribes
 * to its NCMD and DCMD topics (QoS 1), then publishes NBIRTH (seq 0, `bdSeq`,
 * `Node Control/Rebirth`) and one DBIRTH per device (QoS 0, not retained), then DDATA
 * from the durable queue. `seq` counts every NBIRTH/DBIRTH/DDATA of the node, 0..255
 * wrapping, and restarts at 0 with each NBIRTH.
 *
 * Records already queued when the connection came up waited through an outage (or a
 * restart) and go out with `is_historical`. Queue entries are acknowledged per chunk once
 * every DDATA built from the chunk is confirmed (socket write at QoS 0, PUBACK at QoS 1);
 * a lost connection leaves the rest queued, sent again after the next births.
 *
 * DDEATH is not published: the sink contract carries no device-health signal, and a
 * device whose reads fail produces bad-quality records, which go out as `is_null` metrics.
 * A clean shutdown publishes NDEATH itself before DISCONNECT (the broker sends the will
 * only when a connection is lost).
 */

import type { MqttClient } from "mqtt";
import { backoffDelay, errorMessage } from "../../engine/plugin.ts";
import type { QueueChunk } from "../_queue/mod.ts";
import { handleCommand } from "./commands.ts";
import { bdSeqMetric, openClient, payloadBuffer } from "./connection.ts";
import { DataType } from "./payload.ts";
import type { EdgeNodeOptions, EdgeNodeStats, Session } from "./types.ts";

export type { BdSeqStore, EdgeNodeOptions, EdgeNodeStats, Session } from "./types.ts";

/** Records read from the queue per step at most. */
const CHUNK = 500;
/** Queue acknowledgements are written at most this often (ms). */
const ACK_INTERVAL_MS = 20;
/** How often a drain waiting for the connection looks again, ms. */
const DRAIN_POLL_MS = 20;

/** The edge node: connection, births, data and commands. */
export class EdgeNode {
  readonly #o: EdgeNodeOptions;
  readonly stats: EdgeNodeStats = {
    connected: 0,
    reconnects: 0,
    births: 0,
    rebirths: 0,
    ddata: 0,
    sent: 0,
    historical: 0,
    commands: 0,
    writes: 0,
    writesRejected: 0,
    bdSeq: -1,
  };
  #seq = 0;
  #session: Session | undefined;
  #connecting: MqttClient | undefined;
  #closing = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #progress: (() => void)[] = [];
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #writes = new Set<Promise<void>>();

  constructor(o: EdgeNodeOptions) {
    this.#o = o;
  }

  /** Starts connecting and publishing in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Tells the sender that records were enqueued. */
  notify(): void {
    this.#wake?.();
  }

  /** True while a connection is up and births were sent. */
  get online(): boolean {
    return this.#session?.alive === true;
  }

  /**
   * Test hook: destroys the socket without DISCONNECT, as a network failure would, so the
   * broker publishes the NDEATH will. The node reconnects with the next bdSeq.
   */
  dropConnection(): void {
    const stream = this.#session?.client.stream as { destroy?: () => void } | undefined;
    stream?.destroy?.();
  }

  /**
   * Resolves once the queue is empty or `ms` passed. A node not online yet (closed right
   * after `open()`) or reconnecting is given the time to connect and publish.
   */
  async drain(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
    try {
      while (!this.#closing && this.#o.queue.depth() > 0) {
        const next = this.online
          ? new Promise<void>((r) => this.#progress.push(r))
          : new Promise<void>((r) => setTimeout(r, DRAIN_POLL_MS));
        if (await Promise.race([next, timeout]) === "timeout") return;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops: publishes NDEATH and disconnects (after draining up to `drainMs`). */
  async close(drainMs: number): Promise<void> {
    await this.drain(drainMs);
    this.#closing = true;
    this.#abort.abort();
    this.#wake?.();
    this.#connecting?.end(true);
    await this.#loop;
    await Promise.allSettled([...this.#writes]);
    const s = this.#session;
    this.#session = undefined;
    if (s) this.#flushAcks(s);
    clearTimeout(this.#ackTimer);
    if (!s) return;
    if (s.alive) {
      const death = payloadBuffer({
        timestamp: this.#o.clock.now(),
        metrics: [bdSeqMetric(s.bdSeq, this.#o.clock.now())],
      });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, drainMs);
        s.client.publish(this.#o.topics.nodeTopic("NDEATH"), death, { qos: 1 }, () => {
          clearTimeout(t);
          resolve();
        });
      });
      this.#o.log.info("Sparkplug edge node offline (NDEATH published)", { bdSeq: s.bdSeq });
    }
    await new Promise<void>((resolve) => s.client.end(!s.alive, {}, () => resolve()));
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closing) {
      try {
        const s = await this.#connect();
        failures = 0;
        await this.#serve(s);
      } catch (e) {
        if (failures === 0) {
          this.#o.log.warn(
            `Cannot connect Sparkplug edge node to ${this.#o.url}: ${errorMessage(e)}`,
          );
        }
      }
      if (this.#closing) break;
      failures++;
      const delay = backoffDelay(failures, {
        baseMs: this.#o.reconnectMinMs,
        maxMs: this.#o.reconnectMaxMs,
      });
      await this.#o.clock.sleep(delay, this.#abort.signal).catch(() => {});
    }
  }

  async #connect(): Promise<Session> {
    const bdSeq = this.#o.bdSeq.peek();
    const client = await openClient(this.#o, bdSeq, this.#o.clock.now(), (c) => {
      this.#connecting = c;
    }).finally(() => this.#connecting = undefined);
    this.#o.bdSeq.commit();
    this.stats.bdSeq = bdSeq;
    const s: Session = {
      client,
      bdSeq,
      alive: client.connected,
      historicalUpTo: 0,
      cursor: 0,
      pending: [],
      inFlight: 0,
      birthVersion: -1,
      rebirth: false,
      ackable: 0,
    };
    client.once("close", () => {
      s.alive = false;
      this.#wake?.();
    });
    client.on("message", (topic, payload) => {
      const p = handleCommand(this.#o, s, topic, payload, this.stats);
      if (p) {
        this.#writes.add(p);
        p.finally(() => this.#writes.delete(p));
      }
      if (s.rebirth) this.#wake?.();
    });
    try {
      if (this.#closing || !s.alive) throw new Error("connection closed after CONNACK");
      await client.subscribeAsync(this.#o.topics.commandTopics(), { qos: 1 });
      return s;
    } catch (e) {
      client.end(true);
      throw e;
    }
  }

  async #serve(s: Session): Promise<void> {
    const { queue, model, log } = this.#o;
    s.historicalUpTo = queue.lastId;
    s.cursor = queue.headId;
    this.#session = s;
    this.stats.connected = 1;
    log.info(`Sparkplug edge node online at ${this.#o.url}`, {
      bdSeq: s.bdSeq,
      backlog: queue.depth(),
    });
    try {
      this.#births(s);
      while (s.alive && !this.#closing) {
        if (s.rebirth || model.version !== s.birthVersion) this.#births(s);
        const chunk = s.inFlight < this.#o.maxInFlight ? queue.peek(CHUNK, s.cursor) : undefined;
        if (chunk) this.#publishChunk(s, chunk);
        else await new Promise<void>((r) => this.#wake = r);
      }
    } finally {
      this.#wake = undefined;
      this.stats.connected = 0;
      this.#flushAcks(s);
      for (const p of this.#progress.splice(0)) p();
      if (!s.alive) {
        this.stats.reconnects++;
        this.#session = undefined;
        s.client.end(true);
        log.warn(`Sparkplug edge node lost its connection to ${this.#o.url}`, {
          bdSeq: s.bdSeq,
          backlog: queue.depth(),
        });
      }
    }
  }

  #nextSeq(): number {
    const n = this.#seq;
    this.#seq = (this.#seq + 1) % 256;
    return n;
  }

  #births(s: Session): void {
    const { clock, model, topics } = this.#o;
    const now = clock.now();
    if (s.birthVersion !== -1) this.stats.rebirths++;
    this.#seq = 0;
    const nbirth = payloadBuffer({
      timestamp: now,
      seq: this.#nextSeq(),
      metrics: [
        bdSeqMetric(s.bdSeq, now),
        { name: "Node Control/Rebirth", timestamp: now, datatype: DataType.Boolean, value: false },
      ],
    });
    s.client.publish(topics.nodeTopic("NBIRTH"), nbirth, { qos: 0, retain: false });
    for (const d of model.devices.values()) {
      const p = { timestamp: now, seq: this.#nextSeq(), metrics: model.birthMetrics(d, now) };
      s.client.publish(topics.deviceTopic("DBIRTH", d.id), payloadBuffer(p), {
        qos: 0,
        retain: false,
      });
    }
    s.birthVersion = model.version;
    s.rebirth = false;
    this.stats.births++;
  }

  #publishChunk(s: Session, chunk: QueueChunk): void {
    const { model, clock, topics, qos } = this.#o;
    const hist = (i: number) => chunk.firstId + i <= s.historicalUpTo;
    const msgs = model.dataMessages(chunk.batch, hist, this.#o.metricsPerMessage);
    // dataMessages may have added or re-typed metrics: announce them first.
    if (model.version !== s.birthVersion) this.#births(s);
    s.cursor = chunk.lastId;
    let historical = 0;
    for (let i = 0; i < chunk.batch.length; i++) if (hist(i)) historical++;
    const entry = {
      lastId: chunk.lastId,
      remaining: msgs.length,
      records: chunk.batch.length,
      historical,
    };
    s.pending.push(entry);
    const now = clock.now();
    for (const msg of msgs) {
      const payload = payloadBuffer({ timestamp: now, metrics: msg.metrics, seq: this.#nextSeq() });
      s.inFlight++;
      s.client.publish(topics.deviceTopic("DDATA", msg.device.id), payload, { qos }, (err) => {
        if (!s.alive) return;
        s.inFlight--;
        if (err) {
          this.#o.log.warn(`Cannot publish DDATA for "${msg.device.name}": ${errorMessage(err)}`);
          s.alive = false;
          s.client.end(true);
        } else if (--entry.remaining === 0) this.#confirm(s);
        this.#wake?.();
      });
      this.stats.ddata++;
    }
    if (msgs.length === 0) this.#confirm(s);
  }

  /** Moves the confirmed prefix of pending chunks to `ackable`. */
  #confirm(s: Session): void {
    while (s.pending.length > 0 && s.pending[0]!.remaining === 0) {
      const e = s.pending.shift()!;
      s.ackable = e.lastId;
      this.stats.sent += e.records;
      this.stats.historical += e.historical;
    }
    this.#ackTimer ??= setTimeout(() => {
      this.#ackTimer = undefined;
      this.#flushAcks(s);
    }, ACK_INTERVAL_MS);
  }

  #flushAcks(s: Session): void {
    if (s.ackable > this.#o.queue.headId) {
      try {
        this.#o.queue.ack(s.ackable);
      } catch (e) {
        this.#o.log.error(`Cannot acknowledge sent records in the queue: ${errorMessage(e)}`);
      }
    }
    for (const p of this.#progress.splice(0)) p();
  }
}
