/**
 * @module
 * Finds the unit ids that answer behind a Modbus TCP endpoint (a gateway to a serial bus, or
 * a multi-unit server). Each unit gets one small read: one register or bit at `register`
 * (FC3 at HR0 by default). A unit exists when it answers, with data or with an exception,
 * except the gateway exceptions 10 and 11 (path unavailable, target failed to respond),
 * which say that nobody answered behind the gateway. When the first read answers with an
 * exception, the other read function codes (FC3, FC4, FC1, FC2 at the same offset) are tried
 * in turn to find one that returns a value.
 *
 * Units are probed one at a time by default: gateways to serial buses serve one request at
 * a time anyway, and some drop pipelined requests.
 */

import { isBifrostError } from "../../../engine/plugin.ts";
import { isRegisterTable, parseAddress, type Table } from "../core/address.ts";
import { ModbusTcpClient } from "../tcp/client.ts";
import { decodeResponse, exceptionName, readRequest } from "../core/pdu.ts";

/** Options of {@linkcode discoverUnits}. */
export interface DiscoverOptions {
  host: string;
  port?: number;
  /** Unit ids to probe, in order. */
  units: readonly number[];
  /** Per-probe timeout, ms (default 200). */
  timeoutMs?: number;
  /** What to read first (default `HR0`). */
  register?: string;
  /** Probes on the wire at once (default 1). */
  parallel?: number;
  signal?: AbortSignal;
}

/** How one function code answered. */
export interface ProbeAnswer {
  fc: number;
  /** The address read, e.g. `HR0`. */
  address: string;
  /** The register word or bit read, when it answered with data. */
  value?: number | boolean;
  /** The exception code, when it answered with one. */
  exception?: number;
}

/** A unit that answered. */
export interface DiscoveredUnit {
  unitId: number;
  /** Every read tried, in order; the last one is the one that answered with data, if any. */
  answers: ProbeAnswer[];
}

/** The outcome of a scan. */
export interface DiscoverResult {
  units: DiscoveredUnit[];
  probed: number;
  elapsedMs: number;
}

const FC_OF: Record<Table, 1 | 2 | 3 | 4> = { C: 1, DI: 2, HR: 3, IR: 4 };
const TABLE_OF: Record<number, Table> = { 1: "C", 2: "DI", 3: "HR", 4: "IR" };
/** Gateway exceptions: the gateway answered, nobody behind it did. */
const ABSENT = new Set([10, 11]);

/**
 * Parses a unit list: `1-247`, `1,2,17`, `1-10,17`. Throws a `RangeError` on ids outside
 * 0..255 or bad syntax.
 */
export function parseUnitList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || lo > 255 || hi > 255 || hi < lo) {
      throw new RangeError(
        `Cannot parse unit ids "${text}": expected ids 0..255 as a list or ranges, e.g. 1-247 or 1,2,17, got "${part}"`,
      );
    }
    for (let u = lo; u <= hi; u++) out.push(u);
  }
  if (out.length === 0) throw new RangeError(`Cannot parse unit ids "${text}": no id given`);
  return [...new Set(out)];
}

async function probeOne(
  client: ModbusTcpClient,
  unitId: number,
  fc: 1 | 2 | 3 | 4,
  offset: number,
  signal: AbortSignal | undefined,
): Promise<ProbeAnswer | undefined> {
  const request = readRequest(fc, offset, 1);
  const address = `${TABLE_OF[fc]}${offset}`;
  let pdu: Uint8Array;
  try {
    pdu = await client.request(unitId, request, signal);
  } catch (e) {
    if (isBifrostError(e, "TIMEOUT")) return undefined;
    throw e;
  }
  const r = decodeResponse(request, pdu);
  if (r.ok) {
    const value = fc <= 2 ? (r.data[0]! & 1) === 1 : (r.data[0]! << 8) | r.data[1]!;
    return { fc, address, value };
  }
  if ("exception" in r) return { fc, address, exception: r.exception };
  return undefined;
}

