/**
 * @module
 * Resume after a lost connection, through the engine's Gateway against the simulator behind
 * its TCP proxy: a short outage keeps the session (same id, values written while away arrive,
 * in order, once, and so does an alarm that fired while away); a long one with a user
 * identity gets a new session that takes the subscription over (TransferSubscriptions); an
 * anonymous one and a server restart get the subscription made again; a silent network is
 * detected and resumed. Every case counts the monitored items on the server afterwards.
 */

import { assert, assertEquals } from "../../../tests/_assert.ts";
import { type DataRecord, nullLogger, type Value } from "../../../engine/plugin.ts";
import { createLogger } from "../../../engine/log.ts";
import { Gateway } from "../../../engine/runtime/gateway.ts";
import type { FlowSet } from "../../../engine/flow/types.ts";
import { type OpcuaSimOptions, startOpcuaSimulator } from "../simulator/server.ts";
import { opcua } from "../mod.ts";
import type { OpcuaDriver } from "./driver.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-resume-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));

const show = (v: unknown) =>
  JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x as unknown);

async function until(ms: number, what: string, done: () => boolean, last: () => unknown) {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}; got ${show(last())}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gateway subscribed to Demo.Setpoint and the Boiler's events, the simulator behind a proxy. */
async function rig(o: OpcuaSimOptions, extra: Record<string, unknown> = {}) {
  const sim = await startOpcuaSimulator({ proxy: true, changeEveryMs: 0, ...o });
  const config = { endpoint: sim.endpoint, pki, timeout: "3s", ...extra };
  const origin = { file: "t.yaml", line: 1, column: 1 };
  const tags = new Map([
    ["sp", {
      name: "sp",
      address: "ns=1;s=Demo.Setpoint",
      type: "Double",
      kind: "float" as const,
      writable: true,
      config: { address: "ns=1;s=Demo.Setpoint", type: "Double" },
    }],
    ["alarms", {
      name: "alarms",
      address: "ns=1;s=Demo.Boiler",
      type: "Event",
      writable: true,
      config: { address: "ns=1;s=Demo.Boiler", type: "Event" },
    }],
  ]);
  const flows: FlowSet = {
    dir: ".",
    files: [origin.file],
    devices: new Map([["plc", { name: "plc", driver: "opcua", config, tags, origin }]]),
    polls: new Map([["live", {
      name: "live",
      device: "plc",
      tags: ["sp", "alarms"],
      subscribe: { samplingInterval: "0ms", publishingInterval: "50ms", queueSize: 100 },
      origin,
    }]]),
    steps: new Map(),
    sinks: new Map(),
  };
  const gw = new Gateway(flows, {
    sources: { drivers: [opcua], steps: [], sinks: [] },
    log: Deno.env.get("RESUME_LOG") ? createLogger({ level: "debug" }) : nullLogger,
  });
  const seen: DataRecord[] = [];
  gw.tap((_node, batch) => void seen.push(...batch));
  await gw.start();
  const driver = gw.devices.get("plc")!.driver as OpcuaDriver;
  const sp = (from = 0) =>
    seen.slice(from).filter((r) => r.tag === "sp" && r.quality === "good").map((r) => r.value);
  sim.setValue("Demo.Setpoint", 1);
  await until(30_000, "the first value", () => sp().includes(1), () => seen);
  await until(
    30_000,
    "both monitored items",
    () => sim.counts().monitoredItems === 2,
    () => sim.counts(),
  );
  // The engine holds the subscription (subscribe() returned): what a resume takes back.
  await until(
    30_000,
    "the subscription live",
    () => gw.health().plc!.subscriptions === 1,
    () => gw.health(),
  );
  return {
    sim,
    gw,
    seen,
    driver,
    sp,
    /** Waits for a bad value of sp after `from` (the outage seen). */
    async bad(from: number) {
      await until(
        40_000,
        "sp bad while away",
        () => seen.slice(from).some((r) => r.tag === "sp" && r.quality === "bad"),
        () => seen.slice(from),
      );
    },
    /** Waits for the resume and sp good again; returns how it resumed. */
    async resumed(n: number) {
      await until(60_000, "the resume", () => driver.resumes.length >= n, () => driver.resumes);
      return driver.resumes[n - 1];
    },
    /** Writes 105..109 after the resume and checks `first`..109 arrived in order, once. */
    async rest(from: number, first = 100) {
      for (let v = 105; v < 110; v++) {
        sim.setValue("Demo.Setpoint", v);
        await sleep(60);
      }
      const got = () => sp(from).filter((v) => (v as number) >= 100);
      try {
        await until(30_000, "109", () => got().includes(109), () => seen.slice(from));
      } catch (e) {
        // deno-lint-ignore no-explicit-any
        const c = driver.connection as any;
        const pe = c?.session.getPublishEngine();
        console.log("DIAG", {
          subs: pe?.subscriptionCount,
          pending: pe?.nbPendingPublishRequests,
          suspended: pe?.isSuspended,
          state: c?.client._internalState,
          reconnecting: c?.session.isReconnecting,
          counts: sim.counts(),
          resumes: driver.resumes,
          health: gw.health(),
        });
        throw e;
      }
      await sleep(300);
      assertEquals(got(), Array.from({ length: 110 - first }, (_, k) => first + k));
    },
    async [Symbol.asyncDispose]() {
      await gw.stop();
      await sim.close();
    },
  };
}

