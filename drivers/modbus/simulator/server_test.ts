import assert from "node:assert/strict";
import { encodeAdu, readRequest } from "../core/pdu.ts";
import { parseSimArgs } from "../tools/sim_cli.ts";
import { handleRequest } from "./handler.ts";
import { parseMapYaml } from "./map_yaml.ts";
import { UnitMemory } from "./memory.ts";
import { startModbusSimulator } from "./server.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");
const bytes = (h: string) => new Uint8Array(h.split(" ").map((x) => parseInt(x, 16)));

/** Sends raw bytes and reads until `want` bytes came back. */
async function exchange(port: number, data: Uint8Array, want: number): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(data);
    const out = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const n = await conn.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    conn.close();
  }
}

Deno.test("handleRequest() answers FC1-6, 15, 16, 22 and 23 byte-exactly", () => {
  const m = new UnitMemory();
  const h = (req: string) => hex(handleRequest(m, bytes(req)).response);
  assert.equal(h("0f 00 13 00 0a 02 cd 01"), "0f 00 13 00 0a");
  assert.equal(h("01 00 13 00 0a"), "01 02 cd 01");
  assert.equal(h("10 00 01 00 02 04 00 0a 01 02"), "10 00 01 00 02");
  assert.equal(h("03 00 01 00 02"), "03 04 00 0a 01 02");
  assert.equal(h("06 00 04 00 12"), "06 00 04 00 12");
  assert.equal(h("16 00 04 00 f2 00 25"), "16 00 04 00 f2 00 25");
  assert.equal(h("03 00 04 00 01"), "03 02 00 17");
  assert.equal(h("05 00 00 ff 00"), "05 00 00 ff 00");
  assert.equal(h("01 00 00 00 01"), "01 01 01");
  assert.equal(h("17 00 02 00 01 00 02 00 01 02 ab cd"), "17 02 ab cd");
  assert.equal(h("02 00 00 00 09"), "02 02 00 00");
  assert.equal(h("04 00 00 00 01"), "04 02 00 00");
});

Deno.test("handleRequest() answers bad requests with exceptions", () => {
  const m = new UnitMemory();
  const h = (req: string) => hex(handleRequest(m, bytes(req)).response);
  assert.equal(h("2b 0e 01 00"), "ab 01");
  assert.equal(h("03 00 00 00 7e"), "83 03");
  assert.equal(h("03 ff ff 00 02"), "83 02");
  assert.equal(h("05 00 00 12 34"), "85 03");
  assert.equal(h("10 00 00 00 02 03 00 00 00"), "90 03");
  assert.equal(h("03 00"), "83 03");
});

Deno.test("the server answers several frames sent in one write, per unit id", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { value: 0x1234 } }, 7: { HR0: { value: 0x0707 } } },
  });
  const req = new Uint8Array([
    ...encodeAdu(1, 1, readRequest(3, 0, 1)),
    ...encodeAdu(2, 7, readRequest(3, 0, 1)),
    ...encodeAdu(3, 9, readRequest(3, 0, 1)),
  ]);
  const res = await exchange(sim.port, req, 11 + 11 + 9);
  assert.equal(
    hex(res),
    "00 01 00 00 00 05 01 03 02 12 34 " + "00 02 00 00 00 05 07 03 02 07 07 " +
      "00 03 00 00 00 03 09 83 0b",
  );
  assert.equal(sim.stats.requests, 3);
});

Deno.test("the server reassembles a request split over several writes", async () => {
  await using sim = await startModbusSimulator();
  sim.setRegister("HR3", 0xbeef);
  const req = encodeAdu(9, 1, readRequest(3, 3, 1));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: sim.port });
  try {
    await conn.write(req.subarray(0, 4));
    await conn.write(req.subarray(4));
    const buf = new Uint8Array(11);
    let got = 0;
    while (got < 11) got += (await conn.read(buf.subarray(got))) ?? 11;
    assert.equal(hex(buf), "00 09 00 00 00 05 01 03 02 be ef");
  } finally {
    conn.close();
  }
});

