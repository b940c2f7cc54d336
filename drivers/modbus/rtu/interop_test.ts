/**
 * @module
 * Interoperability: our RTU transport against pymodbus 3.0.0rc1 (Debian's
 * /usr/bin/python3) as an independent RTU slave, over TCP (`ModbusTcpServer` with
 * `framer=ModbusRtuFramer`: RTU frames on the stream) and over a `socat` pty pair
 * (`ModbusSerialServer`, through pyserial-asyncio).
 */

import assert from "node:assert/strict";
import { isBifrostError } from "../../../engine/plugin.ts";
import {
  readRequest,
  writeMultipleRegistersRequest,
  writeSingleCoilRequest,
  writeSingleRegisterRequest,
} from "../core/pdu.ts";
import { canRun, startPtyPair } from "./_test_server.ts";
import { RtuTransport } from "./transport.ts";

const PYTHON = "/usr/bin/python3";
const HAVE_PYMODBUS = await canRun(PYTHON, ["-c", "import pymodbus.server.async_io"]);
const HAVE_SERIAL = HAVE_PYMODBUS && await canRun(PYTHON, ["-c", "import serial_asyncio"]);
const HAVE_SOCAT = await canRun("socat", ["-V"]);
/** Appended to a test name when it is ignored, so the run says why. */
const skipped = (ok: boolean, why: string) => ok ? "" : ` (skipped: ${why})`;
const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");

/** Starts a pymodbus RTU slave (unit 1); prints `ready PORT`, stops when stdin closes. */
const SLAVE_PY = `
import asyncio, sys
from pymodbus.server.async_io import ModbusTcpServer, ModbusSerialServer
from pymodbus.transaction import ModbusRtuFramer
from pymodbus.datastore import ModbusSlaveContext, ModbusServerContext, ModbusSequentialDataBlock

async def main():
    store = ModbusSlaveContext(
        hr=ModbusSequentialDataBlock(0, [0x1234, 0xABCD, 7, 65535] + [0] * 96),
        ir=ModbusSequentialDataBlock(0, [0x0102, 0x0304] + [0] * 98),
        co=ModbusSequentialDataBlock(0, [True, False, True] + [False] * 97),
        di=ModbusSequentialDataBlock(0, [False] * 100),
        zero_mode=True)
    ctx = ModbusServerContext(slaves={1: store}, single=False)
    if sys.argv[1] == "tcp":
        server = ModbusTcpServer(ctx, framer=ModbusRtuFramer, address=("127.0.0.1", 0))
        asyncio.create_task(server.serve_forever())
        await server.serving
        port = server.server.sockets[0].getsockname()[1]
    else:
        server = ModbusSerialServer(ctx, framer=ModbusRtuFramer, port=sys.argv[2],
                                    baudrate=38400, parity="N", stopbits=1)
        await server.start()
        port = 0
    print("ready", port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.shutdown()

asyncio.run(main())
`;

interface PySlave extends AsyncDisposable {
  port: number;
}

async function startPySlave(args: string[]): Promise<PySlave> {
  const child = new Deno.Command(PYTHON, {
    args: ["-c", SLAVE_PY, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    line += value;
  }
  await reader.cancel();
  const m = /ready (\d+)/.exec(line);
  const stop = async () => {
    await child.stdin.close().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await child.status;
    clearTimeout(timer);
  };
  if (!m) {
    await stop();
    throw new Error(`pymodbus slave did not start: "${line}"`);
  }
  return { port: Number(m[1]), [Symbol.asyncDispose]: stop };
}

/** The exchanges checked byte-exactly against pymodbus. */
async function exercise(t: RtuTransport): Promise<void> {
  assert.equal(hex(await t.request(1, readRequest(3, 0, 4))), "03 08 12 34 ab cd 00 07 ff ff");
  assert.equal(hex(await t.request(1, readRequest(4, 0, 2))), "04 04 01 02 03 04");
  assert.equal(hex(await t.request(1, readRequest(1, 0, 3))), "01 01 05");
  assert.equal(hex(await t.request(1, writeSingleRegisterRequest(10, 0x0bb8))), "06 00 0a 0b b8");
  const words = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
  assert.equal(hex(await t.request(1, writeMultipleRegistersRequest(11, words))), "10 00 0b 00 02");
  assert.equal(hex(await t.request(1, readRequest(3, 10, 3))), "03 06 0b b8 de ad be ef");
  assert.equal(hex(await t.request(1, writeSingleCoilRequest(1, true))), "05 00 01 ff 00");
  assert.equal(hex(await t.request(1, readRequest(1, 0, 3))), "01 01 07");
  // Past the 100-register block: pymodbus answers "illegal data address".
  assert.equal(hex(await t.request(1, readRequest(3, 150, 2))), "83 02");
  // pymodbus 3.0.0rc1 stays silent for a unit it does not serve.
  await assert.rejects(
    t.request(9, readRequest(3, 0, 1), 300),
    (e) => isBifrostError(e, "TIMEOUT"),
  );
  assert.equal(t.stats.crcErrors, 0);
}

Deno.test({
  name: "RtuTransport reads pymodbus 3.0.0rc1 byte-exactly over RTU-over-TCP" +
    skipped(HAVE_PYMODBUS, `${PYTHON} cannot import pymodbus`),
  ignore: !HAVE_PYMODBUS,
  async fn() {
    await using py = await startPySlave(["tcp"]);
    await using t = await RtuTransport.connectTcp({
      host: "127.0.0.1",
      port: py.port,
      timeoutMs: 2000,
    });
    await exercise(t);
  },
});

Deno.test({
  name: "RtuTransport reads pymodbus 3.0.0rc1 byte-exactly over a serial pty pair" +
    skipped(HAVE_SOCAT, "socat is not installed") +
    skipped(HAVE_SERIAL, `${PYTHON} cannot import pymodbus and serial_asyncio`),
  ignore: !HAVE_SERIAL || !HAVE_SOCAT,
  async fn() {
    await using pty = await startPtyPair();
    await using _py = await startPySlave(["serial", pty.b]);
    await using t = await RtuTransport.openSerial({
      path: pty.a,
      baudRate: 38400,
      parity: "none",
      timeoutMs: 2000,
    });
    await exercise(t);
  },
});
