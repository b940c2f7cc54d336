/**
 * @module
 * The driver conformance suite (`tests/conformance/driver.ts`) for `ethernet-ip` against its
 * simulator. A restart is a new simulator at the same port with the values the suite set; a
 * silent device is the simulator's `silent` fault; a failing tag answers "Path destination
 * unknown" (CIP status 0x05).
 */

import type { TagConfig, Value } from "../../engine/plugin.ts";
import { type ConformanceSimulator, runDriverConformance } from "../../tests/conformance/driver.ts";
import { freePort } from "../../tests/fixtures/net.ts";
import { ethernetIp } from "./mod.ts";
import { parseAddress } from "./core/address.ts";
import { DEMO_MAP } from "./simulator/demo.ts";
import { type EipSimulator, startEipSimulator } from "./simulator/server.ts";
import { writeElement } from "./simulator/store.ts";

function tag(name: string, address: string, type: string, writable = true): TagConfig {
  return { name, address, type, writable, config: { address, type } };
}

/** The store path of a tag; a BOOL array element is its DWORD and the bit in it. */
function names(t: TagConfig) {
  const a = parseAddress(t.address);
  const indexes = [...(a.program ? [[]] : []), ...a.parts.map((p) => p.indexes)];
  const last = indexes[indexes.length - 1]!;
  const boolElement = t.type === "BOOL" && last.length === 1 ? last[0]! : undefined;
  if (boolElement !== undefined) indexes[indexes.length - 1] = [boolElement >> 5];
  return {
    names: [...(a.program ? [a.program] : []), ...a.parts.map((p) => p.name)],
    indexes,
    ...(boolElement === undefined ? {} : { bit: boolElement & 31 }),
  };
}

/** A conformance simulator over the EtherNet/IP simulator (restartable at its port). */
async function eipSimulator(): Promise<ConformanceSimulator> {
  let sim: EipSimulator | undefined = await startEipSimulator({ map: DEMO_MAP, udp: false });
  const port = sim.port;
  const held = new Map<string, [TagConfig, Value]>();
  const live = () => {
    if (!sim) throw new Error("The simulator is stopped");
    return sim;
  };
  const view = (t: TagConfig) => {
    const n = names(t);
    const v = live().store.resolve(n.names, n.indexes);
    // A bit of a DWORD: the byte that holds it, and the bit in that byte.
    return n.bit === undefined
      ? v
      : { ...v, type: "BOOL" as const, offset: v.offset + (n.bit >> 3), bit: n.bit & 7 };
  };
  const set = (t: TagConfig, v: Value) => {
    const w = view(t);
    writeElement(w.tag.data, w.type, w.offset, v, w.bit);
  };
  const close = async () => {
    await sim?.close();
    sim = undefined;
  };
  return {
    connection: { host: "127.0.0.1", port },
    setValue(t, v) {
      held.set(t.address, [t, v]);
      set(t, v);
    },
    getValue: (t) => live().store.getValue(view(t)) as Value,
    failTag(t) {
      const key = names(t).names.slice(0, parseAddress(t.address).program ? 2 : 1).join(".")
        .toLowerCase();
      live().faults.tagErrors.set(key, { status: 0x05, extended: [] });
      return () => live().faults.tagErrors.delete(key);
    },
    silence: (on) => void (live().faults.silent = on),
    async stop() {
      for (const [t] of held.values()) {
        held.set(t.address, [t, live().store.getValue(view(t)) as Value]);
      }
      await close();
    },
    async start() {
      sim = await startEipSimulator({ port, map: DEMO_MAP, udp: false });
      for (const [t, v] of held.values()) set(t, v);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

await runDriverConformance({
  module: ethernetIp,
  startSimulator: eipSimulator,
  device: (c, timeoutMs) => ({ ...c, timeout: `${timeoutMs}ms` }),
  refused: () => ({ host: "127.0.0.1", port: freePort() }),
  timeoutMs: 300,
  tags: [
    { tag: tag("setpoint", "Program:MainProgram.Setpoint", "REAL"), value: 55.5 },
    { tag: tag("element", "TestDINT[3]", "DINT"), value: 30 },
    { tag: tag("flag", "Flags[2]", "BOOL"), value: true },
    { tag: tag("label", "TestSTRING", "STRING"), value: "Line 2 running" },
    { tag: tag("motorSpeed", "Line.Speed", "REAL"), value: 1450.5 },
  ],
  writeValue: 42.25,
});
