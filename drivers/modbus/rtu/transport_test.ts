/**
 * @module
 * The RTU transport against a real RTU slave (the simulator's `handleRequest` behind
 * {@linkcode TestSlave}): over a `socat` pty pair (serial path: `stty`, two handles) and
 * over TCP (RTU over TCP).
 */

import assert from "node:assert/strict";
import { isBifrostError } from "../../../engine/plugin.ts";
import {
  readRequest,
  writeMultipleRegistersRequest,
  writeSingleRegisterRequest,
} from "../core/pdu.ts";
import { canRun, listenRtuTcp, startPtyPair, TestSlave } from "./_test_server.ts";
import { openSerialStream } from "./stream.ts";
import { RtuTransport } from "./transport.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");
const HAVE_SOCAT = await canRun("socat", ["-V"]);

function fillUnit(slave: TestSlave): void {
  const m = slave.unit(1);
  for (let i = 0; i < 10; i++) m.setRegister("HR", i, 0x0100 * i + i);
  m.setBit("C", 3, true);
  slave.unit(2).setRegister("IR", 5, 0xbeef);
}

/** The exchanges both lines must get byte-exactly right. */
async function exerciseLine(t: RtuTransport, slave: TestSlave): Promise<void> {
  assert.equal(
    hex(await t.request(1, readRequest(3, 0, 4))),
    "03 08 00 00 01 01 02 02 03 03",
  );
  assert.equal(hex(await t.request(2, readRequest(4, 5, 1))), "04 02 be ef");
  assert.equal(hex(await t.request(1, readRequest(1, 0, 4))), "01 01 08");
  const write = writeMultipleRegistersRequest(20, new Uint8Array([0x12, 0x34, 0xab, 0xcd]));
  assert.equal(hex(await t.request(1, write)), "10 00 14 00 02");
  assert.equal(hex(await t.request(1, readRequest(3, 20, 2))), "03 04 12 34 ab cd");
  // An exception response is a response: 125 registers from 65500 is past the end.
  assert.equal(hex(await t.request(1, readRequest(3, 65500, 100))), "83 02");
  // A broadcast gets no answer; every unit applies it (checked after the next answers,
  // since the slave handles requests in order).
  assert.equal((await t.request(0, writeSingleRegisterRequest(30, 0x0777))).length, 0);
  // Requests issued together go one at a time, in order.
  const all = await Promise.all([1, 2, 3].map((i) => t.request(1, readRequest(3, i, 1))));
  assert.deepEqual(all.map(hex), ["03 02 01 01", "03 02 02 02", "03 02 03 03"]);
  assert.equal(slave.unit(1).getRegister("HR", 30), 0x0777);
  assert.equal(slave.unit(2).getRegister("HR", 30), 0x0777);
  assert.equal(slave.broadcasts, 1);
}

Deno.test({
  name: "RtuTransport reads and writes over a serial pty pair (socat)" +
    (HAVE_SOCAT ? "" : " (skipped: socat is not installed)"),
  ignore: !HAVE_SOCAT,
  async fn() {
    await using pty = await startPtyPair();
    const slave = new TestSlave();
    fillUnit(slave);
    // Linux ptys refuse `parenb`, so the pair runs 8N2 (same 11-bit characters as 8E1).
    slave.serve(await openSerialStream({ path: pty.b, baudRate: 38400, parity: "none" }));
    const open = () =>
      RtuTransport.openSerial({
        path: pty.a,
        baudRate: 38400,
        parity: "none",
        timeoutMs: 2000,
        turnaroundMs: 20,
      });
    try {
      const t = await open();
      try {
        await exerciseLine(t, slave);
        assert.equal(t.stats.crcErrors, 0);
        assert.equal(t.stats.sent, 10);
        assert.equal(t.stats.received, 9);
      } finally {
        await t.close();
      }
      // Reopening the device gets the very next response (no read left behind by close).
      for (let i = 0; i < 2; i++) {
        await using again = await open();
        assert.equal(hex(await again.request(1, readRequest(3, 9, 1))), "03 02 09 09");
      }
    } finally {
      await slave.close();
    }
  },
});

