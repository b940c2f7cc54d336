/**
 * @module
 * `bifrost read` and `bifrost write`: one value, for a quick check on site. Either through a
 * device of a flow directory (`read flows/ boiler-plc temp1`), or straight from a URL
 * (`read modbus://10.0.0.5:502/1/HR100:float32:CDAB`).
 */

import { parseArgs } from "node:util";
import { parseModbusUrl } from "../../drivers/modbus/mod.ts";
import { systemClock } from "../clock.ts";
import { type DeviceConfig, type DriverModule, kindOf, type TagConfig } from "../driver.ts";
import { BifrostError, errorMessage } from "../errors.ts";
import { createLogger } from "../log.ts";
import type { Value } from "../record.ts";
import { registries } from "../registries.ts";
import { DeviceRuntime } from "../runtime/device.ts";
import { scaleValue } from "../scaling.ts";
import { engineeringKind, parseValue } from "../value.ts";
import { loadOrReport } from "./_load.ts";

interface Target {
  device: DeviceConfig;
  tag: TagConfig;
  module: DriverModule;
}

async function resolveTarget(pos: string[], command: string): Promise<[Target, string[]]> {
  const first = pos[0] ?? "";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(first)) {
    if (!/^modbus(-tcp|-rtu|-rtu-tcp)?:\/\//i.test(first)) {
      throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot ${command} "${first}": supported URLs are modbus://, modbus-tcp://, modbus-rtu://, modbus-rtu-tcp://`,
      );
    }
    const { device, tag } = parseModbusUrl(first);
    const module = registries.drivers.find((d) => d.name === device.driver)!;
    // A URL names one register explicitly: writing it is what the technician asked for.
    return [{ device, tag: { ...tag, writable: true }, module }, pos.slice(1)];
  }
  const [dir, deviceName, tagName, ...rest] = pos;
  if (!dir || !deviceName || !tagName) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Missing arguments: usage: bifrost ${command} <flow-dir> <device> <tag>${
        command === "write" ? " <value>" : ""
      }`,
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

async function connect(t: Target, timeoutMs: number): Promise<DeviceRuntime> {
  const log = createLogger({ level: "warn" });
  const rt = new DeviceRuntime(t.device, t.module, { log, clock: systemClock });
  rt.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() =>
      reject(
        new BifrostError(
          "DEVICE_UNREACHABLE",
          `Cannot connect to "${t.device.name}" within ${timeoutMs} ms: ${
            rt.health().lastError ?? "no answer"
          }`,
        ),
      ), timeoutMs)
  );
  try {
    await Promise.race([rt.whenConnected(), timeout]);
  } catch (e) {
    await rt.stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  return rt;
}

function show(v: Value): string {
  return typeof v === "bigint" ? v.toString() : typeof v === "string" ? v : JSON.stringify(v);
}

/** Runs `read`; returns the exit code. */
export async function readCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { timeout: { type: "string", default: "5000" } },
    allowPositionals: true,
  });
  let rt: DeviceRuntime | undefined;
  try {
    const [t] = await resolveTarget(positionals, "read");
    rt = await connect(t, Number(values.timeout));
    const [r] = await rt.read(rt.plan([t.tag]));
    if (!r || !r.ok) throw r?.error ?? new Error("no result");
    let v = r.value;
    if (t.tag.scale) v = scaleValue(v, t.tag.scale);
    console.log(`${show(v)}${t.tag.unit ? " " + t.tag.unit : ""}`);
    return 0;
  } catch (e) {
    console.error(errorMessage(e));
    return 1;
  } finally {
    await rt?.stop();
  }
}

/** Moves negative numbers behind `--` so that `write … -4.25` is a value, not an option. */
function negativesAsPositionals(args: string[]): string[] {
  if (args.includes("--")) return args;
  const isNeg = (a: string) => /^-(\d|\.\d)/.test(a);
  return [...args.filter((a) => !isNeg(a)), "--", ...args.filter(isNeg)];
}

/** Runs `write`; returns the exit code. */
export async function writeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: negativesAsPositionals(args),
    options: { timeout: { type: "string", default: "5000" } },
    allowPositionals: true,
  });
  let rt: DeviceRuntime | undefined;
  try {
    const [t, rest] = await resolveTarget(positionals, "write");
    const text = rest[0];
    if (text === undefined) throw new BifrostError("CONFIG_INVALID", "Missing the value to write");
    // One parser for every driver, by the tag's value kind (never by its type's name).
    const kind = engineeringKind(kindOf(t.tag, t.module), t.tag.scale !== undefined);
    const value = parseValue(kind, text, t.tag.name);
    rt = await connect(t, Number(values.timeout));
    await rt.write(t.tag, value);
    console.log(`wrote ${show(value)} to ${t.device.name}/${t.tag.name}`);
    return 0;
  } catch (e) {
    console.error(errorMessage(e));
    return 1;
  } finally {
    await rt?.stop();
  }
}
