/**
 * @module
 * The `sparkplug` sink: Bifrost as a Sparkplug B 3.0 edge node. `write()` enqueues the
 * batch in the durable queue (`sinks/_queue`) and returns; the {@linkcode EdgeNode} publishes
 * births and DDATA from the queue and carries DCMD writes back through `ctx.writeTag`.
 * See `session.ts` for the protocol behaviour and `payload.ts` for the codec.
 *
 * The bdSeq of the last connection is kept in `<queue file>.bdseq` beside the queue, so a
 * restarted gateway continues the sequence (a host can then tell a late NDEATH of the
 * previous process from the current session's).
 *
 * This entry is what the registry imports: the name, the spec and a `create` whose
 * implementation (`sink.ts`) loads with the first `sparkplug` sink a gateway opens (`load()`).
 */

import { lazyCreate, type SinkModule } from "../../engine/plugin.ts";
import { type SparkplugConfig, SparkplugSpec } from "./spec.ts";

/** The `sparkplug` sink. */
export const sparkplugSink: SinkModule<SparkplugConfig> = {
  name: "sparkplug",
  description:
    "Sparkplug B 3.0 edge node: births with every tag, DDATA by alias through a durable queue, NDEATH will, rebirth and DCMD writes.",
  status: "beta",
  spec: SparkplugSpec,
  ...lazyCreate('sink "sparkplug"', async () => (await import("./sink.ts")).createSparkplugSink),
};
