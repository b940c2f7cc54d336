/**
 * @module
 * The `--fault KIND=VALUE` options of `bifrost sim modbus`: the simulator's fault kinds
 * (see `faults.ts`) from the command line. A percentage is a probability per request, a
 * duration a delay; `exception` takes a Modbus exception code and, optionally, the addresses
 * it applies to and a probability. Repeatable: each `--fault` adds to the others.
 */

import { parseAddress } from "../core/address.ts";
import { parseDuration } from "../../../engine/plugin.ts";
import type { ExceptionRule, Faults } from "../simulator/faults.ts";

/** Fault kinds that take a probability per request (`drop=10%`). */
export const RATE_FAULTS = {
  drop: "dropRate",
  malformed: "malformedRate",
  disconnect: "disconnectRate",
  "wrong-tid": "wrongTransactionIdRate",
  truncated: "truncatedRate",
  "bad-crc": "badCrcRate",
} as const satisfies Record<string, keyof Faults>;

/** Every fault kind `--fault` knows. */
export const FAULT_KINDS = [
  "delay",
  "busy",
  "exception",
  ...Object.keys(RATE_FAULTS),
  "silent",
] as const;

/** One `--fault` option, parsed. */
export type FaultOption =
  | { kind: "delay"; ms: number }
  | { kind: keyof typeof RATE_FAULTS; probability: number }
  | { kind: "exception"; rule: ExceptionRule }
  | { kind: "silent"; unitId: number };

/** The help text of `--fault`, one kind a line. */
export const FAULT_HELP =
  `Faults (--fault KIND=VALUE, repeatable; a percentage is a probability per request):
  delay=1.5s                       answer every request after this delay (ms, s, m)
  drop=10%                         drop requests without an answer
  busy=5%                          answer with exception 6 (server device busy)
  exception=CODE[@FROM[..TO]][:P%] answer requests touching FROM..TO (all when absent) with
                                   exception CODE (1..255), with probability P (always when absent),
                                   e.g. exception=2@HR100..HR109, exception=4:1%
  malformed=10%                    send responses with a wrong byte count
  disconnect=1%                    close every client connection instead of answering
  wrong-tid=10%                    send responses with a wrong transaction id (Modbus TCP)
  truncated=10%                    send responses cut short (Modbus TCP)
  bad-crc=10%                      send RTU responses with a corrupted CRC
  silent=UNIT                      make a unit answer nothing, as if switched off`;

function percentage(kind: string, value: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(value);
  const p = m ? Number(m[1]) : NaN;
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(
      `Cannot use --fault ${kind}=${value}: give a percentage 0%..100% (probability per request), e.g. ${kind}=10%`,
    );
  }
  return p / 100;
}

function exceptionRule(text: string): ExceptionRule {
  const m = /^([0-9]+)(?:@([^:]+))?(?::(.+))?$/.exec(text);
  const bad = (why: string) =>
    new RangeError(
      `Cannot use --fault exception=${text}: ${why}, e.g. exception=2@HR100..HR109 or exception=6:5%`,
    );
  if (!m) throw bad("expected CODE[@FROM[..TO]][:P%]");
  const code = Number(m[1]);
  if (!Number.isInteger(code) || code < 1 || code > 255) throw bad("the code must be 1..255");
  const rule: ExceptionRule = { code };
  if (m[2] !== undefined) {
    const [fromText, toText, ...more] = m[2].split("..");
    if (more.length > 0) throw bad(`"${m[2]}" is not an address range`);
    let from, to;
    try {
      from = parseAddress(fromText!);
      to = toText === undefined ? from : parseAddress(toText);
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (to.table !== from.table || to.offset < from.offset) {
      throw bad(`"${m[2]}" must end in the table of its start, not before it`);
    }
    rule.table = from.table;
    rule.start = from.offset;
    rule.count = to.offset - from.offset + 1;
  }
  if (m[3] !== undefined) rule.probability = percentage("exception", m[3]);
  return rule;
}

/**
 * Parses one `--fault` value (`busy=5%`, `delay=1.5s`, `exception=2@HR100..HR109`); throws
 * a `RangeError` naming the option and what it takes.
 */
export function parseFault(text: string): FaultOption {
  const eq = text.indexOf("=");
  const kind = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? "" : text.slice(eq + 1).trim();
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new RangeError(
      `Cannot use --fault ${text}: unknown fault kind "${kind}", expected one of ${
        FAULT_KINDS.join(", ")
      }`,
    );
  }
  if (value === "") throw new RangeError(`Cannot use --fault ${text}: give ${kind}=VALUE`);
  if (kind === "delay") {
    try {
      return { kind, ms: parseDuration(value) };
    } catch {
      throw new RangeError(
        `Cannot use --fault delay=${value}: give a duration such as delay=1.5s or delay=200ms`,
      );
    }
  }
  if (kind === "busy") {
    return { kind: "exception", rule: { code: 6, probability: percentage(kind, value) } };
  }
  if (kind === "exception") return { kind, rule: exceptionRule(value) };
  if (kind === "silent") {
    const unitId = Number(value);
    if (!Number.isInteger(unitId) || unitId < 1 || unitId > 255) {
      throw new RangeError(`Cannot use --fault silent=${value}: give a unit id 1..255`);
    }
    return { kind, unitId };
  }
  const k = kind as keyof typeof RATE_FAULTS;
  return { kind: k, probability: percentage(k, value) };
}

/** Switches the parsed faults on. */
export function applyFaults(faults: Faults, options: readonly FaultOption[]): void {
  for (const o of options) {
    if (o.kind === "delay") faults.delayMs = o.ms;
    else if (o.kind === "exception") faults.exception(o.rule);
    else if (o.kind === "silent") faults.silence(o.unitId);
    else faults[RATE_FAULTS[o.kind]] = o.probability;
  }
}

/** A fault as the simulator announces it on start (`exception 2 at HR100..HR109`). */
export function describeFault(o: FaultOption): string {
  const pct = (p: number) => `${Number((p * 100).toPrecision(6))}%`;
  if (o.kind === "delay") return `delay ${o.ms} ms`;
  if (o.kind === "silent") return `unit ${o.unitId} silent`;
  if (o.kind !== "exception") return `${o.kind} ${pct(o.probability)}`;
  const r = o.rule;
  let text = `exception ${r.code}`;
  if (r.table !== undefined) {
    const from = r.start ?? 0;
    const to = from + (r.count ?? 1) - 1;
    text += ` at ${r.table}${from}${to === from ? "" : `..${r.table}${to}`}`;
  }
  return r.probability === undefined ? text : `${text} ${pct(r.probability)}`;
}
