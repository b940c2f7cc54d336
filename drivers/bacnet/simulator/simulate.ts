/**
 * @module
 * The virtual device of `--simulate`: a simulated BACnet device holding every object the
 * flow's tags name (analog, binary, multi-state), with values from the device's
 * `simulator:` block (a value or a generator), on 127.0.0.1 at a free port.
 */

import type { DeviceConfig, SimulatedDevice } from "../../../engine/plugin.ts";
import type { GeneratorSpec } from "../../../simulators/generators.ts";
import { family, formatObject, parseAddress } from "../core/address.ts";
import { type ObjectYaml, startSite } from "./config.ts";

/** Starts a simulated device serving the flow device's tags. */
export async function simulateDevice(device: DeviceConfig): Promise<SimulatedDevice> {
  const instance = Number(device.config.device ?? 1);
  const objects = new Map<string, ObjectYaml>();
  for (const tag of device.tags.values()) {
    let a;
    try {
      a = parseAddress(tag.address);
    } catch {
      continue;
    }
    if (family(a.object.type) === "other") continue;
    const address = formatObject(a.object);
    const o = objects.get(address) ?? { address, name: tag.name };
    const entry = device.simulator?.[tag.name] as
      | (GeneratorSpec & { value?: number | boolean })
      | undefined;
    if (entry && typeof entry === "object") {
      if (entry.generator !== undefined) o.generator = entry;
      else if (entry.value !== undefined) o.value = entry.value;
    }
    objects.set(address, o);
  }
  const site = await startSite({
    devices: [{ instance, name: device.name, objects: [...objects.values()] }],
  });
  const sim = site.endpoints[0]!;
  return {
    connection: { host: sim.host, port: sim.port, localPort: 0 },
    close: () => site.close(),
  };
}