Deno.test("faults: exception ranges, wrong transaction id and malformed frames", async () => {
  await using sim = await startModbusSimulator();
  const remove = sim.faults.exception({ table: "HR", start: 10, count: 5, code: 2 });
  const read = (tid: number, start: number) =>
    exchange(sim.port, encodeAdu(tid, 1, readRequest(3, start, 2)), 9);
  assert.equal(hex(await read(1, 13)), "00 01 00 00 00 03 01 83 02");
  remove();
  assert.equal(hex(await read(2, 13)), "00 02 00 00 00 07 01 03 04");
  sim.faults.wrongTransactionId();
  assert.equal(hex((await read(3, 0)).subarray(0, 2)), "80 03");
  sim.faults.malformed();
  assert.equal(hex((await read(4, 0)).subarray(7, 9)), "03 05");
  sim.faults.truncated(1, 2);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: sim.port });
  try {
    await conn.write(encodeAdu(5, 1, readRequest(3, 0, 2)));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    // The MBAP length still says 7 bytes follow; only 5 came.
    assert.equal(hex(buf.subarray(0, n ?? 0)), "00 05 00 00 00 07 01 03 04 00 00");
  } finally {
    conn.close();
  }
});

Deno.test("a response delay holds no pipelined request back: each is answered, in order", async () => {
  await using sim = await startModbusSimulator();
  sim.faults.delayMs = 50;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: sim.port });
  try {
    for (let tid = 1; tid <= 3; tid++) await conn.write(encodeAdu(tid, 1, readRequest(3, 0, 1)));
    const out = new Uint8Array(33);
    let got = 0;
    while (got < 33) got += (await conn.read(out.subarray(got))) ?? 33;
    assert.deepEqual([out[1], out[12], out[23]], [1, 2, 3]);
  } finally {
    conn.close();
  }
});

Deno.test("generators update on the timer and a client write stops the point's generator", async () => {
  let t = 0;
  await using sim = await startModbusSimulator({
    now: () => t,
    updateMs: 0,
    units: {
      1: {
        HR0: { type: "uint16", generator: "counter", step: 7 },
        HR1: { type: "uint16", generator: "counter", step: 1 },
        C0: { generator: "square", period: "20s" },
      },
    },
  });
  sim.update(0);
  t = 3000;
  sim.update();
  assert.deepEqual(sim.getRegisters("HR0", 2), [21, 3]);
  assert.equal(sim.getValue("C0"), true);
  await exchange(sim.port, encodeAdu(1, 1, bytes("06 00 00 00 05")), 12);
  sim.update(15_000);
  assert.deepEqual(sim.getRegisters("HR0", 2), [5, 15]);
  assert.equal(sim.getValue("C0"), false);
});

Deno.test("parseMapYaml() loads the documented format", async () => {
  const map = parseMapYaml(`
update: 50ms
units:
  1:
    HR0: { type: float32, generator: sine, min: 0, max: 100, period: 10s }
    HR10: { type: int16, value: -5 }
    HR20: { type: string, length: 4, value: "BOILER" }
    40031.3: { value: true }
  2:
    C0: { value: true }
`);
  await using sim = await startModbusSimulator({ map });
  assert.equal(sim.getValue("HR10", { type: "int16" }), -5);
  assert.equal(sim.getValue("HR20", { type: "string", length: 4 }), "BOILER");
  assert.equal(sim.getRegisters("HR30", 1)[0], 8);
  assert.equal(sim.getValue("C0", { unitId: 2 }), true);
  assert.throws(() => parseMapYaml("devices: {}"), /expected a "units:" mapping/);
  await assert.rejects(
    () => startModbusSimulator({ units: { 1: { C0: { type: "float32" } } } }),
    /Cannot load simulator point \(unit 1, C0\): a bit holds a bool, not float32/,
  );
});

Deno.test("parseSimArgs() reads --port, --host and --map", () => {
  assert.deepEqual(parseSimArgs(["--port", "5020", "--map=sim.yaml"]), {
    host: "127.0.0.1",
    port: 5020,
    map: "sim.yaml",
  });
  assert.throws(() => parseSimArgs(["--port", "x"]), /Cannot use port "x"/);
  assert.throws(() => parseSimArgs(["--bogus", "1"]), /Cannot parse argument "--bogus"/);
});

Deno.test("runSimCli() prints its port, serves, and stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/sim.yaml`, "units:\n  1:\n    HR0: { value: 4242 }\n");
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../tools/sim_cli.ts", import.meta.url).pathname,
        "--map",
        `${dir}/sim.yaml`,
      ],
      stdout: "piped",
      stderr: "null",
    });
    const child = cmd.spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(text)?.[1]);
    assert.ok(port > 0, `no port in ${JSON.stringify(text)}`);
    const res = await exchange(port, encodeAdu(1, 1, readRequest(3, 0, 1)), 11);
    assert.equal(hex(res.subarray(9)), "10 92");
    child.kill("SIGTERM");
    await reader.cancel();
    assert.equal((await child.status).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
