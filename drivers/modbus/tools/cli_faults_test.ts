/**
 * @module
 * `bifrost sim modbus --fault …`: parsing, the per-request probabilities (with a scripted
 * random), and the command run as a subprocess, read through an independent client
 * (modbus-serial).
 */

import assert from "node:assert/strict";
import P from "modbus-serial";
import { ModbusTcpClient } from "../tcp/client.ts";
import { readRequest } from "../core/pdu.ts";
import { applyFaults, describeFault, parseFault } from "./cli_faults.ts";
import { parseSimArgs } from "./sim_cli.ts";
import { startModbusSimulator } from "../simulator/server.ts";

const ModbusRTU = P.default;
const MAIN = new URL("../../../app/cli/main.ts", import.meta.url).pathname;

Deno.test("parseFault() reads every kind: percentages, durations, exception rules, units", () => {
  assert.deepEqual(parseFault("delay=1.5s"), { kind: "delay", ms: 1500 });
  assert.deepEqual(parseFault("drop=10%"), { kind: "drop", probability: 0.1 });
  assert.deepEqual(parseFault("malformed=2.5%"), { kind: "malformed", probability: 0.025 });
  assert.deepEqual(parseFault("busy=5%"), {
    kind: "exception",
    rule: { code: 6, probability: 0.05 },
  });
  assert.deepEqual(parseFault("exception=2@HR100..HR109"), {
    kind: "exception",
    rule: { code: 2, table: "HR", start: 100, count: 10 },
  });
  assert.deepEqual(parseFault("exception=4@40001:1%"), {
    kind: "exception",
    rule: { code: 4, table: "HR", start: 0, count: 1, probability: 0.01 },
  });
  assert.deepEqual(parseFault("disconnect=100%"), { kind: "disconnect", probability: 1 });
  assert.deepEqual(parseFault("silent=3"), { kind: "silent", unitId: 3 });
  assert.deepEqual(parseSimArgs(["--fault", "busy=5%", "--fault=delay=200ms"]).faults, [
    { kind: "exception", rule: { code: 6, probability: 0.05 } },
    { kind: "delay", ms: 200 },
  ]);
  assert.equal(
    describeFault(parseFault("exception=2@HR100..HR109:50%")),
    "exception 2 at HR100..HR109 50%",
  );
});

Deno.test("parseFault() names the option and what it takes when a value is bad", () => {
  const bad: [string, RegExp][] = [
    ["busy=150%", /Cannot use --fault busy=150%: give a percentage 0%\.\.100%/],
    ["drop=10", /Cannot use --fault drop=10: give a percentage/],
    ["delay=soon", /Cannot use --fault delay=soon: give a duration such as delay=1\.5s/],
    ["exception=0", /Cannot use --fault exception=0: the code must be 1\.\.255/],
    ["exception=2@HR9..HR1", /must end in the table of its start, not before it/],
    ["exception=2@XY1", /Cannot use --fault exception=2@XY1: .*address/i],
    ["slow=1s", /unknown fault kind "slow", expected one of delay, busy, exception, drop/],
    ["drop", /Cannot use --fault drop: give drop=VALUE/],
    ["silent=0", /give a unit id 1\.\.255/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseFault(text), message, text);
});

Deno.test("fault probabilities apply per request, drawn from the simulator's random", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  // Requests draw in turn: below the rate the fault fires, at or above it does not.
  const draws = [0.9, 0.1, 0.9, 0.9, 0.1];
  sim.faults.random = () => draws.shift() ?? 0.9;
  applyFaults(sim.faults, [parseFault("drop=50%"), parseFault("busy=50%")]);
  const client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 200,
  });
  try {
    const pdu = readRequest(3, 0, 1);
    // Request 1: drop? 0.9 no; busy? 0.1 yes.
    assert.deepEqual([...(await client.request(1, pdu))], [0x83, 6]);
    // Request 2: drop? 0.9 no; busy? 0.9 no: answered.
    assert.deepEqual([...(await client.request(1, pdu))], [3, 2, 0, 7]);
    // Request 3: drop? 0.1 yes: no answer.
    await assert.rejects(client.request(1, pdu), /No answer from .* within 200 ms/);
  } finally {
    await client.close();
  }
});

async function startSim(
  faults: string[],
): Promise<{ port: number; out: string; [Symbol.asyncDispose](): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "sim",
      "modbus",
      "--port",
      "0",
      ...faults.flatMap((f) => ["--fault", f]),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on [\d.]+:\d+\n[^]*\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const port = Number(/listening on [\d.]+:(\d+)/.exec(out)?.[1]);
  return {
    port,
    out,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      assert.equal((await child.status).code, 0);
    },
  };
}

async function connect(port: number) {
  const c = new ModbusRTU();
  await c.connectTCP("127.0.0.1", { port });
  c.setID(1);
  c.setTimeout(3000);
  return Object.assign(c, {
    [Symbol.asyncDispose]: () => new Promise<void>((r) => c.close(() => r())),
  });
}

Deno.test("bifrost sim modbus --fault delay and exception, read by another client", async () => {
  await using sim = await startSim(["delay=250ms", "exception=2@HR100..HR109"]);
  assert.match(sim.out, /Faults: delay 250 ms, exception 2 at HR100\.\.HR109/);
  await using client = await connect(sim.port);
  const t0 = performance.now();
  const r = await client.readHoldingRegisters(0, 2);
  assert.ok(performance.now() - t0 >= 240, "the answer came after the delay");
  assert.deepEqual(r.data, [0, 0]);
  await assert.rejects(
    () => client.readHoldingRegisters(105, 2),
    (e: { modbusCode?: number }) => e.modbusCode === 2,
  );
});

Deno.test("bifrost sim modbus --fault busy=100% answers every request with exception 6", async () => {
  await using sim = await startSim(["busy=100%"]);
  await using client = await connect(sim.port);
  for (const at of [0, 500]) {
    await assert.rejects(
      () => client.readHoldingRegisters(at, 1),
      (e: { modbusCode?: number }) => e.modbusCode === 6,
    );
  }
});

Deno.test("bifrost sim modbus with a bad --fault prints one line and the usage, exit 2", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "sim", "modbus", "--fault", "drop=lots"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 2);
  const lines = new TextDecoder().decode(r.stderr).trimEnd().split("\n");
  assert.match(lines[0]!, /^Cannot use --fault drop=lots: give a percentage 0%\.\.100%/);
  assert.match(lines[1]!, /^Usage: bifrost sim modbus/);
  assert.ok(lines.some((l) => l.trim().startsWith("busy=5%")), "the usage lists the faults");
  assert.equal(new TextDecoder().decode(r.stdout), "");
});

Deno.test("--fault disconnect and malformed at 100% close the connection or bend every answer", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  const pdu = readRequest(3, 0, 1);
  applyFaults(sim.faults, [parseFault("malformed=100%")]);
  const client = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 200,
  });
  try {
    // The byte count of the answer is off by one: our client drops the frame and, when its
    // time is up, says what arrived.
    await assert.rejects(
      client.request(1, pdu),
      /Malformed response from .* within 200 ms: function code 0x03 with byte count 3/,
    );
  } finally {
    await client.close();
  }
  sim.faults.clear();
  applyFaults(sim.faults, [parseFault("disconnect=100%")]);
  const other = await ModbusTcpClient.connect({
    host: "127.0.0.1",
    port: sim.port,
    timeoutMs: 500,
  });
  try {
    await assert.rejects(
      other.request(1, pdu),
      (e: { code?: string }) => e.code === "NOT_CONNECTED",
    );
  } finally {
    await other.close();
  }
});
