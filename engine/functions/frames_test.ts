/**
 * @module
 * Tests of the frames between the host and a function's process, and of the codec across
 * processes (no shared buffer): what crosses, and what the host refuses from a child.
 */

import assert from "node:assert/strict";
import { Batch } from "../record.ts";
import { assertSameBatch, everyKind } from "./_testing.ts";
import { checkReply } from "./check.ts";
import { WireEnd } from "./codec.ts";
import { FrameError, FrameReader, FrameWriter } from "./frames.ts";
import type { Extras } from "./protocol.ts";

function strip(x: ReturnType<WireEnd["pending"]>): Extras | undefined {
  if (!x) return undefined;
  const { buf: _, ...rest } = x;
  return rest;
}

/** Sends a frame through a reader in chunks of `chunk` bytes; returns what came out. */
function through(frame: Uint8Array, reader: FrameReader, chunk: number) {
  const out = [];
  for (let i = 0; i < frame.byteLength; i += chunk) {
    reader.push(frame.subarray(i, i + chunk));
    for (let f = reader.next(); f; f = reader.next()) {
      out.push({ meta: f.meta, columns: f.columns.slice() });
    }
  }
  return out;
}

Deno.test("frames survive any chunking, in JSON and in V8's format", () => {
  const w = new FrameWriter();
  for (const chunk of [1, 7, 4096]) {
    const r = new FrameReader(1 << 20);
    const cols = new Uint8Array(100).map((_, i) => i);
    const a = through(w.encode({ t: "ok", id: 1 }, cols).slice(), r, chunk);
    const b = through(
      w.encode({ t: "x", v: [2n ** 70n, NaN, -0] }, undefined, true).slice(),
      r,
      chunk,
    );
    assert.deepEqual(a, [{ meta: { t: "ok", id: 1 }, columns: cols }]);
    assert.deepEqual(b[0]!.meta, { t: "x", v: [2n ** 70n, NaN, -0] });
  }
});

Deno.test("a frame over the limit is refused before its body is read", () => {
  const r = new FrameReader(1000);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, 1_000_000_000, true);
  r.push(header);
  assert.throws(
    () => r.next(),
    (e) => e instanceof FrameError && /over the limit of 1000/.test(e.message),
  );
  const bad = new FrameReader(1000);
  bad.push(new TextEncoder().encode("hello from the function\n"));
  assert.throws(() => bad.next(), FrameError);
});

Deno.test("batches cross between ends without a shared buffer, names sent once", () => {
  const host = new WireEnd(), child = new WireEnd();
  for (let round = 0; round < 3; round++) {
    const x = strip(host.encodeBatch(Batch.from(everyKind()), 7));
    child.load(host.wireView().slice());
    const records = child.decodeRecords(x);
    assert.deepEqual(records, everyKind());
    const y = strip(child.encodeRecords(records));
    const bytes = child.wireView().slice();
    host.load(bytes);
    assert.equal(checkReply(host, bytes.byteLength, y, 12), undefined);
    assertSameBatch(host.decodeBatch(y), Batch.from(everyKind()));
  }
});

Deno.test("checkReply() refuses replies a child could forge", () => {
  const host = new WireEnd(), child = new WireEnd();
  const x = strip(host.encodeBatch(Batch.from(everyKind()), 0));
  child.load(host.wireView().slice());
  const records = child.decodeRecords(x);
  const forged = (edit: (f: Float64Array, u: Uint8Array) => void, limit = 12) => {
    const y = strip(child.encodeRecords(records.map((r) => ({ ...r, device: r.device + "!" }))));
    const bytes = child.wireView().slice();
    edit(new Float64Array(bytes.buffer, 0, 2), bytes);
    host.load(bytes);
    return checkReply(host, bytes.byteLength, y, limit);
  };
  assert.equal(forged(() => {}), undefined);
  assert.match(forged(() => {}, 5) ?? "", /12 records, more than its limit of 5/);
  assert.match(forged((h) => (h[0] = 1e9), 2e9) ?? "", /1000000000 records in \d+ bytes/);
  assert.match(forged((h) => (h[0] = 1.5)) ?? "", /record count of 1.5/);
  assert.match(forged((_, u) => (u[32 + 32 * 12] = 9)) ?? "", /value kind 9 in record 0/);
  assert.match(forged((_, u) => (u[32 + 33 * 12] = 7)) ?? "", /quality 7 in record 0/);
  const ids = 32 + ((34 * 12 + 3) >>> 2 << 2);
  assert.match(
    forged((_, u) => new DataView(u.buffer).setInt32(ids, 99_999, true)) ?? "",
    /unknown name id in record 0/,
  );
});
