/**
 * @module
 * Our Modbus TCP client and simulator against an independent implementation: pymodbus
 * 3.0.0rc1 under Debian's /usr/bin/python3 (see `pymodbus_peer.py`). Skipped, with the
 * reason printed, when that Python lacks pymodbus.
 */

import assert from "node:assert/strict";
import type { DeviceConfig, TagConfig } from "../../engine/driver.ts";
import { systemClock } from "../../engine/clock.ts";
import { nullLogger } from "../../engine/log.ts";
import { modbusTcp } from "../../drivers/modbus/mod.ts";
import type { ByteOrder, DataType } from "../../drivers/modbus/core/spec.ts";
import { encodeRegisters } from "../../drivers/modbus/core/values.ts";
import type { Value } from "../../engine/record.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/server.ts";

const PYTHON = "/usr/bin/python3";
const PEER = new URL("./pymodbus_peer.py", import.meta.url).pathname;

function pymodbusMissing(): string | undefined {
  try {
    const r = new Deno.Command(PYTHON, { args: ["-c", "import pymodbus"], stderr: "null" })
      .outputSync();
    return r.success ? undefined : `${PYTHON} has no pymodbus module`;
  } catch (e) {
    return `${PYTHON} cannot run: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const skip = pymodbusMissing();
if (skip) console.log(`SKIPPED modbus_pymodbus_test.ts: ${skip}`);

interface ServerInfo {
  port: number;
  points: { address: string; type: DataType; order: ByteOrder; value: string; words: number[] }[];
  string: { address: string; length: number; value: string };
  coils: boolean[];
  discrete: boolean[];
  inputs: number[];
}

const typed = (type: DataType, text: string): Value =>
  type === "int64" || type === "uint64" ? BigInt(text) : Number(text);

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: false, config: { address, type, ...extra } };
}

function words(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) out.push((bytes[i]! << 8) | bytes[i + 1]!);
  return out;
}

Deno.test({
  name: "our client reads every type and order from a pymodbus server byte-exactly",
  ignore: skip !== undefined,
  async fn() {
    const child = new Deno.Command(PYTHON, {
      args: [PEER, "server"],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`pymodbus server exited before printing its port: ${text}`);
        text += value;
      }
      const info = JSON.parse(text) as ServerInfo;
      const tags = info.points.map((p) =>
        tag(`${p.type}_${p.order}`, p.address, p.type, { order: p.order })
      );
      tags.push(tag("name", info.string.address, "string", { length: info.string.length }));
      info.coils.forEach((_, i) => tags.push(tag(`c${i}`, `C${i}`, "bool")));
      info.discrete.forEach((_, i) => tags.push(tag(`d${i}`, `DI${i}`, "bool")));
      info.inputs.forEach((_, i) => tags.push(tag(`i${i}`, `IR${i}`, "uint16")));
      const device: DeviceConfig = {
        name: "pymodbus",
        driver: "modbus-tcp",
        config: { host: "127.0.0.1", port: info.port, timeout: "2s" },
        tags: new Map(tags.map((t) => [t.name, t])),
      };
      const drv = modbusTcp.create(device, { log: nullLogger, clock: systemClock });
      await drv.connect(AbortSignal.timeout(5000));
      try {
        const results = await drv.read(drv.plan(tags), AbortSignal.timeout(5000));
        const got = results.map((r) => (r.ok ? r.value : `bad: ${r.error.message}`));
        const expected: Value[] = [
          ...info.points.map((p) => typed(p.type, p.value)),
          info.string.value,
          ...info.coils,
          ...info.discrete,
          ...info.inputs,
        ];
        assert.deepEqual(got, expected);
        for (const p of info.points) {
          assert.deepEqual(
            words(encodeRegisters(typed(p.type, p.value), p.type, p.order)),
            p.words,
            `${p.type} ${p.order}`,
          );
        }
      } finally {
        await drv.close();
      }
    } finally {
      await child.stdin.close();
      await reader.cancel();
      const status = await child.status;
      assert.equal(status.code, 0);
    }
  },
});

Deno.test({
  name: "pymodbus's client reads and writes our simulator",
  ignore: skip !== undefined,
  async fn() {
    await using sim = await startModbusSimulator();
    const orders: ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];
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
    let at = 0;
    for (const order of orders) {
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
    const out = await new Deno.Command(PYTHON, {
      args: [PEER, "client", String(sim.port)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    const seen = r.values.map((v: { type: DataType; value: string }) =>
      v.type.startsWith("float") ? Number(v.value) : v.value
    );
    const expected = orders.flatMap(() =>
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
    // FC22: (0x1234 & 0x00F0) | (0x0005 & ~0x00F0) = 0x0035
    assert.deepEqual(sim.getRegisters("HR320", 1), [0x0035]);
    assert.deepEqual(r.readwrite, [1, 2]);
    assert.equal(r.exception, 2);
  },
});
