/**
 * @module Test fixture: misbehaves towards the host, by the value of the first record:
 * "post" writes a log message with an unknown level to the host's channel, "garbage" writes
 * bytes that are no frame, "flood" logs 10,000 lines, "grow" keeps growing its state,
 * "alloc" allocates in a loop, "nan" returns NaN and Infinity, "many" returns 100,000
 * records, "web" and "node" start a spinning worker of each kind and return, "hoard"
 * keeps 8 MB of state, "spin" never returns.
 */
import process from "node:process";
import type { Context, DataRecord } from "bifrost/functions";

function frame(meta: unknown): Uint8Array {
  const m = new TextEncoder().encode(JSON.stringify(meta));
  const out = new Uint8Array(8 + m.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 4 + m.byteLength, true);
  dv.setUint32(4, m.byteLength, true);
  out.set(m, 8);
  return out;
}

/** Writes to fd 1, the host's channel: `Deno.stdout` is closed, `node:process` is not. */
function write(bytes: Uint8Array): void {
  process.stdout.write(bytes);
}

export default async function (
  records: DataRecord[],
  ctx: Context<{ hoard: number[][]; big: number[] }>,
): Promise<DataRecord[] | void> {
  const cmd = records[0]?.value;
  if (cmd === "post") write(frame({ t: "log", level: "x", msg: "" }));
  if (cmd === "garbage") write(new TextEncoder().encode("hello from the function\n"));
  if (cmd === "flood") { for (let i = 0; i < 10_000; i++) ctx.log.info(`line ${i}`); }
  if (cmd === "console") { for (let i = 0; i < 10_000; i++) console.log(`line ${i}`); }
  if (cmd === "grow") {
    ctx.state.hoard ??= [];
    for (let i = 0; i < 100; i++) ctx.state.hoard.push(new Array(100_000).fill(i + 0.5));
  }
  if (cmd === "alloc") {
    const keep: number[][] = [];
    for (;;) keep.push(new Array(100_000).fill(1.5));
  }
  if (cmd === "hoard") ctx.state.big = new Array(1_000_000).fill(0.5);
  if (cmd === "spin") { for (;;) { /* never returns */ } }
  if (cmd === "nan") return records.map((r, i) => ({ ...r, value: i % 2 ? NaN : Infinity }));
  if (cmd === "many") {
    return Array.from({ length: 100_000 }, (_, i) => ({ ...records[0]!, seq: i }));
  }
  if (cmd === "web") {
    const src = "for (;;) {}";
    new Worker(`data:application/javascript,${encodeURIComponent(src)}`, { type: "module" });
  }
  if (cmd === "node") {
    const { Worker } = await import("node:worker_threads");
    new Worker("for (;;) {}", { eval: true });
  }
  return records;
}
