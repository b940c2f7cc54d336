/**
 * @module
 * The network condition proxy: `startNetemProxy()` for tests (latency, jitter, loss as
 * stalls, bandwidth, disconnects, blackhole between any client and any TCP device), and
 * `runNetemCli()` for `bifrost sim netem`.
 */

export {
  describeConditions,
  parseBandwidth,
  parseNetemArgs,
  parseRate,
  runNetemCli,
} from "./cli.ts";
export {
  type NetemConditions,
  type NetemProxy,
  type NetemProxyOptions,
  type NetemStats,
  NO_IMPAIRMENT,
  startNetemProxy,
} from "./proxy.ts";
