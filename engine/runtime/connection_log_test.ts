/**
 * @module
 * What a device's connection logs, without sockets: one line per outage and one per
 * recovery, whatever mix of refused connects and connections closed on probation it took,
 * with the backoff growing across both kinds.
 */

import { assertEquals } from "../../tests/_assert.ts";
import { createLogger } from "../log.ts";
import { CONNECTION_LINES as L, ConnectionLog } from "./connection_log.ts";

function story() {
  const lines: { level: string; msg: string; delay?: number }[] = [];
  const log = createLogger({ json: true, level: "debug", write: (l) => lines.push(JSON.parse(l)) });
  const c = new ConnectionLog(log, { baseMs: 10, maxMs: 80, random: () => 1 });
  const loud = () => lines.filter((l) => l.level !== "debug").map((l) => `${l.level}: ${l.msg}`);
  return { c, lines, loud };
}

Deno.test("ConnectionLog: connections closed on probation back off like refused ones and are logged once", () => {
  const { c, lines, loud } = story();
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    c.connected();
    assertEquals(c.lost("the peer closed the connection", true), true);
    delays.push(c.failed("the peer closed the connection", true));
  }
  assertEquals(delays, [10, 20, 40, 80, 80, 80]);
  assertEquals(c.failures, 6);
  assertEquals(loud(), [`warn: ${L.closes}`]);
  assertEquals(lines.filter((l) => l.msg === L.stillCloses).length, 5);
  c.connected();
  c.confirm(true);
  assertEquals(loud(), [`warn: ${L.closes}`, `info: ${L.connectedAfterRetrying}`]);
  assertEquals(c.failures, 0);
});

Deno.test("ConnectionLog: the loss of a made connection is the outage's one warning, whatever follows", () => {
  const { c, loud } = story();
  c.connected();
  c.confirm(true);
  assertEquals(c.lost("reset", true), false);
  c.failed("refused", false);
  c.connected();
  assertEquals(c.lost("closed at once", true), true);
  c.failed("closed at once", true);
  c.failed("refused", false);
  c.connected();
  c.confirm(true);
  assertEquals(loud(), [
    `info: ${L.connected}`,
    `warn: ${L.lost}`,
    `info: ${L.connectedAfterRetrying}`,
  ]);
});

Deno.test("ConnectionLog: a device not answering is reconnected at debug, and a quiet confirm logs nothing", () => {
  const { c, loud } = story();
  c.connected();
  c.confirm(false);
  assertEquals(c.lost("3 reads in a row got no answer", false), false);
  c.connected();
  c.confirm(true, true);
  assertEquals(loud(), []);
  assertEquals(c.confirmed, true);
});
