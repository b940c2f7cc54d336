/**
 * @module
 * The `bifrost` command line, run as a user runs it (a subprocess), against the Modbus
 * simulator: check, plan, read, write, schema, version, sim.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";

const MAIN = new URL("../app/cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

async function bifrost(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("bifrost check accepts the bundled demo flow", async () => {
  const r = await bifrost(["check", "flows/"]);
  assertEquals(r.code, 0, r.out + r.err);
  assertMatch(r.out, /ok: 1 flow file/);
});

Deno.test("bifrost check lists every problem with file:line:column and exits 1", async () => {
  const r = await bifrost(["check", "tests/flows/unknown_tag"]);
  assertEquals(r.code, 1);
  const expected = await Deno.readTextFile(
    join(ROOT, "tests/flows/unknown_tag/expected_errors.txt"),
  );
  for (const line of expected.trim().split("\n")) {
    // The golden file names the case directory `flows/`; the CLI names the path it was given.
    assert(
      r.out.includes(line.replace(/^flows\//, "tests/flows/unknown_tag/")),
      `missing line: ${line}\n${r.out}`,
    );
  }
  assertMatch(r.out, /did you mean "temp1"\?/);
});

Deno.test("bifrost run refuses invalid flows and starts nothing", async () => {
  const r = await bifrost(["run", "tests/flows/unknown_tag"]);
  assertEquals(r.code, 1);
  assertMatch(r.err, /error: unknown tag/);
  assertMatch(r.err, /nothing started/);
});

Deno.test("bifrost read and write a register through a modbus:// URL", async () => {
  await using sim = await startModbusSimulator({
    units: { 3: { HR100: { type: "float32", order: "CDAB", value: 21.5 } } },
  });
  const url = `modbus://127.0.0.1:${sim.port}/3/HR100:float32:CDAB`;
  const read = await bifrost(["read", url]);
  assertEquals(read.code, 0, read.err);
  assertEquals(read.out.trim(), "21.5");
  const write = await bifrost(["write", url, "-4.25"]);
  assertEquals(write.code, 0, write.err);
  assertEquals(sim.getValue("HR100", { type: "float32", order: "CDAB", unitId: 3 }), -4.25);
  const bad = await bifrost(["write", url, "hot"]);
  assertEquals(bad.code, 1);
  assertMatch(bad.err, /Cannot write "hot" to "HR100": expected a number \(float\)/);
});

Deno.test("bifrost read through a flow's device applies the tag's scaling", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR4: { type: "int16", value: 215 } } },
  });
  const r = await bifrost(["read", "flows/", "boiler-plc", "pressure", "--timeout", "300"], {
    BOILER_PLC_HOST: "127.0.0.1",
  });
  // The demo flow points at port 5020; this simulator is elsewhere, so expect a clear failure.
  assertEquals(r.code, 1);
  assertMatch(r.err, /Cannot connect to .*\(device "boiler-plc"\)|"boiler-plc" within/);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "f.yaml"),
    `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      pressure: { address: HR4, type: int16, unit: bar, scale: { gain: 0.01 }, writable: true }
`,
  );
  const ok = await bifrost(["read", dir, "plc", "pressure"]);
  assertEquals(ok.code, 0, ok.err);
  assertEquals(ok.out.trim(), "2.15 bar");
  const w = await bifrost(["write", dir, "plc", "pressure", "3.5"]);
  assertEquals(w.code, 0, w.err);
  assertEquals(sim.getValue("HR4", { type: "int16" }), 350);
});

Deno.test("bifrost write refuses a value its type cannot hold, by URL and by flow", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "float32", value: 21.5 }, HR4: { type: "int16", value: 7 } } },
  });
  const url = `modbus://127.0.0.1:${sim.port}/1/HR0:float32`;
  const byUrl = await bifrost(["write", url, "1e300"]);
  assertEquals(byUrl.code, 1);
  assertMatch(
    byUrl.err,
    /Cannot write 1e\+300 to "HR0" on ".*": float32 holds at most 3\.4028235e\+38/,
  );
  assertEquals(sim.getValue("HR0", { type: "float32" }), 21.5);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "f.yaml"),
    `devices:
  boiler-plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      setpoint: { address: HR0, type: float32, writable: true, max: 90 }
      level: { address: HR4, type: int16, writable: true }
`,
  );
  const big = await bifrost(["write", dir, "boiler-plc", "setpoint", "1e300"]);
  assertEquals(big.code, 1);
  assertMatch(
    big.err,
    /Cannot write 1e\+300 to "setpoint" on "boiler-plc": float32 holds at most 3\.4028235e\+38/,
  );
  const high = await bifrost(["write", dir, "boiler-plc", "setpoint", "95"]);
  assertMatch(high.err, /Cannot write 95 to "setpoint" on "boiler-plc": the tag takes at most 90/);
  const wide = await bifrost(["write", dir, "boiler-plc", "level", "40000"]);
  assertMatch(
    wide.err,
    /Cannot write 40000 to "level" on "boiler-plc": int16 holds -32768\.\.32767/,
  );
  assertEquals(sim.getValue("HR0", { type: "float32" }), 21.5);
  assertEquals(sim.getValue("HR4", { type: "int16" }), 7);
});

Deno.test("bifrost plan prints the coalesced requests of each poll", async () => {
  const r = await bifrost(["plan", "flows/"]);
  assertEquals(r.code, 0, r.err);
  assertMatch(r.out, /fast \(boiler-plc, every 500 ms\): \d+ request/);
  assertMatch(r.out, /FC3 HR0/);
});

Deno.test("bifrost schema, version and an unknown command", async () => {
  const s = await bifrost(["schema"]);
  assertEquals(s.code, 0);
  const schema = JSON.parse(s.out);
  assertEquals(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  const v = await bifrost(["version"]);
  assertMatch(v.out, /^bifrost \d+\.\d+\.\d+ \(deno 2\.9\.6\)/);
  const u = await bifrost(["frobnicate"]);
  assertEquals(u.code, 2);
  assertMatch(u.err, /Unknown command "frobnicate"/);
});

Deno.test("bifrost sim modbus serves a map until interrupted", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "sim.yaml"),
    "units:\n  1:\n    HR0: { type: uint16, value: 4242 }\n",
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "sim", "modbus", "--port", "0", "--map", join(dir, "sim.yaml")],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on [\d.]+:(\d+)/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const port = /listening on [\d.]+:(\d+)/.exec(out)![1]!;
  const r = await bifrost(["read", `modbus://127.0.0.1:${port}/1/HR0:uint16`]);
  assertEquals(r.out.trim(), "4242", r.err);
  child.kill("SIGINT");
  assertEquals((await child.status).code, 0);
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
});

Deno.test("bifrost check ends an alias bomb and a binary file with positioned errors", async () => {
  for (
    const [dir, line] of [
      ["tests/flows/alias_bomb", /flow\.yaml:16:10 error: invalid YAML: aliases expand too much/],
      ["tests/flows/binary_file", /flow\.yaml:2:4 error: not a text file: byte 0x00 at offset 12/],
    ] as const
  ) {
    const r = await bifrost(["check", dir]);
    assertEquals(r.code, 1, r.out + r.err);
    assertMatch(r.out, line);
    assertEquals(r.err, "");
    assert(!/ReferenceError|\n\s+at /.test(r.out), r.out);
    assert(r.out.length < 400, `${r.out.length} characters printed`);
  }
});

Deno.test("bifrost run logs process stats with BIFROST_STATS_EVERY, and every device's sequences at the stop", async () => {
  await using sim = await startModbusSimulator({ units: { 1: { HR0: { value: 7 } } } });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "flow.yaml"),
      `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      a: { address: HR0, type: uint16 }
      b: { address: HR1, type: uint16 }
polls:
  fast: { device: plc, tags: "*", every: 50ms }
sinks:
  history: { use: sqlite, from: fast, path: ${join(dir, "h.db")} }
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "run", dir, "--data-dir", dir, "--no-http"],
      env: { BIFROST_STATS_EVERY: "200ms" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const lines: Record<string, unknown>[] = [];
    const reading = (async () => {
      let rest = "";
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        rest += chunk;
        const parts = rest.split("\n");
        rest = parts.pop()!;
        for (const l of parts) lines.push(JSON.parse(l));
      }
    })();
    const stats = () => lines.filter((l) => l.msg === "Process stats");
    const deadline = Date.now() + 15_000;
    while (stats().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    assertEquals((await child.status).code, 0);
    await reading;
    const [first, ...rest] = stats();
    assert(first !== undefined && rest.length >= 2, JSON.stringify(lines));
    assert((first.rss as number) > 0 && (first.heapUsed as number) > 0, JSON.stringify(first));
    const last = rest.at(-1)!;
    assertEquals(last.final, true);
    // The final line's ranges are what the polls produced: two records a poll, no gap.
    const [from, to] = (last.sequences as Record<string, [number, number]>).plc!;
    assertEquals(to - from + 1, last.records);
    assertEquals((last.records as number) % 2, 0);
    assert((last.records as number) >= (first.records as number));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bifrost run refuses a BIFROST_STATS_EVERY that is not a duration", async () => {
  const r = await bifrost(["run", "flows/"], { BIFROST_STATS_EVERY: "often" });
  assertEquals(r.code, 1);
  assertMatch(r.err, /Cannot use BIFROST_STATS_EVERY=\\"often\\": expected a duration/);
});
