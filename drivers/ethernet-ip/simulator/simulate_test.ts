/**
 * @module
 * `--simulate` for `ethernet-ip` devices: the virtual controller serves the flow's tags
 * (controller and program scope, arrays, BOOL array elements, structure members) with the
 * values and generators of the device's `simulator:` block; `bifrost sim ethernet-ip`
 * starts with its faults.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import { MAIN, ROOT } from "../../../tests/_cli.ts";
import { nullLogger, systemClock, type TagConfig } from "../../../engine/plugin.ts";
import { ethernetIp } from "../mod.ts";
import { EipDriver } from "../tcp/driver.ts";

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

Deno.test("--simulate serves a device's tags with its simulator values", async () => {
  const tags = [
    tag("speed", "Program:Main.Speed", "REAL"),
    tag("count", "Counts[2]", "DINT"),
    tag("flag", "Flags[5]", "BOOL"),
    tag("motor", "Motor.Amps", "REAL"),
    tag("label", "Label", "STRING"),
    tag("ramp", "Ramp", "DINT"),
  ];
  const device = {
    name: "plc",
    driver: "ethernet-ip",
    config: { host: "10.0.0.1" },
    tags: new Map(tags.map((t) => [t.name, t])),
    simulator: {
      speed: { value: 12.5 },
      count: { value: 7 },
      flag: { value: true },
      motor: { generator: "constant", value: 3.5 },
      label: { value: "sim" },
      ramp: { generator: "counter", value: 5, every: "1h" },
    },
  };
  assertEquals(ethernetIp.validate!(device), []);
  const sim = await ethernetIp.simulate!(device);
  const driver = new EipDriver({ ...device, config: sim.connection }, {
    log: nullLogger,
    clock: systemClock,
  });
  try {
    await driver.connect(AbortSignal.timeout(5000));
    const rs = await driver.read(driver.plan(tags), AbortSignal.timeout(5000));
    assertEquals(rs.map((r) => r.ok ? r.value : r.error.message), [12.5, 7, true, 3.5, "sim", 5]);
  } finally {
    await driver.close();
    await sim.close();
  }
});

Deno.test("bifrost sim ethernet-ip starts with a fault and answers a read", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "sim",
      "ethernet-ip",
      "--port",
      "0",
      "--fault",
      "tag-error=TestINT:0x0f",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let text = "";
    while (!text.includes("\n")) text += (await reader.read()).value ?? "";
    const port = Number(/:([0-9]+)/.exec(text)?.[1]);
    const driver = new EipDriver(
      { name: "plc", driver: "ethernet-ip", config: { host: "127.0.0.1", port }, tags: new Map() },
      { log: nullLogger, clock: systemClock },
    );
    await driver.connect(AbortSignal.timeout(5000));
    const rs = await driver.read(
      driver.plan([tag("a", "TestINT", "INT"), tag("b", "TestSINT", "SINT")]),
      AbortSignal.timeout(5000),
    );
    await driver.close();
    assertMatch(rs[0]!.ok ? "" : rs[0]!.error.message, /Privilege violation \(CIP status 0x0F\)/);
    assertEquals(rs[1]!.ok && rs[1]!.value, -5);
  } finally {
    child.kill("SIGTERM");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await child.status;
  }
});

Deno.test("a simulator map's generators step the tag values; drop-every closes connections", async () => {
  const { startEipSimulator } = await import("./server.ts");
  const { applyFault } = await import("../tools/sim_cli.ts");
  await using sim = await startEipSimulator({
    udp: false,
    map: { tags: { Ticks: { type: "DINT", generator: "counter", every: "50ms" } } },
  });
  const driver = new EipDriver(
    {
      name: "plc",
      driver: "ethernet-ip",
      config: { host: sim.host, port: sim.port },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(AbortSignal.timeout(5000));
  try {
    const plan = driver.plan([tag("t", "Ticks", "DINT")]);
    const read = async () => {
      const [r] = await driver.read(plan, AbortSignal.timeout(5000));
      return r!.ok ? r!.value as number : NaN;
    };
    const first = await read();
    await new Promise((r) => setTimeout(r, 500));
    const second = await read();
    assert(second > first, `the counter went from ${first} to ${second}`);
    applyFault(sim.faults, "drop-every=100ms");
    await new Promise((r) => setTimeout(r, 400));
    const e = await driver.read(plan, AbortSignal.timeout(5000)).catch((x) => x);
    assertEquals((e as { code?: string }).code, "NOT_CONNECTED");
  } finally {
    await driver.close();
  }
});
