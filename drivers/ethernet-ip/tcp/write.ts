/**
 * @module
 * Writes of one tag: the value checked against the tag's type and count before anything is
 * sent (WRITE_REJECTED naming tag, device and value), then Write Tag (Write Tag Fragmented
 * when the data does not fit one packet), or Read-Modify-Write for a bit of an integer and
 * an element of a BOOL array. A tag of type `auto` learns its type from a read first. An object
 * value (or, for a tag of type `auto`, JSON text of one) written to a structure is a
 * whole-structure write (`write_struct.ts`).
 */

import { BifrostError, type TagConfig, type Value } from "../../../engine/plugin.ts";
import {
  readModifyWrite,
  readTag,
  type Reply,
  typeBytes,
  writeTag,
  writeTagFragmented,
} from "../core/cip.ts";
import { wireName, wireType } from "../core/decode.ts";
import { describeStatus } from "../core/status.ts";
import { resolveTag } from "../core/tags.ts";
import { encodeStructure, isRecord } from "./write_struct.ts";
import {
  type AtomicType,
  encodeAtomic,
  encodeString,
  type Scalar,
  STRING_HANDLE,
  STRING_SIZE,
  TYPE_CODES,
  TYPE_SIZES,
} from "../core/types.ts";
import type { CipClient } from "./client.ts";

/** Writes `value` to `tag` through `client`. */
export async function writeValue(
  device: string,
  client: CipClient,
  tag: TagConfig,
  value: Value,
  signal: AbortSignal,
): Promise<void> {
  const reject = (why: string): never => {
    throw new BifrostError(
      "WRITE_REJECTED",
      `Cannot write ${
        JSON.stringify(typeof value === "bigint" ? String(value) : value)
      } to "${device}/${tag.name}" (${tag.address}): ${why}`,
    );
  };
  let t;
  try {
    t = resolveTag(tag);
  } catch (e) {
    return reject((e as Error).message);
  }
  const check = (r: Reply) => {
    if (r.status === 0) return;
    const status = describeStatus(r.status, r.extended);
    throw new BifrostError(
      "DEVICE_EXCEPTION",
      `Cannot write "${device}/${tag.name}" (${tag.address}): ${status}`,
      { details: { protocol: "ethernet-ip", code: r.status, name: status, extended: r.extended } },
    );
  };
  const current = async () => {
    const r = await client.request(readTag(t.path, 1), signal);
    check(r);
    try {
      return wireType(r.data);
    } catch (e) {
      return reject((e as Error).message);
    }
  };
  const learn = async (): Promise<string> => wireName((await current()).wire);
  const send = async (head: number[], count: number, data: Uint8Array): Promise<void> => {
    const room = client.size - 2 - t.path.length - head.length - 2 - 4 - 8;
    if (data.length <= room) {
      check(await client.request(writeTag(t.path, head, count, data), signal));
      return;
    }
    const step = Math.floor(room / 8) * 8;
    for (let at = 0; at < data.length; at += step) {
      const piece = data.subarray(at, Math.min(data.length, at + step));
      check(await client.request(writeTagFragmented(t.path, head, count, at, piece), signal));
    }
  };
  if (t.bit !== undefined || t.firstBit !== undefined) {
    const on = toBool(value) ?? reject("expected true or false");
    if (t.count !== 1) reject("write one BOOL array element at a time");
    let size = 4;
    if (t.bit !== undefined) {
      const type = await learn();
      size = TYPE_SIZES[type as AtomicType] ??
        reject(`bit ${t.bit} of a ${type} cannot be written`);
    }
    check(await client.request(readModifyWrite(t.path, size, t.bit ?? t.firstBit!, on), signal));
    return;
  }
  let type: string = t.type;
  // A structure: an object for any tag, or a tag without a type that turns out to be one.
  if (isRecord(value) || t.type === "auto") {
    const { wire, body } = await current();
    if ("struct" in wire && wire.struct !== STRING_HANDLE) {
      if (t.count !== 1) reject("write one structure at a time (no count)");
      let data: Uint8Array;
      try {
        data = await encodeStructure(client, t.address, wire.struct, body, value, signal);
      } catch (e) {
        if (e instanceof RangeError) return reject(e.message);
        throw e;
      }
      return await send(typeBytes(0, wire.struct), 1, data);
    }
    if (isRecord(value)) {
      reject(`an object is written to a structure only; the controller has ${wireName(wire)}`);
    }
    type = wireName(wire);
  }
  const values = t.count > 1
    ? (Array.isArray(value) ? value : reject(`expected an array of ${t.count}`))
    : [value];
  if (values.length !== t.count) reject(`expected ${t.count} elements, got ${values.length}`);
  let data: Uint8Array;
  let head: number[];
  if (type === "STRING") {
    data = new Uint8Array(STRING_SIZE * t.count);
    values.forEach((v, i) => {
      try {
        data.set(encodeString(String(v)), i * STRING_SIZE);
      } catch (e) {
        reject((e as Error).message);
      }
    });
    head = typeBytes(0, STRING_HANDLE);
  } else if (type in TYPE_CODES) {
    const a = type as AtomicType;
    const size = TYPE_SIZES[a];
    data = new Uint8Array(size * t.count);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => {
      const s = a === "BOOL"
        ? toBool(v) ?? reject("expected true or false")
        : toScalar(v, t.type === "auto");
      try {
        encodeAtomic(view, i * size, a, s);
      } catch (e) {
        reject((e as Error).message);
      }
    });
    head = typeBytes(TYPE_CODES[a]);
  } else return reject(`${type} cannot be written as one value`);
  await send(head, t.count, data);
}

function toBool(v: Value): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === 1 || v === "1" || v === "true" || v === "on") return true;
  if (v === 0 || v === "0" || v === "false" || v === "off") return false;
  return undefined;
}

function toScalar(v: Value, fromText: boolean): Scalar {
  if (fromText && typeof v === "string") {
    const s = v.trim();
    return /^[-+]?[0-9]+$/.test(s) && !Number.isSafeInteger(Number(s)) ? BigInt(s) : Number(s);
  }
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return v;
  return NaN;
}
