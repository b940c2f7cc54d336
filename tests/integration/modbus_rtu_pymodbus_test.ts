/**
 * @module
 * Our RTU simulator against an independent RTU master: pymodbus 3.0.0rc1's client (Debian's
 * /usr/bin/python3) runs the same reads and writes as in `modbus_pymodbus_test.ts`
 * (`client()` of `pymodbus_peer.py`, values encoded and decoded by pymodbus) with RTU
 * framing, over RTU-over-TCP (`ModbusTcpClient(framer=ModbusRtuFramer)`) and over a `socat`
 * pty pair (`ModbusSerialClient`). Skipped, with the reason, when pymodbus, pyserial or
 * socat are missing.
 */

import assert from "node:assert/strict";
import type { ByteOrder, DataType } from "../../drivers/modbus/core/spec.ts";
import { canRun, startPtyPair } from "../../drivers/modbus/rtu/pty.ts";
import type { Value } from "../../engine/record.ts";
import { type RtuSimulator, startRtuSimulator } from "../../drivers/modbus/simulator/rtu_server.ts";

const PYTHON = "/usr/bin/python3";
const DIR = new URL(".", import.meta.url).pathname;
const HAVE_PYMODBUS = await canRun(PYTHON, ["-c", "import pymodbus.client"]);
const HAVE_SERIAL = HAVE_PYMODBUS && await canRun(PYTHON, ["-c", "import serial"]);
const HAVE_SOCAT = await canRun("socat", ["-V"]);
const skipped = (ok: boolean, why: string) => ok ? "" : ` (skipped: ${why})`;

/** Runs `pymodbus_peer.client()` with its TCP client swapped for an RTU one. */
const CLIENT_PY = `
import sys
sys.path.insert(0, sys.argv[3])
import pymodbus.client as pc
from pymodbus.transaction import ModbusRtuFramer
import pymodbus_peer

mode, target = sys.argv[1], sys.argv[2]
if mode == "tcp":
    tcp = pc.ModbusTcpClient
    pc.ModbusTcpClient = lambda host, port, timeout: tcp(
        host, port=port, timeout=timeout, framer=ModbusRtuFramer)
    pymodbus_peer.client(int(target))
else:
    pc.ModbusTcpClient = lambda host, port, timeout: pc.ModbusSerialClient(
        target, framer=ModbusRtuFramer, baudrate=38400, parity="N", stopbits=2, timeout=timeout)
    pymodbus_peer.client(0)
`;

const ORDERS: ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];
const VALUES: [DataType, string][] = [
  ["int16", "-1234"],
  ["uint16", "54321"],
  ["int32", "-123456789"],
  ["uint32", "3000000000"],
  ["int64", "-1234567890123456789"],
  ["uint64", "12345678901234567890"],
  ["float32", "-2.25"],
  ["float64", "123.456"],
];
const typed = (type: DataType, text: string): Value =>
  type === "int64" || type === "uint64" ? BigInt(text) : Number(text);

function fill(sim: RtuSimulator): void {
  let at = 0;
  for (const order of ORDERS) {
    for (const [type, text] of VALUES) {
      sim.setValue(`HR${at}`, typed(type, text), { type, order });
      at += 4;
    }
  }
  [true, false, true, true, false, false, true, false, true, true].forEach((b, i) =>
    sim.setBit(`C${i}`, b)
  );
  [false, true, true, false, true].forEach((b, i) => sim.setBit(`DI${i}`, b));
  sim.setRegisters("IR0", [7, 65535, 12345]);
  sim.setRegister("HR320", 0x1234);
  sim.faults.exception({ table: "HR", start: 500, count: 10, code: 2 });
}

async function runClient(sim: RtuSimulator, args: string[]): Promise<void> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", CLIENT_PY, ...args, DIR],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  const seen = r.values.map((v: { type: DataType; value: string }) =>
    v.type.startsWith("float") ? Number(v.value) : v.value
  );
  const expected = ORDERS.flatMap(() =>
    VALUES.map(([type, text]) => (type.startsWith("float") ? Number(text) : text))
  );
  assert.deepEqual(seen, expected);
  assert.deepEqual(r.coils, [true, false, true, true, false, false, true, false, true, true]);
  assert.deepEqual(r.discrete, [false, true, true, false, true]);
  assert.deepEqual(r.inputs, [7, 65535, 12345]);
  assert.deepEqual(
    [r.write_registers, r.write_register, r.write_coil, r.write_coils, r.mask_write],
    [true, true, true, true, true],
  );
  assert.equal(sim.getValue("HR300", { type: "float32", order: "CDAB" }), 98.5);
  assert.equal(sim.getValue("HR310"), 4242);
  assert.equal(sim.getValue("C20"), true);
  assert.deepEqual([30, 31, 32].map((i) => sim.getValue(`C${i}`)), [true, false, true]);
  assert.deepEqual(sim.getRegisters("HR320", 1), [0x0035]);
  assert.deepEqual(r.readwrite, [1, 2]);
  assert.equal(r.exception, 2);
}

Deno.test({
  name: "pymodbus's RTU client reads and writes our RTU simulator over TCP" +
    skipped(HAVE_PYMODBUS, `${PYTHON} cannot import pymodbus`),
  ignore: !HAVE_PYMODBUS,
  async fn() {
    await using sim = await startRtuSimulator({ tcpPort: 0 });
    fill(sim);
    await runClient(sim, ["tcp", String(sim.port)]);
  },
});

Deno.test({
  name: "pymodbus's RTU client reads and writes our RTU simulator on a serial pty pair" +
    skipped(HAVE_SOCAT, "socat is not installed") +
    skipped(HAVE_SERIAL, `${PYTHON} cannot import pymodbus and serial`),
  ignore: !HAVE_SERIAL || !HAVE_SOCAT,
  async fn() {
    await using pty = await startPtyPair();
    await using sim = await startRtuSimulator({
      serialPath: pty.b,
      baudRate: 38400,
      parity: "none",
    });
    fill(sim);
    await runClient(sim, ["serial", pty.a]);
  },
});
