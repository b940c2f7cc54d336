/**
 * @module
 * The gateway side of `scripts/bench/api.ts`, in its own process so that its CPU and RSS are
 * its own: a gateway polling `DEVICES` push-server devices of `TAGS` tags each every 100 ms
 * (values changed every 100 ms by a timer), with the live-data WebSocket and `/metrics`
 * served on 127.0.0.1. Prints `{"port":…}` once listening; runs until stdin closes.
 *
 * Args: `<devices> <tagsPerDevice>`.
 */

import { join } from "node:path";
import { registries } from "../../app/registries.ts";
import { Hono } from "hono";
import { metricsApp } from "../../app/http/metrics.ts";
import { wsApp } from "../../app/http/ws.ts";
import { loadFlows } from "../../engine/flow/mod.ts";
import type { SchemaSources } from "../../engine/flow/schema.ts";
import { Gateway } from "../../engine/runtime/gateway.ts";
import {
  pushDriver,
  PushServer,
  pushServers,
} from "../../engine/runtime/_push_driver_test_util.ts";

const devices = Number(Deno.args[0] ?? 10);
const tags = Number(Deno.args[1] ?? 100);
const sources: SchemaSources = { ...registries, drivers: [...registries.drivers, pushDriver] };

const servers: PushServer[] = [];
let yaml = "devices:\n";
for (let d = 0; d < devices; d++) {
  const s = new PushServer();
  pushServers.set(`s${d}`, s);
  servers.push(s);
  yaml += `  plc${d}:\n    driver: test-push\n    server: s${d}\n    tags:\n`;
  for (let t = 0; t < tags; t++) {
    yaml += `      t${t}: { address: t${t}, type: float }\n`;
    s.values.set(`t${t}`, 0);
  }
}
yaml += "polls:\n";
for (let d = 0; d < devices; d++) yaml += `  p${d}: { device: plc${d}, tags: "*", every: 100ms }\n`;
const dir = await Deno.makeTempDir({ prefix: "bifrost-bench-api-" });
await Deno.writeTextFile(join(dir, "flow.yaml"), yaml);
const r = await loadFlows(dir, { env: {}, sources });
if (!r.flows) throw new Error(r.errors.map((e) => e.message).join("\n"));
const gw = new Gateway(r.flows, { sources, dataDir: dir });
await gw.start();

// Every value changes every 100 ms (the push server's values are what the polls read).
let n = 0;
const changer = setInterval(() => {
  n++;
  for (const s of servers) for (const k of s.values.keys()) s.values.set(k, n + Math.random());
}, 100);

const stop = new AbortController();
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  new Hono().route("/", wsApp(gw, { signal: stop.signal })).route("/", metricsApp(gw)).fetch,
);
console.log(JSON.stringify({ port: server.addr.port }));

// Until the benchmark closes stdin.
for await (const _ of Deno.stdin.readable) { /* keep reading */ }
clearInterval(changer);
stop.abort();
await server.shutdown();
await gw.stop();
await Deno.remove(dir, { recursive: true });
