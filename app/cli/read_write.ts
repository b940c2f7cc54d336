/**
 * @module
 * `bifrost read` and `bifrost write`: one value, for a quick check on site. Either through a
 * device of a flow directory (`read flows/ boiler-plc temp1`), or straight from a URL
 * (`read <url>`, handed to the driver whose tools take the URL's scheme).
 */

import { systemClock } from "../../engine/clock.ts";
import {
  type DeviceConfig,
  type Driver,
  type DriverModule,
  kindOf,
  type TagConfig,
} from "../../engine/driver.ts";
import { BifrostError, errorMessage, isBifrostError } from "../../engine/errors.ts";
import { createLogger } from "../../engine/log.ts";
import type { Value } from "../../engine/record.ts";
import type { DriverWriteOption } from "../../engine/driver.ts";
import { scaleValue } from "../../engine/scaling.ts";
import { rawForWrite } from "../../engine/runtime/device.ts";
import { engineeringKind, parseValue } from "../../engine/value.ts";
import { registries } from "../registries.ts";
import { durationOption, parseCli, UsageError, withUsage } from "./_args.ts";
import { loadOrReport } from "./_load.ts";
import { schemeOf, toolsForUrl } from "./_tools.ts";
import { apiRead, apiTarget, apiWrite, deviceAndTag } from "./_api_write.ts";

/** The options of `--api` (a running gateway instead of a connection of our own). */
const API_OPTIONS = {
  api: { type: "string" },
  token: { type: "string" },
  ca: { type: "string" },
} as const;

/** Usage of `bifrost read`. */
export const READ_USAGE = "Usage: bifrost read <flow-dir> <device> <tag> [--timeout 5s]\n" +
  "       bifrost read <url> [--timeout 5s]   (URL schemes: see bifrost --help)\n" +
  "       bifrost read --api http://127.0.0.1:8720 <device> <tag> [--token T] [--ca FILE]";
/** Usage of `bifrost write`. */
export const WRITE_USAGE =
  "Usage: bifrost write <flow-dir> <device> <tag> <value> [--timeout 5s]\n" +
  "       bifrost write <url> <value> [--timeout 5s]\n" +
  "       bifrost write --api http://127.0.0.1:8720 <device> <tag> <value> [--token T] [--ca FILE]\n" +
  "       (--api: through a running gateway, checked and audited; token also from BIFROST_TOKEN)";

interface Target {
  device: DeviceConfig;
  tag: TagConfig;
  module: DriverModule;
}