async function probeUnit(
  client: ModbusTcpClient,
  unitId: number,
  table: Table,
  offset: number,
  signal: AbortSignal | undefined,
): Promise<DiscoveredUnit | undefined> {
  const first = FC_OF[table];
  const firstAnswer = await probeOne(client, unitId, first, offset, signal);
  if (!firstAnswer) return undefined;
  if (firstAnswer.exception !== undefined && ABSENT.has(firstAnswer.exception)) return undefined;
  const answers = [firstAnswer];
  if (firstAnswer.exception === undefined) return { unitId, answers };
  for (const fc of ([3, 4, 1, 2] as const).filter((f) => f !== first)) {
    const a = await probeOne(client, unitId, fc, offset, signal);
    if (!a) continue;
    answers.push(a);
    if (a.exception === undefined) break;
  }
  return { unitId, answers };
}

/**
 * Probes every unit id of `o.units`; resolves with those that answered, in id order.
 * Throws `DEVICE_UNREACHABLE` when the endpoint cannot be reached; reconnects once per unit
 * when a device closes the connection on an unknown unit id.
 */
export async function discoverUnits(o: DiscoverOptions): Promise<DiscoverResult> {
  const started = performance.now();
  const timeoutMs = o.timeoutMs ?? 200;
  const address = parseAddress(o.register ?? "HR0");
  if (address.bit !== undefined) {
    throw new RangeError(
      `Cannot probe "${o.register}": name a register or a bit, not a bit of one`,
    );
  }
  const connect = () =>
    ModbusTcpClient.connect({
      host: o.host,
      port: o.port ?? 502,
      timeoutMs,
      maxInFlight: Math.max(1, o.parallel ?? 1),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  let client = await connect();
  const found: DiscoveredUnit[] = [];
  const queue = [...o.units];
  const worker = async () => {
    for (let unitId = queue.shift(); unitId !== undefined; unitId = queue.shift()) {
      for (let attempt = 0;; attempt++) {
        try {
          const c = client;
          const u = await probeUnit(c, unitId, address.table, address.offset, o.signal);
          if (u) found.push(u);
          break;
        } catch (e) {
          if (!isBifrostError(e, "NOT_CONNECTED") || attempt > 0 || o.signal?.aborted) throw e;
          if (!client.connected) client = await connect();
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.parallel ?? 1) }, worker));
  } finally {
    await client.close();
  }
  found.sort((a, b) => a.unitId - b.unitId);
  return { units: found, probed: o.units.length, elapsedMs: performance.now() - started };
}

/** One answer as text: `FC3 HR0 = 4660 (0x1234)` or `FC3 HR0: Illegal data address (2)`. */
export function answerText(a: ProbeAnswer): string {
  const head = `FC${a.fc} ${a.address}`;
  if (a.exception !== undefined) {
    return `${head}: ${exceptionName(a.exception)} (exception ${a.exception})`;
  }
  if (typeof a.value === "boolean") return `${head} = ${a.value}`;
  return `${head} = ${a.value} (0x${a.value!.toString(16).padStart(4, "0")})`;
}

/** The table of a scan, one line per unit that answered, and a summary line. */
export function formatDiscovery(r: DiscoverResult): string[] {
  const lines = ["unit  answer"];
  for (const u of r.units) {
    lines.push(`${String(u.unitId).padStart(4)}  ${u.answers.map(answerText).join("; ")}`);
  }
  if (r.units.length === 0) lines.push("   -  no unit answered");
  lines.push(
    `${r.units.length} of ${r.probed} unit ids answered in ${(r.elapsedMs / 1000).toFixed(2)} s`,
  );
  return lines;
}

/** Whether a register table is probed with a register read (for the header line). */
export function probeText(register: string): string {
  const a = parseAddress(register);
  const unit = isRegisterTable(a.table) ? "1 register" : "1 bit";
  return `FC${FC_OF[a.table]} ${a.table}${a.offset} (${unit})`;
}
