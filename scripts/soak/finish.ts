/**
 * @module
 * The end of a soak run: stop the gateway with SIGINT (it drains its durable queue), wait
 * for the subscriber to receive the rest, and account for every produced sequence number
 * in MQTT and in the history (see `accounting.ts`). When the gateway died and so never
 * reported its ranges, the accounting is a lower bound from what arrived anywhere.
 */

import { errorMessage } from "../../engine/errors.ts";
import { accountLosses, type LossReport, type Received, receivedRanges } from "./accounting.ts";
import type { GatewayProcess } from "./gateway.ts";
import { historySequences } from "./history.ts";
import { formatElapsed } from "./report.ts";
import { sleep } from "./rig.ts";

/** How long the gateway may take to drain and stop after SIGINT (ms). */
const STOP_TIMEOUT_MS = 120_000;
/** How long the subscriber may take to receive the rest after the gateway stopped (ms). */
const SETTLE_MS = 30_000;

/** How the run ended. */
export interface Outcome {
  alive: boolean;
  /** Why the gateway is not alive, or did not stop cleanly. */
  gatewayProblem: string | undefined;
  mqtt: LossReport | undefined;
  history: LossReport | undefined;
}

/** Stops the gateway (if alive) and accounts for its records. */
export async function finish(
  gw: GatewayProcess,
  received: Received,
  historyPath: string,
  elapsedS: number,
  say: (line: string) => void,
): Promise<Outcome> {
  const o: Outcome = {
    alive: true,
    gatewayProblem: undefined,
    mqtt: undefined,
    history: undefined,
  };
  if (gw.exited) {
    o.alive = false;
    o.gatewayProblem = `it exited at +${formatElapsed(elapsedS)} with code ${gw.exited.code}${
      gw.exited.signal ? ` (${gw.exited.signal})` : ""
    }`;
  } else {
    say(`Stopping the gateway (SIGINT); it drains its queue first…`);
    const stoppedAt = performance.now();
    const st = await gw.stop(STOP_TIMEOUT_MS);
    const took = ((performance.now() - stoppedAt) / 1000).toFixed(1);
    if (st.code !== 0) o.gatewayProblem = `it exited with code ${st.code} after SIGINT (${took} s)`;
    else say(`Gateway stopped cleanly in ${took} s.`);
  }
  let stored: Received | undefined;
  const readHistory = () => {
    try {
      stored = historySequences(historyPath);
    } catch (e) {
      say(`Cannot read the history: ${errorMessage(e)}`);
    }
  };
  const ranges = gw.final?.sequences;
  if (ranges) {
    const deadline = performance.now() + SETTLE_MS;
    while (performance.now() < deadline && accountLosses(ranges, received).lost > 0) {
      await sleep(500);
    }
    o.mqtt = accountLosses(ranges, received);
    readHistory();
    if (stored) o.history = accountLosses(ranges, stored);
  } else {
    await sleep(2_000);
    readHistory();
    const lower = receivedRanges(received, stored ?? new Map());
    say("The gateway reported no sequence ranges: the losses below are a lower bound.");
    o.mqtt = accountLosses(lower, received);
    if (stored) o.history = accountLosses(lower, stored);
  }
  return o;
}
