/**
 * @module
 * NCMD and DCMD from host applications. `Node Control/Rebirth` = true asks for new births;
 * a DCMD metric (by alias or name) of a writable tag becomes `ctx.writeTag(device, tag,
 * value)`. Anything else is logged with the reason and ignored: an unknown device or metric,
 * a tag not marked writable, a value of a datatype Bifrost cannot write (bytes, datasets),
 * or an undecodable payload.
 */

import { errorMessage } from "../../engine/plugin.ts";
import { fromMetricValue } from "./datatypes.ts";
import type { DeviceDef } from "./model.ts";
import { decodePayload, type Metric, type Payload } from "./payload.ts";
import type { EdgeNodeOptions, EdgeNodeStats, Session } from "./types.ts";

/** The node metric a host sets to true to ask for NBIRTH and every DBIRTH again. */
export const REBIRTH_METRIC = "Node Control/Rebirth";

function label(m: Metric): string {
  return m.name !== undefined ? `"${m.name}"` : `alias ${m.alias}`;
}

/**
 * Handles one message on a command topic. Sets `s.rebirth` for a rebirth request; returns
 * the promise of the writes a DCMD started (they never reject), or undefined.
 */
export function handleCommand(
  o: Pick<EdgeNodeOptions, "topics" | "model" | "writeTag" | "log">,
  s: Pick<Session, "rebirth">,
  topic: string,
  bytes: Uint8Array,
  stats: EdgeNodeStats,
): Promise<void> | undefined {
  const cmd = o.topics.parseCommand(topic);
  if (!cmd) return undefined;
  let p: Payload;
  try {
    p = decodePayload(bytes);
  } catch (e) {
    o.log.warn(`Ignored ${cmd.type} on "${topic}": cannot decode the payload (${errorMessage(e)})`);
    return undefined;
  }
  stats.commands++;
  if (cmd.type === "NCMD") {
    for (const m of p.metrics) {
      if (m.name === REBIRTH_METRIC && m.value === true) {
        o.log.info("Sparkplug rebirth requested by NCMD");
        s.rebirth = true;
      } else {
        o.log.warn(`Ignored NCMD metric ${label(m)}: only "${REBIRTH_METRIC}" = true is supported`);
      }
    }
    return undefined;
  }
  const device = o.model.deviceById(cmd.device);
  if (!device) {
    o.log.warn(`Ignored DCMD for device "${cmd.device}": no such device on this edge node`);
    stats.writesRejected += p.metrics.length;
    return undefined;
  }
  return Promise.all(p.metrics.map((m) => write(o, device, m, stats))).then(() => {});
}

async function write(
  o: Pick<EdgeNodeOptions, "model" | "writeTag" | "log">,
  device: DeviceDef,
  m: Metric,
  stats: EdgeNodeStats,
): Promise<void> {
  const def = o.model.resolve(device, m);
  const reject = (why: string) => {
    stats.writesRejected++;
    o.log.warn(`Ignored DCMD metric ${label(m)} for "${device.name}": ${why}`);
  };
  if (!def) return reject("no such metric on the device");
  if (!def.writable) return reject(`tag "${def.tag}" is not writable`);
  const value = fromMetricValue(m.value);
  if (value === undefined || value === null) {
    return reject(
      `no value Bifrost can write (datatype ${m.datatype}, is_null ${m.isNull === true})`,
    );
  }
  try {
    await o.writeTag(device.name, def.tag, value);
    stats.writes++;
    o.log.info(`Sparkplug DCMD wrote ${String(value)} to "${def.tag}" of "${device.name}"`);
  } catch (e) {
    reject(`the write failed: ${errorMessage(e)}`);
  }
}
