/**
 * @module
 * Fixtures of the HTTP tests: a real gateway started from flow YAML (in a temp directory,
 * loaded through the app's registries, plus the test push driver), and a Hono app served
 * with `Deno.serve` on port 0; both are closed through `await using`.
 */

import { join } from "node:path";
import { registries } from "../registries.ts";
import { loadFlows } from "../../engine/flow/mod.ts";
import type { SchemaSources } from "../../engine/flow/schema.ts";
import { Gateway, type GatewayOptions } from "../../engine/runtime/gateway.ts";
import { pushDriver } from "../../engine/runtime/_push_driver_test_util.ts";

/** The app's registries plus the `test-push` driver. */
export const testSources: SchemaSources = {
  ...registries,
  drivers: [...registries.drivers, pushDriver],
};

/** A started gateway, stopped (and its temp directory removed) on dispose. */
export interface TestGateway extends AsyncDisposable {
  gateway: Gateway;
  dir: string;
}

/**
 * Loads `yaml` (or what `yaml(dir)` makes of the temp directory) as a flow file and starts
 * the gateway. Throws with the load errors.
 */
export async function startGateway(
  yaml: string | ((dir: string) => string),
  o: Partial<GatewayOptions> = {},
): Promise<TestGateway> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-http-" });
  await Deno.writeTextFile(join(dir, "flow.yaml"), typeof yaml === "string" ? yaml : yaml(dir));
  const r = await loadFlows(dir, { env: {}, sources: testSources });
  if (!r.flows) {
    throw new Error(`flow did not load: ${r.errors.map((e) => e.message).join("; ")}`);
  }
  const gateway = new Gateway(r.flows, { sources: testSources, dataDir: dir, ...o });
  await gateway.start();
  return {
    gateway,
    dir,
    async [Symbol.asyncDispose]() {
      await gateway.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** A served app: its base URL (`http://127.0.0.1:<port>`), shut down on dispose. */
export interface Served extends AsyncDisposable {
  url: string;
  port: number;
}

/** Serves `fetch` on 127.0.0.1, port 0. */
export function serve(fetch: (req: Request) => Response | Promise<Response>): Served {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetch);
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
