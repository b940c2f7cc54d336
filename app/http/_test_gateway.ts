/**
 * @module
 * Test fixture: a real gateway polling the Modbus simulator over TCP, with SQLite history,
 * and its HTTP API listening on 127.0.0.1 port 0. Closed through `await using`. Tests may
 * add flow text (triggers) and files (their functions) to the flow directory.
 */

import { dirname, join } from "node:path";
import { registries } from "../registries.ts";
import { loadFlows } from "../../engine/flow/mod.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";
import { nullLogger } from "../../engine/log.ts";
import { type ModbusSimulator, startModbusSimulator } from "../../drivers/modbus/simulator/mod.ts";
import type { MountPart } from "./api.ts";
import { type HttpOptions, type HttpServer, startHttp } from "./serve.ts";

/** A running gateway with its API. */
export interface TestGateway extends AsyncDisposable {
  sim: ModbusSimulator;
  gateway: Gateway;
  http: HttpServer;
  /** `http://127.0.0.1:<port>/api/v1`. */
  api: string;
  dir: string;
}

/** Starts the simulator, the gateway and the API (`options` override the HTTP options). */
export async function startTestGateway(
  options: Partial<HttpOptions> = {},
  extra: {
    /** Flow text appended to the flow file (triggers). */
    flow?: string;
    /** Files written to the flow directory (the triggers' functions). */
    files?: Record<string, string>;
    /** Parts to mount that need the gateway (made before the server starts). */
    parts?: (gateway: Gateway) => MountPart[];
  } = {},
): Promise<TestGateway> {
  const sim = await startModbusSimulator({
    units: {
      1: {
        HR0: { type: "float32", value: 20.5 },
        HR2: { type: "int16", value: 1234 },
        HR3: { type: "uint16", value: 7 },
        C0: { type: "bool", value: true },
      },
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "bifrost-api-" });
  await Deno.writeTextFile(
    join(dir, "flow.yaml"),
    `
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${sim.port}
    tags:
      setpoint: { address: HR0, type: float32, writable: true, min: 0, max: 100, unit: degC }
      pressure: { address: HR2, type: int16 }
      mode: { address: HR3, type: uint16, writable: true }
      running: { address: C0, type: bool, writable: true }
polls:
  fast: { device: plc, tags: "*", every: 50ms }
sinks:
  history: { use: sqlite, from: fast, path: history.db }
${extra.flow ?? ""}`,
  );
  for (const [name, text] of Object.entries(extra.files ?? {})) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  // Function files are loaded by the checks; type-checking them is `bifrost check`'s.
  const r = await loadFlows(dir, { env: {}, sources: registries, typeCheck: false });
  if (!r.flows || r.errors.length) throw new Error(r.errors.map((e) => e.message).join("; "));
  for (const sink of r.flows.sinks.values()) {
    if (sink.use === "sqlite") sink.config.path = join(dir, String(sink.config.path));
  }
  const gateway = new Gateway(r.flows, { sources: registries, dataDir: dir });
  // The API's last-value cache taps first: once this sees a poll, so has the cache.
  const polled = Promise.withResolvers<void>();
  let http: HttpServer | undefined;
  try {
    http = await startHttp(gateway, {
      listen: { host: "127.0.0.1", port: 0 },
      dataDir: dir,
      drivers: registries.drivers,
      log: nullLogger,
      ...options,
      ...(extra.parts ? { mount: [...(options.mount ?? []), ...extra.parts(gateway)] } : {}),
    });
    const untap = gateway.tap((node) => node === "fast" && polled.resolve());
    await gateway.start();
    await polled.promise;
    untap();
  } catch (e) {
    await http?.close();
    await sim.close();
    throw e;
  }
  const h = http;
  return {
    sim,
    gateway,
    http: h,
    api: `${h.url}/api/v1`,
    dir,
    async [Symbol.asyncDispose]() {
      await h.close();
      await gateway.stop();
      await sim.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** `fetch` of a JSON API call; resolves to the status and the parsed body. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; token?: string; raw?: string } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? "POST" : "GET"),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
      ? { body: JSON.stringify(init.body) }
      : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
