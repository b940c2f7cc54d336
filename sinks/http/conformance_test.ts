/**
 * @module
 * The sink conformance suite (`tests/conformance/sink.ts`) for the `http` sink against a
 * local `Deno.serve` endpoint that keeps what it is sent; an outage closes the endpoint and
 * a restart serves again on the same port.
 */

import type { DataRecord } from "../../engine/record.ts";
import { runSinkConformance, type SinkServer } from "../../tests/conformance/sink.ts";
import { httpSink } from "./mod.ts";

interface Endpoint extends SinkServer {
  url: string;
  got: DataRecord[];
}

function startEndpoint(): Promise<Endpoint> {
  const got: DataRecord[] = [];
  const serve = (port: number) =>
    Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
      const body = await req.json() as { records: (DataRecord & { historical?: boolean })[] };
      for (const { historical: _, ...r } of body.records) got.push(r);
      return new Response(null, { status: 204 });
    });
  let server: Deno.HttpServer<Deno.NetAddr> | undefined = serve(0);
  const port = server.addr.port;
  const stop = async () => {
    await server?.shutdown();
    server = undefined;
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${port}/ingest`,
    got,
    stop,
    start() {
      server ??= serve(port);
      return Promise.resolve();
    },
    close: stop,
    [Symbol.asyncDispose]: stop,
  });
}

runSinkConformance<Endpoint>({
  module: httpSink,
  startServer: startEndpoint,
  config: (ep, dataDir) => ({
    url: ep.url,
    retryMin: "20ms",
    retryMax: "100ms",
    breakerCoolDown: "200ms",
    queue: { dir: dataDir },
  }),
  readBack: (ep) => Promise.resolve(ep.got.slice()),
  fields: ["value", "quality", "reason", "sourceTs", "gatewayTs", "seq"],
  queued: true,
  delivered: (s) => s.sent ?? 0,
  exampleBase: { url: "https://mes.example.com/ingest" },
});
