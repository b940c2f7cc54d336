/**
 * @module
 * The shapes of the `mqtt` sink's {@linkcode Sender}: its settings, its figures and the
 * per-connection state it keeps.
 */

import type { Clock, Logger } from "../../engine/plugin.ts";
import type { DurableQueue } from "../_queue/mod.ts";
import type { TopicFn } from "./format.ts";
import type { Connector, MqttLink } from "./link.ts";

/** Settings of a `Sender`. */
export interface SenderOptions {
  name: string;
  /** Shown in log lines (the URL without credentials). */
  target: string;
  queue: DurableQueue;
  connect: Connector;
  topic: TopicFn;
  maxInFlight: number;
  /** Records/s when replaying the backlog; 0: no limit. */
  replayRate: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  clock: Clock;
  log: Logger;
}

/** Figures of a sender. */
export interface SenderStats {
  [key: string]: number;
  /** Records the broker confirmed. */
  sent: number;
  /** Of those, sent as historical (backlog replay). */
  historical: number;
  /** Publishes left unconfirmed by a lost connection (they are sent again). */
  failed: number;
  /** Records the broker refused (MQTT 5 reason code); they leave the queue. */
  rejected: number;
  /** Connections lost. */
  reconnects: number;
  /** Connections replaced before their credentials expired. */
  renewals: number;
  connected: number;
  inFlight: number;
}

/** One connection's publishing state (internal to the sender). */
export interface Session {
  alive: boolean;
  /** Set when a publish failed without the connection closing: reconnect to resend. */
  broken: boolean;
  link: MqttLink;
  /** Ids published, in order, from index `base`; `done` flags in step. */
  ids: number[];
  done: boolean[];
  base: number;
  /** Index (into ids) of the first unconfirmed publish. */
  head: number;
  inFlight: number;
  /** Unconfirmed publishes allowed at once. */
  limit: number;
  /** The loop waits for a confirmation to free a slot. */
  waitingSlot: boolean;
  /** Records with ids up to this were queued before the connection was made. */
  historicalUpTo: number;
  replayStart: number;
  replayed: number;
  /** The link is due for renewal: publish no more on it. */
  renewing: boolean;
}

/** Figures of a sender that has sent nothing yet. */
export function emptySenderStats(): SenderStats {
  return {
    sent: 0,
    historical: 0,
    failed: 0,
    rejected: 0,
    reconnects: 0,
    renewals: 0,
    connected: 0,
    inFlight: 0,
  };
}