Deno.test({
  name: "RtuTransport fails with DEVICE_UNREACHABLE for a missing serial device",
  ignore: !(await canRun("stty", ["--version"])),
  async fn() {
    await assert.rejects(
      RtuTransport.openSerial({ path: "/nonexistent/ttyUSB9" }),
      (e) => isBifrostError(e, "DEVICE_UNREACHABLE") && e.message.includes("/nonexistent/ttyUSB9"),
    );
  },
});

Deno.test("RtuTransport reads and writes RTU over TCP", async () => {
  const slave = new TestSlave();
  fillUnit(slave);
  await using server = listenRtuTcp(slave);
  await using t = await RtuTransport.connectTcp({
    host: "127.0.0.1",
    port: server.port,
    timeoutMs: 2000,
    turnaroundMs: 20,
  });
  await exerciseLine(t, slave);
  assert.equal(t.stats.received, 9);
});

Deno.test("RtuTransport reassembles responses dribbled after garbage", async () => {
  const slave = new TestSlave();
  fillUnit(slave);
  slave.faults.dribble = true;
  await using server = listenRtuTcp(slave);
  await using t = await RtuTransport.connectTcp({ host: "127.0.0.1", port: server.port });
  assert.equal(hex(await t.request(1, readRequest(3, 1, 2))), "03 04 01 01 02 02");
  assert.equal(t.stats.crcErrors, 0);
  assert.ok(t.stats.discarded >= 2);
});

Deno.test("RtuTransport times out, then reports bad CRCs as PROTOCOL_ERROR", async () => {
  const slave = new TestSlave();
  fillUnit(slave);
  await using server = listenRtuTcp(slave);
  await using t = await RtuTransport.connectTcp({ host: "127.0.0.1", port: server.port });
  slave.faults.silent = true;
  await assert.rejects(
    t.request(1, readRequest(3, 0, 1), 150),
    (e) => isBifrostError(e, "TIMEOUT") && /unit 1, function 3\) within 150 ms/.test(e.message),
  );
  slave.faults.silent = false;
  slave.faults.corruptCrc = true;
  await assert.rejects(
    t.request(1, readRequest(3, 0, 1), 150),
    (e) => isBifrostError(e, "PROTOCOL_ERROR") && e.message.includes("bad CRC"),
  );
  assert.equal(t.stats.crcErrors, 1);
  assert.equal(t.stats.timeouts, 2);
  slave.faults.corruptCrc = false;
  assert.equal(hex(await t.request(1, readRequest(3, 2, 1))), "03 02 02 02");
  // A unit that does not exist stays silent.
  await assert.rejects(
    t.request(9, readRequest(3, 0, 1), 100),
    (e) => isBifrostError(e, "TIMEOUT"),
  );
});

Deno.test("RtuTransport rejects with NOT_CONNECTED once the peer is gone", async () => {
  const slave = new TestSlave();
  fillUnit(slave);
  const server = listenRtuTcp(slave);
  const t = await RtuTransport.connectTcp({ host: "127.0.0.1", port: server.port });
  try {
    assert.equal(hex(await t.request(1, readRequest(3, 1, 1))), "03 02 01 01");
    await server.close();
    await assert.rejects(
      t.request(1, readRequest(3, 1, 1), 2000),
      (e) => isBifrostError(e, "NOT_CONNECTED"),
    );
    assert.equal(t.connected, false);
    assert.throws(() => t.request(1, new Uint8Array([0x2b, 0x0e])), /function code 43/);
  } finally {
    await t.close();
  }
  await assert.rejects(
    RtuTransport.connectTcp({ host: "127.0.0.1", port: server.port, timeoutMs: 500 }),
    (e) => isBifrostError(e, "DEVICE_UNREACHABLE"),
  );
});