/** Writes 100..104 while nothing answers at the endpoint (connections dropped). */
async function away(r: Awaited<ReturnType<typeof rig>>, ms: number) {
  const from = r.seen.length;
  r.sim.proxy!.stop();
  await r.bad(from);
  for (let v = 100; v < 105; v++) {
    r.sim.setValue("Demo.Setpoint", v);
    await sleep(60);
  }
  await sleep(ms);
  r.sim.proxy!.resume();
  return from;
}

Deno.test("short outage: the same session comes back; values and an alarm from while away arrive, in order, once", async () => {
  await using r = await rig({});
  const session = r.driver.connection!.sessionId();
  const from = r.seen.length;
  r.sim.proxy!.stop();
  await r.bad(from);
  for (let v = 100; v < 105; v++) {
    r.sim.setValue("Demo.Setpoint", v);
    await sleep(60);
  }
  r.sim.setValue("Demo.Boiler.Temperature", 95);
  r.sim.proxy!.resume();
  assertEquals(await r.resumed(1), "reactivated");
  assertEquals(r.driver.connection!.sessionId(), session);
  await r.rest(from);
  const alarms = () =>
    r.seen.slice(from).filter((x) => x.tag === "alarms" && x.quality === "good").map((x) =>
      x.value as Record<string, Value>
    );
  await until(20_000, "the alarm from while away", () => alarms().some((a) => a.active), alarms);
  assertEquals(alarms().filter((a) => a.active).length, 1, show(alarms()));
  assertEquals(r.sim.counts(), { sessions: 1, subscriptions: 1, monitoredItems: 2 });
});

Deno.test("long outage with a user identity: a new session takes the subscription over (TransferSubscriptions)", async () => {
  await using r = await rig(
    { users: [{ user: "op", password: "pw" }] },
    { user: "op", password: "pw", sessionTimeout: "2s" },
  );
  const session = r.driver.connection!.sessionId();
  const from = await away(r, 6_000);
  assertEquals(await r.resumed(1), "transferred");
  assert(r.driver.connection!.sessionId() !== session, "a new session");
  await r.rest(from);
  assertEquals(r.sim.counts(), { sessions: 1, subscriptions: 1, monitoredItems: 2 });
});

Deno.test("long anonymous outage: the server refuses the transfer, the subscription is made again", async () => {
  await using r = await rig({}, { sessionTimeout: "2s" });
  const from = await away(r, 6_000);
  assertEquals(await r.resumed(1), "recreated");
  // A new subscription starts from the current value: 100..103 (in the old one) are not replayed.
  await r.rest(from, 104);
  // The old subscription waits on the server, orphaned, for its lifetime: its items are in no session.
  assertEquals(r.sim.counts().sessions, 1);
  assertEquals(r.sim.counts().monitoredItems, 2);
});

Deno.test("server restart: a new session, the subscription made again, no duplicate monitored item", async () => {
  await using r = await rig({});
  const from = r.seen.length;
  await r.sim.restart();
  await r.bad(from);
  for (let v = 100; v < 105; v++) {
    r.sim.setValue("Demo.Setpoint", v);
    await sleep(60);
  }
  assertEquals(await r.resumed(1), "recreated");
  // Values set before the new subscription existed are not replayed: the current one is.
  await until(30_000, "104", () => r.sp(from).includes(104), () => r.seen.slice(from));
  const after = r.seen.length;
  for (let v = 105; v < 110; v++) {
    r.sim.setValue("Demo.Setpoint", v);
    await sleep(60);
  }
  await until(30_000, "109", () => r.sp(after).includes(109), () => r.seen.slice(after));
  await sleep(300);
  assertEquals(r.sp(after), [105, 106, 107, 108, 109]);
  assertEquals(r.sim.counts(), { sessions: 1, subscriptions: 1, monitoredItems: 2 });
});

Deno.test("silent network for 15 s: detected, values bad, then resumed on the same session", async () => {
  await using r = await rig({});
  const from = r.seen.length;
  r.sim.proxy!.silent = true;
  await r.bad(from);
  for (let v = 100; v < 105; v++) {
    r.sim.setValue("Demo.Setpoint", v);
    await sleep(60);
  }
  await sleep(15_000);
  r.sim.proxy!.silent = false;
  const how = await r.resumed(1);
  assert(how === "reactivated" || how === "transferred", `resumed by ${how}`);
  await r.rest(from);
  assertEquals(r.sim.counts().monitoredItems, 2);
});
