/**
 * @module
 * `bifrost sim bacnet`: serves the devices of a YAML site (`--config`), a generated site
 * (`--devices N --objects M`), or the demo air handler, until SIGINT/SIGTERM.
 */

import { parseArgs } from "node:util";
import { DEMO_DEVICE, parseSite, type SiteYaml, startSite } from "../simulator/config.ts";
import { SIM_USAGE } from "./usage.ts";

/** Runs the simulator CLI; resolves with the exit code. */
export async function runSimCli(args: string[]): Promise<number> {
  let site: SiteYaml;
  try {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        devices: { type: "string" },
        objects: { type: "string" },
        network: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(SIM_USAGE);
      return 0;
    }
    site = values.config
      ? parseSite(await Deno.readTextFile(values.config))
      : values.devices
      ? {}
      : { devices: [DEMO_DEVICE] };
    if (values.devices) {
      site.generate = { devices: Number(values.devices), objects: Number(values.objects ?? 50) };
      if (!(site.generate.devices > 0) || !(site.generate.objects > 0)) {
        throw new Error("--devices and --objects must be positive integers");
      }
    }
    if (values.host) site.host = values.host;
    if (values.port) site.port = Number(values.port);
    if (values.network) site.router = { network: Number(values.network) };
    site.port ??= 47809;
  } catch (e) {
    console.error(`Cannot start the BACnet simulator: ${(e as Error).message}`);
    console.error(SIM_USAGE);
    return 2;
  }
  let running;
  try {
    running = await startSite(site);
  } catch (e) {
    console.error(`Cannot start the BACnet simulator: ${(e as Error).message}`);
    return 1;
  }
  for (const s of running.endpoints) {
    const list = s.served.map((d) => `${d.db.info.instance}${d.mac ? ` (mac ${d.mac[0]})` : ""}`)
      .join(", ");
    console.log(
      `BACnet/IP ${s.host}:${s.port}${
        s.network !== undefined ? ` router to network ${s.network}` : ""
      }: device ${list}`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  await running.close();
  return 0;
}
