/**
 * @module
 * The soak's flow directory: `devices` Modbus TCP devices (reached through their netem
 * proxies) polled every 100 to 500 ms, a control device `ctl` whose `mode` register drives
 * the user function's misbehaviour, a `function` step over every poll, a `scale` step, an
 * `mqtt` sink (QoS 1) to the soak's mosquitto and the `sqlite` history of every poll.
 *
 * Every record of every poll reaches both sinks (no filter or deadband on the way), which
 * is what lets the soak account for each sequence number in each of them.
 */

import { join } from "node:path";
import type { PointSpec } from "../../drivers/modbus/simulator/mod.ts";

/** Poll intervals, ms, by device index (cycled). */
export const POLL_EVERY_MS = [100, 200, 300, 500];
/** The control device's poll interval, ms. */
export const CTL_EVERY_MS = 250;
/** Name of the control device. */
export const CTL_DEVICE = "ctl";
/** Holding register of the function's mode on the control device. */
export const MODE_REGISTER = 0;

/** The register map of a soak device: tag name, simulator point, flow tag type. */
export const DEVICE_TAGS: { tag: string; address: string; point: PointSpec }[] = [
  { tag: "temp", address: "HR0", point: { type: "float32", generator: "sine", min: 20, max: 80 } },
  {
    tag: "level",
    address: "HR2",
    point: { type: "uint16", generator: "random-walk", min: 0, max: 1000, step: 5 },
  },
  { tag: "count", address: "HR3", point: { type: "uint32", generator: "counter", step: 1 } },
  { tag: "pressure", address: "IR0", point: { type: "int16", generator: "sine", min: -50 } },
  { tag: "running", address: "C0", point: { generator: "square", period: "20s" } },
];

/** The simulator points of a soak device. */
export function devicePoints(): Record<string, PointSpec> {
  return Object.fromEntries(DEVICE_TAGS.map((t) => [t.address, t.point]));
}

/** Where the gateway finds things. */
export interface FlowTargets {
  /** Port of each device (its netem proxy). */
  devicePorts: number[];
  ctlPort: number;
  brokerUrl: string;
  historyPath: string;
  /** Put `memory: 64MB` on the function step (needs the per-step memory limit). */
  memoryLimit: boolean;
  /** How long the function spins in mode 2, ms; 0: for ever. */
  spinMs: number;
}

/** The name of device `i` (0-based). */
export const deviceName = (i: number) => `dev-${i + 1}`;

/** The flow YAML. */
export function flowYaml(t: FlowTargets): string {
  const tagType = (p: PointSpec) => p.type ?? "bool";
  const tags = DEVICE_TAGS.map((d) =>
    `      ${d.tag}: { address: ${d.address}, type: ${tagType(d.point)} }`
  )
    .join("\n");
  const devices = t.devicePorts.map((port, i) =>
    `  ${deviceName(i)}:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    timeout: 1s
    tags:
${tags}`
  ).join("\n");
  const polls = t.devicePorts.map((_, i) =>
    `  poll-${i + 1}: { device: ${deviceName(i)}, tags: "*", every: ${
      POLL_EVERY_MS[i % POLL_EVERY_MS.length]
    }ms }`
  );
  polls.push(`  poll-ctl: { device: ${CTL_DEVICE}, tags: "*", every: ${CTL_EVERY_MS}ms }`);
  const pollNames = [...t.devicePorts.map((_, i) => `poll-${i + 1}`), "poll-ctl"].join(", ");
  return `# Written by the soak test (scripts/soak/flow.ts).
version: 1

devices:
${devices}
  ${CTL_DEVICE}:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${t.ctlPort}
    timeout: 1s
    tags:
      mode: { address: HR${MODE_REGISTER}, type: uint16 }

polls:
${polls.join("\n")}

steps:
  user-fn:
    use: function
    from: [${pollNames}]
    file: soak_fn.ts
    timeout: 200ms${t.memoryLimit ? "\n    memory: 64MB" : ""}
    with: { spinMs: ${t.spinMs} }
  fahrenheit:
    use: scale
    from: user-fn
    tags: [temp]
    gain: 1.8
    offset: 32

sinks:
  uns:
    use: mqtt
    from: fahrenheit
    url: ${t.brokerUrl}
    clientId: soak-gateway
    qos: 1
    topic: soak/{device}/{tag}
    reconnectMin: 200ms
    reconnectMax: 2s
    closeTimeout: 60s
  history:
    use: sqlite
    from: [${pollNames}]
    path: ${t.historyPath}
`;
}

/**
 * The user function: passes its records on unchanged, and misbehaves while the `mode` tag
 * of the control device says so. Self-contained (no imports): it lives in a temporary
 * directory and must type-check there.
 */
export const FUNCTION_SOURCE = `// Written by the soak test (scripts/soak/flow.ts).
// The "mode" tag of device "${CTL_DEVICE}": 0 normal, 1 throw, 2 spin past the time limit,
// 3 allocate until stopped, 4 forge messages to the host.
import process from "node:process";

interface Rec {
  device: string;
  tag: string;
  value: unknown;
  quality: string;
  [k: string]: unknown;
}
interface Ctx {
  state: Record<string, unknown>;
  params: Record<string, unknown>;
}
const held: unknown[] = [];
// The function runs in its own process and speaks to the gateway in frames on fd 1:
// Deno.stdout is closed to it, node:process is not: that is how a hostile function forges.
function frame(meta: unknown): Uint8Array {
  const m = new TextEncoder().encode(JSON.stringify(meta));
  const out = new Uint8Array(8 + m.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 4 + m.byteLength, true);
  dv.setUint32(4, m.byteLength, true);
  out.set(m, 8);
  return out;
}
const post = (m: unknown) => process.stdout.write(frame(m));

export default function (records: Rec[], ctx: Ctx): void {
  let mode = 0;
  for (const r of records) {
    if (r.device === "${CTL_DEVICE}" && r.tag === "mode" && typeof r.value === "number") {
      mode = r.value;
    }
  }
  ctx.state.batches = ((ctx.state.batches as number | undefined) ?? 0) + 1;
  if (mode === 1) throw new Error("soak: told to throw (mode 1)");
  if (mode === 2) {
    // spinMs 0: an endless loop.
    const spin = typeof ctx.params.spinMs === "number" ? ctx.params.spinMs : 10_000;
    const end = spin > 0 ? Date.now() + spin : Infinity;
    while (Date.now() < end) held.length = 0;
  }
  if (mode === 3) {
    for (;;) held.push(new Array(1 << 20).fill(mode));
  }
  if (mode === 4) {
    if (Math.random() < 0.2) process.stdout.write(new TextEncoder().encode("not a frame\\n"));
    post({ t: "log", level: "x", msg: "" });
    post({ t: "log", level: "info", msg: 42, fields: "junk" });
    post(null);
    post("junk");
    post(987654321);
    post({ t: "ok", id: -1, x: null });
    post({ t: "fail", id: "x", message: { not: "text" } });
    post({ t: "ready" });
    post({ t: "crash" });
    post({});
  }
}
`;

/** Writes the flow directory. */
export async function writeFlowDir(dir: string, t: FlowTargets): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "soak.yaml"), flowYaml(t));
  await Deno.writeTextFile(join(dir, "soak_fn.ts"), FUNCTION_SOURCE);
}
