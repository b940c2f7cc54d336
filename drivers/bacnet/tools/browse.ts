/**
 * @module
 * `bifrost browse 'bacnet://HOST[:PORT]/DEVICE'`: walks the device's object list into a
 * ready flow draft: one tag per object (its present value), named from the object name,
 * with units for analog objects, `writable` for commandable outputs and values, and the
 * states of multi-state objects as a comment.
 */

import {
  BifrostError,
  type BrowseToolOptions,
  type FlowDraft,
  type FlowDraftTag,
  nullLogger,
  systemClock,
} from "../../../engine/plugin.ts";
import { BacnetDriver } from "../client/driver.ts";
import { browseObjects } from "../client/browse.ts";
import { parseDeviceUrl } from "./url.ts";

/** A flow-safe tag name from an object name: `Supply Air Temp` -> `Supply_Air_Temp`. */
export function tagName(name: string): string {
  const n = name.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
}

/** Browses a device into a flow draft. */
export async function browseBacnet(url: string, o: BrowseToolOptions): Promise<FlowDraft> {
  const { config, rest, host } = parseDeviceUrl(url);
  if (rest !== "") {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot browse "${url}": give the device only (bacnet://host[:port]/device), not an object`,
    );
  }
  const name = `bacnet-${config.device}`;
  const driver = new BacnetDriver({ name, driver: "bacnet", config, tags: new Map() }, {
    log: nullLogger,
    clock: systemClock,
  });
  await driver.connect(o.signal);
  try {
    o.out.error(
      `Reading the object list of device ${config.device} at ${driver.session!.where()}...`,
    );
    const objects = await browseObjects(driver.session!, Number(config.device), o.signal);
    const seen = new Set<string>();
    const tags: FlowDraftTag[] = objects.map((b) => {
      let n = tagName(b.name);
      while (seen.has(n)) n += "_";
      seen.add(n);
      return {
        name: n,
        fields: {
          address: b.address,
          ...(b.units ? { unit: b.units.symbol } : {}),
          ...(b.writable ? { writable: true } : {}),
          ...(b.description ? { description: b.description } : {}),
        },
        ...(b.states
          ? { comment: `states: ${b.states.map((s, i) => `${i + 1}=${s}`).join(", ")}` }
          : {}),
      };
    });
    const { localPort: _, ...fields } = config;
    return {
      notes: [`BACnet device ${config.device} at ${host}: ${objects.length} objects`],
      devices: [{
        name,
        fields: { driver: "bacnet", ...fields },
        tags,
        candidates: [],
        notes: [
          `max APDU ${driver.session!.limits.maxApdu}, segmentation ${
            ["both", "transmit", "receive", "none"][driver.session!.limits.segmentation] ?? "?"
          }`,
        ],
      }],
    };
  } finally {
    await driver.close();
  }
}
