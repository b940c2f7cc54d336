/**
 * @module
 * The process-wide registry of RTU lines. Every slave (device of a flow) that names the
 * same line (serial port path, or `host:port` of a serial device server) shares one
 * transport through one {@linkcode BusScheduler}. Lines are reference counted: the first
 * slave opens the line with its settings, the last one to leave closes it. A line that died
 * (serial device unplugged, TCP connection lost) is dropped from the registry at once, so
 * the slaves reconnecting after it get a fresh one.
 */

import { BifrostError, type Clock } from "../../../engine/plugin.ts";
import { type BreakerOptions, type BusLine, BusScheduler, type BusStats } from "./bus.ts";
import type { ModbusTransport } from "../core/transport.ts";

/** A line the registry can share: a {@linkcode BusLine} that can be closed. */
export interface SharedLine extends BusLine {
  readonly connected: boolean;
  close(): Promise<void>;
}

interface Entry {
  key: string;
  refs: number;
  opening: Promise<void>;
  line: SharedLine | undefined;
  bus: BusScheduler | undefined;
  /** Settings of the slave that opened the line, to warn about mismatches. */
  settings: string;
}

const lines = new Map<string, Entry>();

/** What a slave needs to join a line. */
export interface JoinOptions extends BreakerOptions {
  /** The line's identity: a real serial device path, or `host:port`. */
  key: string;
  /** Opens the line when nobody has it open; throws `DEVICE_UNREACHABLE`. */
  open: () => Promise<SharedLine>;
  clock: Clock;
  unitId: number;
  /** Response timeout of this slave's requests, ms. */
  timeoutMs: number;
  /** Line settings as text (baud rate, parity…), compared with the opener's. */
  settings?: string;
  /** Called when the line's settings differ from this slave's. */
  onMismatch?: (theirs: string, ours: string) => void;
}

/** A slave's share of a line; `close()` leaves the line. */
export interface SlaveTransport extends ModbusTransport {
  /** The line's scheduler, for statistics and breaker state. */
  readonly bus: BusScheduler;
}

/** Joins (opening if needed) the line `o.key` as slave `o.unitId`. */
export async function joinLine(o: JoinOptions): Promise<SlaveTransport> {
  let e = lines.get(o.key);
  if (e?.line && !e.line.connected) {
    lines.delete(o.key);
    e = undefined;
  }
  if (!e) {
    const entry: Entry = {
      key: o.key,
      refs: 0,
      opening: Promise.resolve(),
      line: undefined,
      bus: undefined,
      settings: o.settings ?? "",
    };
    entry.opening = o.open().then((line) => {
      entry.line = line;
      entry.bus = new BusScheduler(line, { clock: o.clock, where: o.key });
    });
    entry.opening.catch(() => {
      if (lines.get(o.key) === entry) lines.delete(o.key);
    });
    lines.set(o.key, entry);
    e = entry;
  } else if (o.settings !== undefined && e.settings !== o.settings) {
    o.onMismatch?.(e.settings, o.settings);
  }
  const entry = e;
  entry.refs++;
  try {
    await entry.opening;
  } catch (err) {
    entry.refs--;
    throw err;
  }
  const bus = entry.bus!;
  const line = entry.line!;
  bus.configure(o.unitId, o);
  let left = false;
  return {
    bus,
    get connected() {
      return !left && line.connected;
    },
    request(unitId, pdu, signal) {
      if (left) {
        return Promise.reject(
          new BifrostError("NOT_CONNECTED", `Cannot use ${o.key}: this slave left the line`),
        );
      }
      return bus.request(unitId, pdu, o.timeoutMs, signal);
    },
    async close() {
      if (left) return;
      left = true;
      if (--entry.refs > 0) return;
      if (lines.get(entry.key) === entry) lines.delete(entry.key);
      bus.failAll(new BifrostError("NOT_CONNECTED", `The line ${entry.key} was closed`));
      await line.close();
    },
  };
}

/** Statistics of every open line. */
export function busStats(): BusStats[] {
  return [...lines.values()].flatMap((e) => (e.bus ? [e.bus.stats()] : []));
}

/** Number of slaves on each open line, by key (for tests and the API). */
export function openLines(): Record<string, number> {
  return Object.fromEntries([...lines.values()].map((e) => [e.key, e.refs]));
}
