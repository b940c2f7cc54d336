/**
 * @module
 * The supervisor against a real gateway polling the Modbus simulator, with real file
 * watching: an invalid edit is rejected with one `file:line:column` line per problem and
 * the flows carry on; a fix is applied; a file deleted mid-edit, a flow directory that
 * disappears and comes back, SIGHUP, and a device whose new address cannot connect.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch, waitFor } from "../tests/_assert.ts";
import { systemClock } from "../engine/clock.ts";
import { FlowFileCache, loadFlows } from "../engine/flow/mod.ts";
import { createLogger } from "../engine/log.ts";
import { Gateway } from "../engine/runtime/gateway.ts";
import { startModbusSimulator } from "../drivers/modbus/simulator/mod.ts";
import { registries } from "./registries.ts";
import { Supervisor } from "./supervisor.ts";

const device = (port: number) =>
  `devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    timeout: 200ms
    tags:
      a: { address: HR0, type: int16 }
`;
/** Where the sink writes, outside the flow directory (which a test removes). */
const DB_DIR = Deno.makeTempDirSync({ prefix: "bifrost-sup-db-" });
const DB = join(DB_DIR, "history.db");
globalThis.addEventListener("unload", () => Deno.removeSync(DB_DIR, { recursive: true }));

const pipeline = (every = "100ms") =>
  `polls:
  fast: { device: plc, tags: "*", every: ${every} }
sinks:
  out: { use: sqlite, from: fast, path: ${DB} }
`;

async function setup(port: number) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-sup-" });
  await Deno.writeTextFile(join(dir, "a.yaml"), device(port));
  await Deno.writeTextFile(join(dir, "b.yaml"), pipeline());
  const cache = new FlowFileCache();
  const validate = (d: string) =>
    loadFlows(d, { env: {}, sources: registries, typeCheck: false, cache });
  const first = await validate(dir);
  assertEquals(first.errors, []);
  const lines: string[] = [];
  const log = createLogger({ level: "info", write: (l) => lines.push(l) });
  const gateway = new Gateway(first.flows!, {
    sources: registries,
    log: createLogger({ level: "error" }),
  });
  await gateway.start();
  const sup = new Supervisor({
    dir,
    gateway,
    validate,
    log,
    clock: systemClock,
    debounceMs: 50,
    rewatchMs: 50,
  });
  await sup.start({ signals: true });
  const runs = () => gateway.stats().polls.fast?.runs ?? 0;
  return {
    dir,
    gateway,
    sup,
    lines,
    runs,
    async [Symbol.asyncDispose]() {
      await sup.close();
      await gateway.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

Deno.test("Supervisor: an invalid edit is rejected once with file:line:column, a fix is applied", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 1 } } },
  });
  await using t = await setup(sim.port);
  await Deno.writeTextFile(
    join(t.dir, "b.yaml"),
    pipeline().replace("every: 100ms", "every: soon"),
  );
  await waitFor(() => t.sup.counters.reloadsRejected === 1, 5000, "the rejection");
  const status = t.sup.status();
  assertEquals(status.ok, false);
  assertEquals(status.revision, 1);
  assertEquals(status.errors.length, 1);
  assertMatch(status.errors[0]!, /b\.yaml:2:\d+ error: .*every/);
  const before = t.runs();
  await waitFor(() => t.runs() >= before + 2, 5000, "polls going on");
  // One log line for the problem, however many events the write fired.
  assertEquals(t.lines.filter((l) => l.includes("b.yaml:2:")).length, 1);
  assertEquals(t.sup.counters.reloadsRejected, 1);

  await Deno.writeTextFile(join(t.dir, "b.yaml"), pipeline("200ms"));
  await waitFor(() => t.sup.counters.reloadsOk === 1, 5000, "the fix applied");
  assertEquals(t.sup.status().revision, 2);
  assertEquals(t.sup.status().changes, "polls ~fast");
  assertEquals(t.gateway.flows.polls.get("fast")?.everyMs, 200);
  assert(t.lines.some((l) => l.includes("Flows reloaded")));
});

Deno.test("Supervisor: a file deleted mid-edit and a vanished directory leave the flows running", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 1 } } },
  });
  await using t = await setup(sim.port);
  // The device's file goes: the poll now names a device that does not exist.
  await Deno.remove(join(t.dir, "a.yaml"));
  await waitFor(() => t.sup.counters.reloadsRejected === 1, 5000, "the rejection");
  assertMatch(t.sup.status().errors.join("\n"), /b\.yaml:2:\d+ error: unknown device "plc"/);
  await Deno.writeTextFile(join(t.dir, "a.yaml"), device(sim.port));
  await waitFor(() => t.sup.status().ok, 5000, "the file back");
  assertEquals(t.sup.status().revision, 1, "the same flows again: nothing to change");

  const saved = await Deno.makeTempDir();
  await Deno.remove(t.dir, { recursive: true });
  await waitFor(() => t.sup.counters.reloadsRejected === 2, 5000, "the directory rejected");
  assertMatch(t.sup.status().errors[0]!, /cannot read flow directory/);
  const before = t.runs();
  await waitFor(() => t.runs() >= before + 2, 5000, "polls going on");
  await Deno.mkdir(t.dir);
  await Deno.writeTextFile(join(t.dir, "a.yaml"), device(sim.port));
  await Deno.writeTextFile(join(t.dir, "b.yaml"), pipeline("300ms"));
  await waitFor(() => t.sup.status().revision === 2, 5000, "the directory back and applied");
  assertEquals(t.gateway.flows.polls.get("fast")?.everyMs, 300);
  await Deno.remove(saved);
});

Deno.test("Supervisor: SIGHUP reloads; a device moved to a dead port is retried, nothing else stops", async () => {
  await using sim = await startModbusSimulator({
    units: { 1: { HR0: { type: "int16", value: 1 } } },
  });
  await using t = await setup(sim.port);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = listener.addr.port;
  listener.close();
  await Deno.writeTextFile(join(t.dir, "a.yaml"), device(deadPort));
  await waitFor(() => t.sup.status().revision === 2, 5000, "the new port applied");
  assertEquals(t.sup.status().ok, true);
  await waitFor(() => t.gateway.health().plc?.state !== "connected", 5000, "the device down");
  const runs = t.gateway.stats().polls.fast?.runs ?? 0;
  await waitFor(() => (t.gateway.stats().polls.fast?.runs ?? 0) > runs, 5000, "polls retried");
  // SIGHUP validates again even though nothing changed.
  const attempted = t.sup.status().attemptedAt!;
  Deno.kill(Deno.pid, "SIGHUP");
  await waitFor(() => t.sup.status().attemptedAt! > attempted, 5000, "the SIGHUP reload");
  assertEquals(t.sup.counters, { reloadsOk: 1, reloadsRejected: 0, reloadsFailed: 0 });
  assertEquals(t.sup.status().revision, 2);
});
