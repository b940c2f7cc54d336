/**
 * @module
 * The driver conformance suite (`tests/conformance/driver.ts`) for `bacnet` against its
 * simulator: the demo air handler (device 1001) on a free UDP port. A restart is a new
 * simulator at the same port with the values the suite set (and no subscriptions); a silent
 * device is the simulator's `silent` fault; a failing tag answers
 * `object/unknown-object`.
 */

import type { TagConfig, Value } from "../../engine/plugin.ts";
import { type ConformanceSimulator, runDriverConformance } from "../../tests/conformance/driver.ts";
import { freePort } from "../../tests/fixtures/net.ts";
import { bacnet } from "./mod.ts";
import { parseAddress } from "./core/address.ts";
import { DEMO_DEVICE, type Site, startSite } from "./simulator/config.ts";
import { presentValue } from "./simulator/store.ts";

function tag(name: string, address: string, type?: string, writable = true): TagConfig {
  return {
    name,
    address,
    type: type ?? "",
    writable,
    config: { address, ...(type ? { type } : {}) },
  };
}

const DEVICE = 1001;

/** A conformance simulator over the BACnet simulator (restartable at its port). */
async function bacnetSimulator(): Promise<ConformanceSimulator> {
  const demo = { ...DEMO_DEVICE, objects: DEMO_DEVICE.objects!.map(({ generator: _, ...o }) => o) };
  let site: Site | undefined = await startSite({ devices: [demo] });
  const port = site.endpoints[0]!.port;
  const held = new Map<string, [TagConfig, Value]>();
  const live = () => {
    if (!site) throw new Error("The simulator is stopped");
    return site.find(DEVICE);
  };
  const set = (t: TagConfig, v: Value) => {
    const a = parseAddress(t.address);
    live().sim.setValue(DEVICE, a.object, v as number | boolean);
  };
  const close = async () => {
    await site?.close();
    site = undefined;
  };
  const getValue = (t: TagConfig) =>
    presentValue(live().device.get(parseAddress(t.address).object)) as Value;
  return {
    connection: { host: "127.0.0.1", port, device: DEVICE, localPort: 0 },
    setValue(t, v) {
      held.set(t.address, [t, v]);
      set(t, v);
    },
    getValue,
    failTag(t) {
      const a = parseAddress(t.address);
      const k = `${a.object.type}:${a.object.instance}`;
      const d = live().sim.device(DEVICE);
      d.faults.errors.set(k, { cls: 1, code: 31 });
      return () => d.faults.errors.delete(k);
    },
    uncertainTag(t) {
      const o = live().device.get(parseAddress(t.address).object);
      if (!o) throw new Error(`No object ${t.address} in the simulator`);
      o.outOfService = true;
      return () => void (o.outOfService = false);
    },
    silence: (on) => void (live().sim.device(DEVICE).faults.silent = on),
    async stop() {
      for (const [t] of held.values()) held.set(t.address, [t, getValue(t)]);
      await close();
    },
    async start() {
      site = await startSite({ port, devices: [demo] });
      for (const [t, v] of held.values()) set(t, v);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

await runDriverConformance({
  module: bacnet,
  startSimulator: bacnetSimulator,
  device: (c, timeoutMs) => ({ ...c, timeout: `${timeoutMs}ms` }),
  refused: () => ({ host: "127.0.0.1", port: freePort(), device: DEVICE, localPort: 0 }),
  timeoutMs: 300,
  tags: [
    { tag: tag("setpoint", "analog-value:1"), value: 14.5 },
    { tag: tag("fan", "binary-output:1"), value: true },
    { tag: tag("mode", "multi-state-value:1"), value: 3 },
    { tag: tag("valve", "analog-output:1/present-value", "real"), value: 40.25 },
  ],
  readOnlyTag: tag("supply", "analog-input:1"),
  writeValue: 16.5,
  uncertain: { reason: /^out-of-service: / },
  subscribeOptions: { lifetime: "60s", checkEvery: "300ms", fallbackEvery: "1s" },
  skipCases: {
    "refused connection":
      "BACnet/IP is UDP: nothing refuses a datagram (no ICMP port-unreachable reaches a Deno UDP socket, checked with a connected node:dgram socket), so an absent device is found by its timeout, as the timeout case checks",
  },
});
