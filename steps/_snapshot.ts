/**
 * @module
 * State snapshots of the analytics steps (`persist: true`): typed arrays written as they are
 * in memory, behind a small JSON header, to `<dataDir>/steps/<step name>.state`. Written on
 * close through a temporary file and a rename (a crash mid-write leaves the previous
 * snapshot), read on start. A snapshot taken under another config is not restored: the header
 * carries the config it was taken with.
 *
 * Layout: `BFST1\n`, header length (uint32 LE), header JSON, zero padding to 8 bytes, then
 * each array's bytes in header order (each padded to 8 bytes).
 */

import { dirname, join } from "node:path";

const MAGIC = new TextEncoder().encode("BFST1\n");

/** What a step saves. */
export interface Snapshot {
  /** Plain JSON state (key names, scalars). */
  meta: Record<string, unknown>;
  arrays: Record<string, Float64Array | Uint8Array>;
}

/** Where step `name` keeps its snapshot. */
export function snapshotPath(dataDir: string, name: string): string {
  return join(dataDir, "steps", `${name.replaceAll("/", "_")}.state`);
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Encodes a snapshot. */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const list = Object.entries(s.arrays).map(([name, a]) => ({
    name,
    type: a instanceof Float64Array ? "f64" : "u8",
    length: a.length,
  }));
  const header = new TextEncoder().encode(JSON.stringify({ meta: s.meta, arrays: list }));
  let size = pad8(MAGIC.length + 4 + header.length);
  const offsets: number[] = [];
  for (const a of Object.values(s.arrays)) {
    offsets.push(size);
    size += pad8(a.byteLength);
  }
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, header.length, true);
  out.set(header, MAGIC.length + 4);
  Object.values(s.arrays).forEach((a, i) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offsets[i]!);
  });
  return out;
}

/** Decodes a snapshot; throws a RangeError saying what is wrong with a damaged one. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  if (bytes.length < MAGIC.length + 4 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new RangeError("not a Bifrost step snapshot (bad magic)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + hlen > bytes.length) throw new RangeError("truncated header");
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + hlen)),
  ) as { meta: Record<string, unknown>; arrays: { name: string; type: string; length: number }[] };
  let at = pad8(MAGIC.length + 4 + hlen);
  const arrays: Snapshot["arrays"] = {};
  for (const a of header.arrays) {
    const bytesLen = a.type === "f64" ? a.length * 8 : a.length;
    if (at + bytesLen > bytes.length) throw new RangeError(`truncated array "${a.name}"`);
    const copy = bytes.slice(at, at + bytesLen);
    arrays[a.name] = a.type === "f64" ? new Float64Array(copy.buffer) : copy;
    at += pad8(bytesLen);
  }
  return { meta: header.meta, arrays };
}

/** Writes a snapshot atomically (temporary file, then rename). */
export async function writeSnapshot(path: string, s: Snapshot): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await Deno.writeFile(tmp, encodeSnapshot(s));
  await Deno.rename(tmp, path);
}

/** Reads a snapshot; undefined when there is none. */
export async function readSnapshot(path: string): Promise<Snapshot | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  return decodeSnapshot(bytes);
}
