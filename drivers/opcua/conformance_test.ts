/**
 * @module
 * The driver conformance suite (`tests/conformance/driver.ts`) for `opcua` against its
 * simulator (a node-opcua server behind a TCP proxy). A restart is a real server restart
 * (sessions and subscriptions lost, values kept) behind the same address; a silent device
 * is the proxy forwarding nothing; a failing tag is a variable with status BadDeviceFailure.
 */

import type { TagConfig, Value } from "../../engine/plugin.ts";
import { type ConformanceSimulator, runDriverConformance } from "../../tests/conformance/driver.ts";
import { freePort } from "../../tests/fixtures/net.ts";
import { opcua } from "./mod.ts";
import { startOpcuaSimulator } from "./simulator/server.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");
const pki = await Deno.makeTempDir({ prefix: "bifrost-opcua-client-" });
globalThis.addEventListener("unload", () => Deno.removeSync(pki, { recursive: true }));

function tag(name: string, address: string, type: string, writable = true): TagConfig {
  return { name, address, type, writable, config: { address, type } };
}

/** The simulator's variable id of a tag (`ns=1;s=Demo.Setpoint` or `/Objects/Demo/Setpoint`). */
function idOf(t: TagConfig): string {
  return t.address.startsWith("/")
    ? t.address.replace(/^\/Objects\//, "").replaceAll("/", ".")
    : t.address.replace(/^ns=1;s=/, "");
}

async function opcuaSimulator(): Promise<ConformanceSimulator> {
  const sim = await startOpcuaSimulator({ proxy: true, changeEveryMs: 0 });
  return {
    connection: { endpoint: sim.endpoint },
    setValue: (t: TagConfig, v: Value) => sim.setValue(idOf(t), v),
    getValue: (t: TagConfig) => sim.getValue(idOf(t)),
    failTag(t) {
      sim.setStatus(idOf(t), 0x808b0000);
      return () => sim.setStatus(idOf(t), 0);
    },
    uncertainTag(t) {
      sim.setStatus(idOf(t), 0x40900000); // UncertainLastUsableValue
      return () => sim.setStatus(idOf(t), 0);
    },
    silence: (on) => void (sim.proxy!.silent = on),
    stop: () => sim.stop(),
    start: () => sim.start(),
    close: () => sim.close(),
    [Symbol.asyncDispose]: () => sim.close(),
  };
}

await runDriverConformance({
  module: opcua,
  startSimulator: opcuaSimulator,
  device: (c, timeoutMs) => ({ ...c, timeout: `${timeoutMs}ms`, pki }),
  refused: () => ({ endpoint: `opc.tcp://127.0.0.1:${freePort()}`, pki }),
  timeoutMs: 1000,
  tags: [
    { tag: tag("setpoint", "ns=1;s=Demo.Setpoint", "Double"), value: 55.5 },
    { tag: tag("count", "ns=1;s=Demo.Static.Int32", "Int32"), value: -30 },
    { tag: tag("flag", "ns=1;s=Demo.Static.Boolean", "Boolean"), value: true },
    { tag: tag("label", "/Objects/Demo/Static/String", "String"), value: "Line 2 running" },
    { tag: tag("big", "ns=1;s=Demo.Static.Int64", "Int64"), value: -9007199254740993n },
    { tag: tag("curve", "ns=1;s=Demo.Static.DoubleArray", "Double[]"), value: [1.5, 2.5] },
  ],
  readOnlyTag: tag("readOnly", "ns=1;s=Demo.ReadOnly", "Double"),
  writeValue: 42.25,
  uncertain: { reason: /^UncertainLastUsableValue$/ },
  subscribeOptions: { samplingInterval: "20ms", publishingInterval: "50ms" },
});
