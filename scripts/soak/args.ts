/**
 * @module
 * The soak test's command line: `deno task soak --minutes N [--report-every 5m]
 * [--faults all|none|a,b,…] [--cpu LIST] [--max-slope MB/h] [--devices N] [--seed N]
 * [--keep]`. Pure: parsing only, so it is tested without starting anything.
 */

import { parseArgs } from "node:util";
import { BifrostError } from "../../engine/errors.ts";
import { parseDuration } from "../../engine/flow/duration.ts";

/**
 * The faults the soak cycles, in the order they are staggered. `memory` and `forge` need
 * the per-step memory limit and the validation of worker messages: without them a
 * function allocating without end or posting junk takes the whole gateway down.
 */
export const FAULTS = [
  "restart",
  "blackhole",
  "malformed",
  "broker",
  "throw",
  "timeout",
  "memory",
  "forge",
] as const;
/** A fault name. */
export type FaultName = (typeof FAULTS)[number];

/** What a fault does, for `--help`. */
export const FAULT_HELP: Record<FaultName, string> = {
  restart: "a device's simulator closes, then listens again on the same port",
  blackhole: "a device's netem proxy swallows every byte (a dead device behind a live network)",
  malformed: "a device answers malformed, truncated or mismatched (transaction id) frames",
  broker: "mosquitto stops, then starts again on the same port",
  throw: "the function throws (mode 1)",
  timeout: "the function spins past its time limit (mode 2)",
  memory: "the function allocates until it is stopped (mode 3; needs `memory:` on the step)",
  forge: "the function posts forged and junk messages to the host (mode 4)",
};

/** The soak's settings. */
export interface SoakArgs {
  minutes: number;
  reportEveryMs: number;
  faults: FaultName[];
  /** `taskset -c` CPU list for the gateway, or undefined (not pinned). */
  cpu: string | undefined;
  /** PASS needs the RSS slope after the warm-up at or under this, MB/hour. */
  maxSlopeMbPerHour: number;
  devices: number;
  seed: number;
  /** How long the function spins in mode 2 (ms); 0: for ever. */
  spinMs: number;
  /** Keep the run directory (flows, logs, history, broker files) even on PASS. */
  keep: boolean;
  help: boolean;
}

/** Default bound of the RSS slope, MB/hour. */
export const DEFAULT_MAX_SLOPE = 8;

const bad = (what: string) => new BifrostError("CONFIG_INVALID", what);

/** Parses a comma list of fault names (`all`, `none`). */
export function parseFaults(list: string): FaultName[] {
  const s = list.trim();
  if (s === "all") return [...FAULTS];
  if (s === "none" || s === "") return [];
  const out: FaultName[] = [];
  for (const name of s.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
    if (!(FAULTS as readonly string[]).includes(name)) {
      throw bad(`Unknown fault "${name}" in --faults (known: ${FAULTS.join(", ")}, all, none)`);
    }
    if (!out.includes(name as FaultName)) out.push(name as FaultName);
  }
  // Staggered in the canonical order whatever the order given.
  return FAULTS.filter((f) => out.includes(f));
}

function positive(name: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw bad(
      `Cannot use --${name} ${value}: expected a positive ${integer ? "integer" : "number"}`,
    );
  }
  return n;
}

/** Parses the soak's arguments; throws a `CONFIG_INVALID` error naming the bad one. */
export function parseSoakArgs(args: string[]): SoakArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        minutes: { type: "string", default: "60" },
        "report-every": { type: "string", default: "5m" },
        faults: { type: "string", default: "all" },
        cpu: { type: "string" },
        "max-slope": { type: "string", default: String(DEFAULT_MAX_SLOPE) },
        devices: { type: "string", default: "4" },
        seed: { type: "string" },
        spin: { type: "string", default: "10s" },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
  } catch (e) {
    throw bad(`Cannot parse the soak's arguments: ${(e as Error).message}`);
  }
  const v = parsed.values;
  let reportEveryMs: number;
  try {
    reportEveryMs = parseDuration(v["report-every"]);
  } catch {
    reportEveryMs = NaN;
  }
  if (!(reportEveryMs >= 1000)) {
    throw bad(`Cannot use --report-every ${v["report-every"]}: expected a duration of 1s or more`);
  }
  if (v.cpu !== undefined && !/^[0-9]+([-,][0-9]+)*$/.test(v.cpu)) {
    throw bad(`Cannot use --cpu ${v.cpu}: expected a CPU list as taskset takes it, e.g. 1 or 0-1`);
  }
  const devices = positive("devices", v.devices, true);
  if (devices > 16) throw bad(`Cannot use --devices ${devices}: at most 16`);
  let spinMs = NaN;
  try {
    spinMs = v.spin === "forever" ? 0 : parseDuration(v.spin);
  } catch { /* reported below */ }
  if (!(spinMs === 0 || spinMs >= 1000)) {
    throw bad(`Cannot use --spin ${v.spin}: expected a duration of 1s or more, or "forever"`);
  }
  return {
    minutes: positive("minutes", v.minutes, false),
    reportEveryMs,
    faults: parseFaults(v.faults),
    cpu: v.cpu,
    maxSlopeMbPerHour: positive("max-slope", v["max-slope"], false),
    devices,
    seed: v.seed === undefined ? Date.now() % 1_000_000 : positive("seed", v.seed, true),
    spinMs,
    keep: v.keep,
    help: v.help,
  };
}

/** The `--help` text. */
export function soakUsage(): string {
  const faults = FAULTS.map((f) => `      ${f.padEnd(10)} ${FAULT_HELP[f]}`).join("\n");
  return `deno task soak [options]

Runs \`bifrost run\` against Modbus simulators (through netem proxies), a real mosquitto and
the SQLite history while cycling faults; reports RSS, heap, file descriptors, log lines and
records produced/delivered/lost; ends with the RSS slope and PASS or FAIL (exit 1).

  --minutes N         length of the run (default 60)
  --report-every D    report interval (default 5m; e.g. 1m for short runs)
  --faults LIST       comma list, "all" (default) or "none":
${faults}
  --cpu LIST          pin the gateway with taskset -c LIST (default: not pinned)
  --max-slope X       PASS bound of the RSS slope after the warm-up, MB/hour (default ${DEFAULT_MAX_SLOPE})
  --devices N         Modbus devices (default 4)
  --spin D            how long the function spins in the timeout fault (default 10s; "forever":
                      an endless loop: see the README, Soak test)
  --seed N            seed of the fault durations (default: printed at start)
  --keep              keep the run directory (it is always kept on FAIL)
`;
}
