/**
 * @module
 * Our Modbus simulator against an independent client: modbus-serial 8 (npm). Every data type
 * in every byte order goes both ways and is compared byte for byte with bytes built here by
 * Node's `Buffer` (not by our codec): reads with FC1-4, writes with FC5, 6, 15, 16, 22 and 23,
 * and exception answers.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import P from "modbus-serial";
import type { ByteOrder, DataType } from "../../drivers/modbus/core/spec.ts";
import type { Value } from "../../engine/record.ts";
import { startModbusSimulator } from "../../drivers/modbus/simulator/server.ts";

const ModbusRTU = P.default;
type Client = InstanceType<typeof ModbusRTU>;

const ORDERS: ByteOrder[] = ["ABCD", "CDAB", "BADC", "DCBA"];

/** Big-endian bytes of a value, written by Node's Buffer. */
const BIG_ENDIAN: Record<Exclude<DataType, "bool" | "string">, [Value, (v: Value) => Buffer]> = {
  int16: [-1234, (v) => b(2, (x) => x.writeInt16BE(v as number))],
  uint16: [54321, (v) => b(2, (x) => x.writeUInt16BE(v as number))],
  int32: [-123456789, (v) => b(4, (x) => x.writeInt32BE(v as number))],
  uint32: [3000000000, (v) => b(4, (x) => x.writeUInt32BE(v as number))],
  float32: [1.5, (v) => b(4, (x) => x.writeFloatBE(v as number))],
  int64: [-1234567890123456789n, (v) => b(8, (x) => x.writeBigInt64BE(v as bigint))],
  uint64: [12345678901234567890n, (v) => b(8, (x) => x.writeBigUInt64BE(v as bigint))],
  float64: [-123.456, (v) => b(8, (x) => x.writeDoubleBE(v as number))],
};

function b(n: number, write: (x: Buffer) => void): Buffer {
  const x = Buffer.alloc(n);
  write(x);
  return x;
}

/** Rearranges big-endian bytes into `order`: word order, then bytes within each register. */
function arrange(be: Buffer, order: ByteOrder): number[] {
  const regs: number[][] = [];
  for (let i = 0; i < be.length; i += 2) regs.push([be[i]!, be[i + 1]!]);
  if (order === "CDAB" || order === "DCBA") regs.reverse();
  if (order === "BADC" || order === "DCBA") regs.forEach((r) => r.reverse());
  return regs.flat();
}

async function connect(port: number): Promise<Client & AsyncDisposable> {
  const c = new ModbusRTU();
  await c.connectTCP("127.0.0.1", { port });
  c.setID(1);
  c.setTimeout(2000);
  return Object.assign(c, {
    [Symbol.asyncDispose]: () => new Promise<void>((r) => c.close(() => r())),
  });
}

Deno.test("modbus-serial reads every type and order from the simulator byte-exactly (FC3, FC4)", async () => {
  await using sim = await startModbusSimulator();
  await using client = await connect(sim.port);
  let at = 0;
  for (const order of ORDERS) {
    for (const [type, [value, be]] of Object.entries(BIG_ENDIAN)) {
      const t = type as DataType;
      sim.setValue(`HR${at}`, value, { type: t, order });
      sim.setValue(`IR${at}`, value, { type: t, order });
      const expected = arrange(be(value), order);
      const n = expected.length / 2;
      const hr = await client.readHoldingRegisters(at, n);
      assert.deepEqual([...hr.buffer], expected, `FC3 ${type} ${order}`);
      const ir = await client.readInputRegisters(at, n);
      assert.deepEqual([...ir.buffer], expected, `FC4 ${type} ${order}`);
      at += 4;
    }
  }
  sim.setValue("HR200", "BOILER-1", { type: "string", length: 5 });
  sim.setValue("HR210", "BOILER-1", { type: "string", length: 5, order: "BADC" });
  const ascii = [...Buffer.from("BOILER-1\0\0")];
  assert.deepEqual([...(await client.readHoldingRegisters(200, 5)).buffer], ascii);
  assert.deepEqual(
    [...(await client.readHoldingRegisters(210, 5)).buffer],
    arrange(Buffer.from(ascii), "BADC"),
  );
});

Deno.test("modbus-serial reads coils and discrete inputs (FC1, FC2) bit for bit", async () => {
  await using sim = await startModbusSimulator();
  await using client = await connect(sim.port);
  const pattern = [true, false, true, true, false, false, true, false, false, true, true];
  pattern.forEach((on, i) => {
    sim.setBit(`C${i + 3}`, on);
    sim.setBit(`DI${i}`, !on);
  });
  assert.deepEqual((await client.readCoils(3, 11)).data.slice(0, 11), pattern);
  assert.deepEqual(
    (await client.readDiscreteInputs(0, 11)).data.slice(0, 11),
    pattern.map((x) => !x),
  );
});

Deno.test("modbus-serial writes every type and order; the simulator decodes them (FC6, FC16)", async () => {
  await using sim = await startModbusSimulator();
  await using client = await connect(sim.port);
  let at = 0;
  for (const order of ORDERS) {
    for (const [type, [value, be]] of Object.entries(BIG_ENDIAN)) {
      const bytes = arrange(be(value), order);
      if (bytes.length === 2) await client.writeRegister(at, (bytes[0]! << 8) | bytes[1]!);
      else await client.writeRegisters(at, Buffer.from(bytes));
      const got = sim.getValue(`HR${at}`, { type: type as DataType, order });
      assert.deepEqual(got, value, `${type} ${order}`);
      at += 4;
    }
  }
});

Deno.test("modbus-serial writes coils (FC5, FC15) and masks (FC22), and FC23 reads back", async () => {
  await using sim = await startModbusSimulator();
  await using client = await connect(sim.port);
  await client.writeCoil(7, true);
  await client.writeCoils(10, [true, false, true, true, false, true, false, false, true]);
  assert.equal(sim.getValue("C7"), true);
  assert.deepEqual(
    Array.from({ length: 9 }, (_, i) => sim.getValue(`C${10 + i}`)),
    [true, false, true, true, false, true, false, false, true],
  );
  sim.setRegister("HR4", 0x0012);
  await client.maskWriteRegister(4, 0x00f2, 0x0025);
  assert.deepEqual(sim.getRegisters("HR4", 1), [0x0017]);
  // modbus-serial's FC23 result carries only `data` (words), not `buffer`.
  const fc23 = await new Promise<{ data: number[] }>((resolve, reject) =>
    client.writeFC23(1, 4, 2, 5, 1, [0xabcd], (e, r) => (e ? reject(e) : resolve(r)))
  );
  assert.deepEqual(fc23.data, [0x0017, 0xabcd]);
  assert.deepEqual(sim.getRegisters("HR5", 1), [0xabcd]);
});

Deno.test("modbus-serial sees the simulator's exception answers", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.exception({ table: "HR", start: 100, count: 10, code: 2 });
  await using client = await connect(sim.port);
  await assert.rejects(
    () => client.readHoldingRegisters(105, 2),
    (e: { modbusCode?: number }) => e.modbusCode === 2,
  );
  client.setID(9);
  await assert.rejects(
    () => client.readHoldingRegisters(0, 1),
    (e: { modbusCode?: number }) => e.modbusCode === 11,
  );
});
