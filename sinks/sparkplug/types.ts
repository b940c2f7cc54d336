/**
 * @module
 * The types the edge node session shares with its parts (connection, commands, sink).
 */

import type { IClientOptions, MqttClient } from "mqtt";
import type { Clock, Logger, SinkContext } from "../../engine/plugin.ts";
import type { DurableQueue } from "../_queue/mod.ts";
import type { NodeModel } from "./model.ts";
import type { Topics } from "./topics.ts";

/**
 * The bdSeq of each new connection (0..255), persisted by the caller. `peek()` is the value
 * for the next CONNECT; `commit()` is called once the broker accepted it (CONNACK), so
 * attempts that never reach a broker (it is down) do not use numbers up.
 */
export interface BdSeqStore {
  peek(): number;
  commit(): void;
}

/** Settings of the edge node (`EdgeNode` in session.ts). */
export interface EdgeNodeOptions {
  url: string;
  /** mqtt.js options (client id, credentials, keepalive, timeouts); will and session are set here. */
  mqtt: IClientOptions;
  topics: Topics;
  qos: 0 | 1;
  queue: DurableQueue;
  model: NodeModel;
  writeTag: SinkContext["writeTag"];
  bdSeq: BdSeqStore;
  maxInFlight: number;
  metricsPerMessage: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  clock: Clock;
  log: Logger;
}

/** Figures of an edge node. */
export interface EdgeNodeStats {
  [key: string]: number;
  connected: number;
  reconnects: number;
  births: number;
  rebirths: number;
  ddata: number;
  /** Records confirmed (left the queue). */
  sent: number;
  /** Of those, sent with is_historical. */
  historical: number;
  commands: number;
  writes: number;
  writesRejected: number;
  bdSeq: number;
}

/** One MQTT connection. */
export interface Session {
  client: MqttClient;
  bdSeq: number;
  alive: boolean;
  /** Records with ids up to this were queued before the connection: historical. */
  historicalUpTo: number;
  /** Last queue id handed to a publish. */
  cursor: number;
  pending: { lastId: number; remaining: number; records: number; historical: number }[];
  inFlight: number;
  birthVersion: number;
  rebirth: boolean;
  /** Last id confirmed and not yet acknowledged in the queue. */
  ackable: number;
}