async function resolveTarget(pos: string[], command: string): Promise<[Target, string[]]> {
  const first = pos[0] ?? "";
  if (schemeOf(first) !== undefined) {
    const { device, tag } = toolsForUrl(first, command).parseUrl(first);
    const module = registries.drivers.find((d) => d.name === device.driver);
    if (!module) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot ${command} "${first}": driver "${device.driver}" is not installed`,
      );
    }
    // A URL names one register explicitly: writing it is what the technician asked for.
    return [{ device, tag: { ...tag, writable: true }, module }, pos.slice(1)];
  }
  const [dir, deviceName, tagName, ...rest] = pos;
  if (!dir || !deviceName || !tagName) {
    throw new UsageError(
      dir ? "Missing the device and tag names" : "Missing a flow directory or a device URL",
    );
  }
  const loaded = await loadOrReport(dir, command);
  if (!loaded) {
    throw new BifrostError("CONFIG_INVALID", `Cannot ${command}: the flows in ${dir} are invalid`);
  }
  const device = loaded.flows.devices.get(deviceName);
  if (!device) throw new BifrostError("NOT_FOUND", `Unknown device "${deviceName}" in ${dir}`);
  const tag = device.tags.get(tagName);
  if (!tag) {
    throw new BifrostError("NOT_FOUND", `Unknown tag "${tagName}" on device "${deviceName}"`);
  }
  const module = registries.drivers.find((d) => d.name === device.driver)!;
  return [{ device, tag, module }, rest];
}

/**
 * Connects once, without the engine's retries: a one-shot command reports a refused or
 * unreachable device at once instead of backing off until its timeout.
 */
async function connect(t: Target, signal: AbortSignal, timeoutMs: number): Promise<Driver> {
  const log = createLogger({ level: "warn" });
  await t.module.load?.();
  const driver = t.module.create(t.device, { log, clock: systemClock });
  try {
    await driver.connect(signal);
  } catch (e) {
    await driver.close().catch(() => {});
    if (signal.aborted) {
      throw new BifrostError(
        "DEVICE_UNREACHABLE",
        `Cannot connect to "${t.device.name}" within ${timeoutMs} ms: no answer`,
      );
    }
    const message = errorMessage(e);
    if (message.includes(`"${t.device.name}"`) || message.includes(t.device.name)) throw e;
    const code = isBifrostError(e) ? e.code : "DEVICE_UNREACHABLE";
    throw new BifrostError(code, `${message} (device "${t.device.name}")`, { cause: e });
  }
  return driver;
}

function show(v: Value): string {
  return typeof v === "bigint" ? v.toString() : typeof v === "string" ? v : JSON.stringify(v);
}

/** Runs `read`; returns the exit code. */
export function readCommand(args: string[]): Promise<number> {
  return withUsage(READ_USAGE, async () => {
    const { values, positionals } = parseCli(args, { timeout: { type: "string" }, ...API_OPTIONS });
    if (values.help) {
      console.log(READ_USAGE);
      return 0;
    }
    const timeoutMs = durationOption("timeout", values.timeout ?? "5s");
    if (values.api !== undefined) {
      const [device, tag, more] = deviceAndTag(positionals);
      if (more.length > 0) throw new UsageError(`Unexpected argument "${more[0]}"`);
      await apiRead(await apiTarget(values.api, values.token, values.ca, timeoutMs), device, tag);
      return 0;
    }
    if (values.token !== undefined || values.ca !== undefined) {
      throw new UsageError("--token and --ca go with --api");
    }
    const [t, rest] = await resolveTarget(positionals, "read");
    if (rest.length > 0) throw new UsageError(`Unexpected argument "${rest[0]}"`);
    const signal = AbortSignal.timeout(timeoutMs);
    const driver = await connect(t, signal, timeoutMs);
    try {
      const [r] = await driver.read(driver.plan([t.tag]), signal);
      if (!r || !r.ok) throw r?.error ?? new Error("no result");
      let v = r.value;
      if (t.tag.scale) v = scaleValue(v, t.tag.scale);
      const uncertain = r.uncertain === undefined ? "" : ` (uncertain: ${r.uncertain})`;
      console.log(`${show(v)}${t.tag.unit ? " " + t.tag.unit : ""}${uncertain}`);
      return 0;
    } finally {
      await driver.close();
    }
  });
}

/** Moves negative numbers behind `--` so that `write … -4.25` is a value, not an option. */
function negativesAsPositionals(args: string[]): string[] {
  if (args.includes("--")) return args;
  const isNeg = (a: string) => /^-(\d|\.\d)/.test(a);
  return [...args.filter((a) => !isNeg(a)), "--", ...args.filter(isNeg)];
}

/** Runs `write`; returns the exit code. */
export function writeCommand(args: string[]): Promise<number> {
  return withUsage(WRITE_USAGE, async () => {
    // Options the URL's driver adds (DriverTools.writeOptions, e.g. a write priority).
    // (Not the gateway's own URL of `--api`; an unknown scheme is reported by resolveTarget.)
    const url = args.find((a) => schemeOf(a) !== undefined && !/^https?:\/\//i.test(a));
    let extra: readonly DriverWriteOption[] = [];
    try {
      extra = url ? toolsForUrl(url, "write").writeOptions ?? [] : [];
    } catch {
      // resolveTarget says what is wrong with the URL, with the usage.
    }
    const { values, positionals } = parseCli(negativesAsPositionals(args), {
      timeout: { type: "string" },
      ...API_OPTIONS,
      ...Object.fromEntries(extra.map((o) => [o.name, { type: "string" as const }])),
    });
    if (values.help) {
      console.log([WRITE_USAGE, ...extra.map((o) => `  ${o.usage}`)].join("\n"));
      return 0;
    }
    const timeoutMs = durationOption("timeout", String(values.timeout ?? "5s"));
    if (values.api !== undefined) {
      const [device, tag, more] = deviceAndTag(positionals);
      if (more[0] === undefined) throw new UsageError("Missing the value to write");
      if (more.length > 1) throw new UsageError(`Unexpected argument "${more[1]}"`);
      const target = await apiTarget(values.api, values.token, values.ca, timeoutMs);
      await apiWrite(target, device, tag, more[0]);
      return 0;
    }
    if (values.token !== undefined || values.ca !== undefined) {
      throw new UsageError("--token and --ca go with --api");
    }
    let [t, rest] = await resolveTarget(positionals, "write");
    for (const o of extra) {
      const v = (values as Record<string, unknown>)[o.name];
      if (typeof v !== "string") continue;
      try {
        t = { ...t, ...o.apply({ device: t.device, tag: t.tag }, v) };
      } catch (e) {
        throw new UsageError(errorMessage(e));
      }
    }
    const text = rest[0];
    if (text === undefined) throw new UsageError("Missing the value to write");
    if (rest.length > 1) throw new UsageError(`Unexpected argument "${rest[1]}"`);
    // One parser for every driver, by the tag's value kind (never by its type's name).
    const kind = engineeringKind(kindOf(t.tag, t.module), t.tag.scale !== undefined);
    const value = parseValue(kind, text, t.tag.name);
    // The engine's write rule, without its DeviceRuntime (a one-shot write connects once).
    const raw = rawForWrite(t.device.name, t.tag, value, t.module);
    const signal = AbortSignal.timeout(timeoutMs);
    const driver = await connect(t, signal, timeoutMs);
    try {
      await driver.write(t.tag, raw, signal);
    } finally {
      await driver.close();
    }
    console.log(`wrote ${show(value)} to ${t.device.name}/${t.tag.name}`);
    return 0;
  });
}
