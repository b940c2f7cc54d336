/**
 * @module
 * Events and alarms against the simulator's HighTemperature alarm (an ExclusiveLimitAlarm on
 * Demo.Boiler.Temperature, high limit 80): the alarm's events become records with severity,
 * message, active and acked; the where clause (`minSeverity`) filters them; a write of the
 * event id acknowledges the alarm on the server.
 */

import { assert, assertEquals, assertMatch } from "../../../tests/_assert.ts";
import {
  BifrostError,
  nullLogger,
  systemClock,
  type TagConfig,
  type Value,
} from "../../../engine/plugin.ts";
import { startOpcuaSimulator } from "../simulator/server.ts";
import { opcua } from "../mod.ts";
import { OpcuaDriver } from "./driver.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-events-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));

const show = (v: unknown) =>
  JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x as unknown);

async function until(ms: number, what: string, done: () => boolean, last: () => unknown) {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new Error(`Timed out waiting for ${what}; got ${show(last())}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function eventTag(name: string, extra: Record<string, unknown> = {}): TagConfig {
  const config = { address: "ns=1;s=Demo.Boiler", type: "Event", ...extra };
  return { name, address: config.address, type: "Event", writable: true, config };
}

/** Our driver, connected to the simulator at `endpoint` (device "boiler"). */
async function connectedDriver(endpoint: string): Promise<OpcuaDriver> {
  const driver = new OpcuaDriver(
    {
      name: "boiler",
      driver: "opcua",
      config: { endpoint, pki, timeout: "10s" },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(AbortSignal.timeout(20_000));
  return driver;
}

Deno.test("alarm events become records (severity, message, active, acked), filtered by minSeverity, acknowledged through a write", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const driver = await connectedDriver(sim.endpoint);
  const tags = [
    eventTag("alarms", { select: ["Retain"] }),
    eventTag("critical", { minSeverity: 900 }),
  ];
  assertEquals(
    tags.map((t) =>
      opcua.validate!({
        name: "b",
        driver: "opcua",
        config: { endpoint: sim.endpoint },
        tags: new Map([[t.name, t]]),
      })
    ),
    [[], []],
  );
  const seen: { i: number; v: Value }[] = [];
  const sub = await driver.subscribe(
    driver.plan(tags),
    {
      value: (i, v) => void seen.push({ i, v }),
      fail: (i, e) => void seen.push({ i, v: e.message }),
    },
    AbortSignal.timeout(60_000),
    { publishingInterval: "20ms" },
  );
  try {
    const events = () => seen.filter((s) => s.i === 0).map((s) => s.v as Record<string, Value>);
    sim.setValue("Demo.Boiler.Temperature", 95);
    await until(10_000, "the alarm's event", () => events().some((e) => e.active === true), events);
    const fired = events().find((e) => e.active === true)!;
    assertEquals([fired.acked, fired.condition !== undefined, fired.conditionId], [
      false,
      true,
      "ns=1;s=Demo.Boiler.HighTemperature",
    ]);
    assert(typeof fired.severity === "number" && fired.severity > 0, show(fired));
    assertMatch(String(fired.message), /95/);
    assertMatch(String(fired.eventId), /^[0-9a-f]+$/);
    assertEquals(fired.Retain, true, "the selected field is in the record");
    assertEquals(sim.alarm(), { active: true, acked: false });
    assert(
      !seen.some((s) => s.i === 1),
      `minSeverity 900 lets a severity ${fired.severity} event through: ${show(seen)}`,
    );

    // Acknowledge through the write path.
    await driver.write(
      tags[0]!,
      `${fired.eventId}: seen by the night shift`,
      AbortSignal.timeout(20_000),
    );
    await until(
      10_000,
      "the acknowledged event",
      () => events().some((e) => e.acked === true),
      events,
    );
    assertEquals(sim.alarm(), { active: true, acked: true });

    try {
      await driver.write(tags[0]!, "00ff", AbortSignal.timeout(20_000));
      throw new Error("an unknown event id was acknowledged");
    } catch (e) {
      assert(e instanceof BifrostError && e.code === "WRITE_REJECTED", String(e));
      assertMatch(e.message, /no event 00ff was received/);
    }
    const [polled] = await driver.read(driver.plan([tags[0]!]), AbortSignal.timeout(20_000));
    assert(!polled!.ok && /read by a subscribe: poll/.test(polled!.error.message), show(polled));
  } finally {
    await sub.close();
    await driver.close();
  }
});

Deno.test("alarm actions through the write path: confirm, comment, shelve one-shot and timed, unshelve, with the server's refusal reported", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const driver = await connectedDriver(sim.endpoint);
  const tag = eventTag("alarms", { select: ["Comment"] });
  const seen: Record<string, Value>[] = [];
  const sub = await driver.subscribe(
    driver.plan([tag]),
    { value: (_i, v) => void seen.push(v as Record<string, Value>), fail: () => {} },
    AbortSignal.timeout(60_000),
    { publishingInterval: "20ms" },
  );
  const c = driver.connection!;
  const state = async () => {
    const id = "ns=1;s=Demo.Boiler.HighTemperature";
    const found = await c.session.translateBrowsePath([
      c.lib.makeBrowsePath(id, ".ConfirmedState.Id"),
      c.lib.makeBrowsePath(id, ".ShelvingState.CurrentState"),
    ]);
    const dvs = await c.session.read(
      found.map((f) => ({ nodeId: f.targets![0]!.targetId, attributeId: 13 })),
    );
    return { confirmed: dvs[0]!.value.value, shelving: dvs[1]!.value.value?.text };
  };
  const latest = () => String(seen.at(-1)?.eventId);
  const act = async (text: string) => {
    const before = seen.length;
    await driver.write(tag, text.replace("$", latest()), AbortSignal.timeout(20_000));
    return before;
  };
  try {
    sim.setValue("Demo.Boiler.Temperature", 95);
    await until(10_000, "the alarm's event", () => seen.some((e) => e.active === true), () => seen);
    await act("ack $: on it");
    await until(10_000, "the acked event", () => seen.at(-1)?.acked === true, () => seen);

    const n = await act("confirm $: valve replaced");
    assertEquals((await state()).confirmed, true);
    await until(10_000, "the confirm's event", () => seen.length > n, () => seen);

    const m = await act("comment $: checked again at 3 am");
    await until(
      10_000,
      "the comment's event",
      () => seen.slice(m).some((e) => e.Comment === "checked again at 3 am"),
      () => seen,
    );

    await act("shelve $");
    assertEquals((await state()).shelving, "OneShotShelved");
    await act("unshelve $");
    assertEquals((await state()).shelving, "Unshelved");
    await act("shelve $ for 10m");
    assertEquals((await state()).shelving, "TimedShelved");
    await act("unshelve $");
    assertEquals((await state()).shelving, "Unshelved");

    // The server's refusal is reported with its status code.
    try {
      await act("unshelve $");
      throw new Error("unshelving an unshelved alarm was accepted");
    } catch (e) {
      assert(e instanceof BifrostError && e.code === "WRITE_REJECTED", String(e));
      assertMatch(
        e.message,
        /Cannot unshelve on "alarms".*the server answered Bad\w+ \(0x[0-9A-F]{8}\)/,
      );
    }
    try {
      await driver.write(tag, "silence ff", AbortSignal.timeout(20_000));
      throw new Error("an unknown action was sent");
    } catch (e) {
      assert(e instanceof BifrostError && e.code === "WRITE_REJECTED", String(e));
      assertMatch(e.message, /Cannot run an alarm action on "alarms".*write one of/);
    }
  } finally {
    await sub.close();
    await driver.close();
  }
});

Deno.test("the where clause is a ContentFilter the server applies: comparisons, in, and/or/not, ofType", async () => {
  await using sim = await startOpcuaSimulator({ changeEveryMs: 0 });
  const driver = await connectedDriver(sim.endpoint);
  const wheres = [
    "Severity >= 1 and SourceName = '1:Temperature'",
    "SourceName in ['Pump', '1:Temperature'] and ActiveState.Id = true",
    "ofType(ExclusiveLimitAlarmType) and not (Severity > 1000)",
    "SourceName in ['Pump', 'Valve']",
    "not ofType(AlarmConditionType)",
    "Severity < 1 or SourceName != '1:Temperature'",
  ];
  const tags = wheres.map((where, k) => eventTag(`e${k}`, { where }));
  const seen: { i: number; v: Value }[] = [];
  const sub = await driver.subscribe(
    driver.plan(tags),
    {
      value: (i, v) => void seen.push({ i, v }),
      fail: (i, e) => void seen.push({ i, v: e.message }),
    },
    AbortSignal.timeout(60_000),
    { publishingInterval: "20ms" },
  );
  try {
    sim.setValue("Demo.Boiler.Temperature", 95);
    const got = (i: number) => seen.filter((s) => s.i === i);
    await until(10_000, "the events", () => [0, 1, 2].every((i) => got(i).length > 0), () => seen);
    await new Promise((r) => setTimeout(r, 500));
    for (const i of [0, 1, 2]) {
      assert(
        got(i).every((s) => (s.v as Record<string, Value>).source === "1:Temperature"),
        show(got(i)),
      );
    }
    assertEquals([3, 4, 5].map((i) => got(i).length), [0, 0, 0], show(seen));
  } finally {
    await sub.close();
    await driver.close();
  }
});
