import assert from "node:assert/strict";
import { readRequest, writeSingleRegisterRequest } from "../core/pdu.ts";
import { canRun, startPtyPair } from "../rtu/pty.ts";
import { RtuTransport } from "../rtu/transport.ts";
import { isBifrostError } from "../../../engine/plugin.ts";
import { parseSimArgs } from "../tools/sim_cli.ts";
import { startRtuSimulator } from "./rtu_server.ts";
import { startModbusSimulator } from "./server.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");
const HAVE_SOCAT = await canRun("socat", ["-V"]);

Deno.test("the RTU simulator answers over TCP; unknown units stay silent; faults apply", async () => {
  await using sim = await startRtuSimulator({
    tcpPort: 0,
    units: { 1: { HR0: { value: 0x1234 } }, 2: { HR0: { value: 0x0202 } } },
  });
  await using t = await RtuTransport.connectTcp({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 150,
    turnaroundMs: 10,
  });
  assert.equal(hex(await t.request(1, readRequest(3, 0, 1))), "03 02 12 34");
  assert.equal(hex(await t.request(2, readRequest(3, 0, 1))), "03 02 02 02");
  await assert.rejects(t.request(9, readRequest(3, 0, 1)), (e) => isBifrostError(e, "TIMEOUT"));
  sim.faults.badCrc();
  await assert.rejects(
    t.request(1, readRequest(3, 0, 1)),
    (e) => isBifrostError(e, "PROTOCOL_ERROR") && e.message.includes("bad CRC"),
  );
  sim.faults.silence(2);
  await assert.rejects(t.request(2, readRequest(3, 0, 1)), (e) => isBifrostError(e, "TIMEOUT"));
  assert.equal(hex(await t.request(1, readRequest(3, 0, 1))), "03 02 12 34");
  sim.faults.exception({ unitId: 1, code: 6 });
  assert.equal(hex(await t.request(1, readRequest(3, 0, 1))), "83 06");
  sim.faults.clear();
  // A broadcast applies to every unit that is not silent; nothing answers it.
  sim.faults.silence(2);
  assert.equal((await t.request(0, writeSingleRegisterRequest(7, 77))).length, 0);
  sim.faults.clear();
  assert.equal(hex(await t.request(1, readRequest(3, 7, 1))), "03 02 00 4d");
  assert.deepEqual([sim.getRegisters("HR7", 1, 1), sim.getRegisters("HR7", 1, 2)], [[77], [0]]);
  assert.equal(sim.stats.broadcasts, 1);
});

Deno.test("startModbusSimulator() serves the same units over MBAP and RTU over TCP", async () => {
  await using sim = await startModbusSimulator({ rtu: { tcpPort: 0 } });
  assert.ok(sim.rtuPort > 0 && sim.rtuPort !== sim.port);
  await using t = await RtuTransport.connectTcp({ host: "127.0.0.1", port: sim.rtuPort });
  await t.request(1, writeSingleRegisterRequest(3, 0xbeef));
  assert.deepEqual(sim.getRegisters("HR3", 1), [0xbeef]);
  sim.addUnit(5, { HR0: { value: 55 } });
  assert.equal(hex(await t.request(5, readRequest(3, 0, 1))), "03 02 00 37");
});

Deno.test({
  name: "the RTU simulator serves a serial device (socat pty pair)" +
    (HAVE_SOCAT ? "" : " (skipped: socat is not installed)"),
  ignore: !HAVE_SOCAT,
  async fn() {
    await using pty = await startPtyPair();
    await using sim = await startRtuSimulator({
      serialPath: pty.b,
      baudRate: 38400,
      units: { 4: { HR1: { type: "int16", value: -2 } } },
    });
    assert.equal(sim.serialPath, pty.b);
    await using t = await RtuTransport.openSerial({
      path: pty.a,
      baudRate: 38400,
      parity: "none",
      timeoutMs: 1000,
    });
    assert.equal(hex(await t.request(4, readRequest(3, 1, 1))), "03 02 ff fe");
  },
});

Deno.test("parseSimArgs() reads --rtu-tcp, --serial, --baud and --parity", () => {
  assert.deepEqual(
    parseSimArgs([
      "--rtu-tcp",
      "4001",
      "--serial=/dev/ttyS1",
      "--baud",
      "19200",
      "--parity",
      "none",
    ]),
    { host: "127.0.0.1", port: 0, rtuTcp: 4001, serial: "/dev/ttyS1", baud: 19200, parity: "none" },
  );
  assert.throws(() => parseSimArgs(["--parity", "mark"]), /Cannot use parity "mark"/);
  assert.throws(() => parseSimArgs(["--rtu-tcp", "70000"]), /Cannot use port "70000"/);
});
