/**
 * @module
 * Runs the fault timetable (`plan.ts`) against the rig: each occurrence starts on time,
 * alongside whatever else is running (faults overlap by design), except the function
 * faults, which share the control device's one `mode` register and so run one after the
 * other. Every fault undoes itself when its time is up, and when the run is aborted.
 */

import { type FaultName, FAULTS } from "./args.ts";
import type { FaultEvent } from "./plan.ts";
import { restartDevice, sleep, type SoakDevice, writeMode } from "./rig.ts";
import type { Mosquitto } from "../../sinks/mqtt/_mosquitto.ts";

/** What the faults act on. */
export interface FaultRig {
  devices: SoakDevice[];
  broker: Mosquitto;
  ctlPort: number;
  /** One line per fault start (and failure to inject). */
  say(line: string): void;
}

/** The function's mode of each function fault. */
const MODES: Partial<Record<FaultName, number>> = { throw: 1, timeout: 2, memory: 3, forge: 4 };

/** Malformed reply variants, cycled by occurrence. */
const MALFORMED = ["malformed", "truncated", "wrong transaction id"] as const;

/** Occurrences run so far, per fault. */
export type FaultCounts = Partial<Record<FaultName, number>>;

function deviceFor(rig: FaultRig, e: FaultEvent): SoakDevice {
  return rig.devices[(e.occurrence + FAULTS.indexOf(e.fault)) % rig.devices.length]!;
}

async function inject(e: FaultEvent, rig: FaultRig, signal: AbortSignal): Promise<void> {
  const ms = e.duration * 1000;
  switch (e.fault) {
    case "restart": {
      const d = deviceFor(rig, e);
      rig.say(`restart ${d.name} (down ${e.duration} s)`);
      await restartDevice(d, ms, signal);
      return;
    }
    case "blackhole": {
      const d = deviceFor(rig, e);
      rig.say(`blackhole ${d.name} for ${e.duration} s`);
      d.proxy.blackhole(true);
      try {
        await sleep(ms, signal);
      } finally {
        d.proxy.blackhole(false);
      }
      return;
    }
    case "malformed": {
      const d = deviceFor(rig, e);
      const variant = MALFORMED[e.occurrence % MALFORMED.length]!;
      rig.say(`${variant} replies from ${d.name} for ${e.duration} s`);
      const set = (f: typeof d.sim.faults) => {
        if (variant === "malformed") f.malformed(1e9);
        else if (variant === "truncated") f.truncated(1e9, 3);
        else f.wrongTransactionId(1e9);
      };
      // A restart meanwhile brings a fresh simulator: keep the fault on whichever is current.
      const end = performance.now() + ms;
      try {
        while (performance.now() < end) {
          if (!d.down) set(d.sim.faults);
          await sleep(Math.min(500, end - performance.now()), signal);
        }
      } finally {
        d.sim.faults.clear();
      }
      return;
    }
    case "broker":
      rig.say(`broker down for ${e.duration} s`);
      await rig.broker.stop();
      try {
        await sleep(ms, signal);
      } finally {
        await rig.broker.resume();
      }
      return;
    default: {
      const mode = MODES[e.fault]!;
      rig.say(`function ${e.fault} (mode ${mode}) for ${e.duration} s`);
      await writeMode(rig.ctlPort, mode);
      try {
        await sleep(ms, signal);
      } finally {
        await writeMode(rig.ctlPort, 0);
      }
    }
  }
}

/**
 * Runs `plan` from `t0` (performance.now() at the gateway start) until done or aborted.
 * Occurrences that cannot end by `endS` (a function fault that waited for another) are
 * skipped. Resolves when every started fault is undone.
 */
export async function runFaults(
  plan: readonly FaultEvent[],
  rig: FaultRig,
  t0: number,
  endS: number,
  counts: FaultCounts,
  signal: AbortSignal,
): Promise<void> {
  const running = new Set<Promise<void>>();
  let modeLock = Promise.resolve();
  const start = (e: FaultEvent) => {
    const go = async () => {
      if (signal.aborted) return;
      const now = (performance.now() - t0) / 1000;
      if (now + e.duration > endS) return;
      counts[e.fault] = (counts[e.fault] ?? 0) + 1;
      try {
        await inject(e, rig, signal);
      } catch (err) {
        if (!signal.aborted) rig.say(`fault ${e.fault} could not run: ${(err as Error).message}`);
      }
    };
    let p: Promise<void>;
    if (e.fault in MODES) {
      p = modeLock = modeLock.then(go);
    } else {
      p = go();
    }
    running.add(p);
    p.finally(() => running.delete(p));
  };
  try {
    for (const e of plan) {
      const wait = t0 + e.at * 1000 - performance.now();
      if (wait > 0) await sleep(wait, signal);
      start(e);
    }
  } catch {
    // Aborted: undo below.
  }
  await Promise.allSettled([...running]);
}
