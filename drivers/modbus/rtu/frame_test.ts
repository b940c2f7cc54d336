/**
 * @module
 * Byte-exact tests of the RTU codec. CRC vectors come from the Modbus serial line spec
 * (`11 03 00 6B 00 03 76 87`) and from pymodbus 3.0.0rc1 `computeCRC`.
 */

import assert from "node:assert/strict";
import { readRequest } from "../core/pdu.ts";
import {
  crc16,
  encodeRtuFrame,
  expectedResponseLength,
  hasValidCrc,
  requestFrameLength,
  type RtuFrame,
  RtuRequestReassembler,
  RtuResponseReassembler,
} from "./frame.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");
const bytes = (h: string) => new Uint8Array(h.trim().split(/\s+/).map((x) => parseInt(x, 16)));
const show = (fs: RtuFrame[]) => fs.map((f) => `${f.unitId}: ${hex(f.pdu)}`);

/** A read of 10 HR at 0 on unit 1, its response (registers 0..9) and the response's CRC. */
const RESPONSE_10 = "01 03 14 00 00 00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 cd 51";

Deno.test("crc16() matches known CRC-16/MODBUS vectors", () => {
  const vectors: [string, string][] = [
    ["01 03 00 00 00 0a", "c5 cd"],
    ["11 03 00 6b 00 03", "76 87"],
    ["01 06 00 01 00 03", "98 0b"],
    ["01 83 02", "c0 f1"],
    ["01 16 00 04 00 f2 00 25", "67 ee"],
    ["01 10 00 01 00 02 04 00 0a 01 02", "92 30"],
  ];
  for (const [body, crc] of vectors) {
    const c = crc16(bytes(body));
    assert.equal(hex(new Uint8Array([c & 0xff, c >> 8])), crc, body);
  }
  assert.equal(crc16(new Uint8Array(0)), 0xffff);
  assert.equal(crc16(bytes("00 01 03 00 00 00 0a ff"), 1, 7), 0xcdc5);
});

Deno.test("encodeRtuFrame() appends the CRC low byte first", () => {
  assert.equal(hex(encodeRtuFrame(1, readRequest(3, 0, 10))), "01 03 00 00 00 0a c5 cd");
  assert.equal(hex(encodeRtuFrame(0x11, readRequest(3, 0x6b, 3))), "11 03 00 6b 00 03 76 87");
  assert.ok(hasValidCrc(bytes(RESPONSE_10)));
  assert.ok(!hasValidCrc(bytes("01 03 00 00 00 0a c5 ce")));
  assert.throws(() => encodeRtuFrame(256, readRequest(3, 0, 1)), RangeError);
  assert.throws(() => encodeRtuFrame(1, new Uint8Array(0)), /0 bytes/);
});

Deno.test("expectedResponseLength() follows the function code and quantity", () => {
  assert.equal(expectedResponseLength(readRequest(3, 0, 10)), 25);
  assert.equal(expectedResponseLength(readRequest(4, 0, 1)), 7);
  assert.equal(expectedResponseLength(readRequest(1, 0, 9)), 7);
  assert.equal(expectedResponseLength(readRequest(2, 0, 8)), 6);
  assert.equal(expectedResponseLength(bytes("05 00 00 ff 00")), 8);
  assert.equal(expectedResponseLength(bytes("06 00 04 00 12")), 8);
  assert.equal(expectedResponseLength(bytes("0f 00 13 00 0a 02 cd 01")), 8);
  assert.equal(expectedResponseLength(bytes("10 00 01 00 02 04 00 0a 01 02")), 8);
  assert.equal(expectedResponseLength(bytes("16 00 04 00 f2 00 25")), 10);
  assert.equal(expectedResponseLength(bytes("17 00 02 00 03 00 02 00 01 02 ab cd")), 11);
  assert.throws(() => expectedResponseLength(bytes("2b 0e 01 00")), /function code 43/);
});

Deno.test("RtuResponseReassembler joins a frame split across reads", () => {
  const r = new RtuResponseReassembler();
  r.expect(1, readRequest(3, 0, 10));
  const got: RtuFrame[] = [];
  const wire = bytes(RESPONSE_10);
  for (const [a, b] of [[0, 1], [1, 3], [3, 20], [20, 24]]) {
    r.push(wire.subarray(a, b), (f) => got.push(f));
    assert.equal(got.length, 0);
  }
  assert.equal(r.pending, 24);
  r.push(wire.subarray(24), (f) => got.push(f));
  assert.deepEqual(show(got), [`1: ${RESPONSE_10.slice(3, -6)}`]);
  assert.deepEqual(r.stats, { frames: 1, crcErrors: 0, discarded: 0 });
  assert.equal(r.pending, 0);
});

Deno.test("RtuResponseReassembler delivers two frames from one read", () => {
  const r = new RtuResponseReassembler();
  r.expect(7, bytes("06 00 04 00 12"));
  const got: RtuFrame[] = [];
  r.push(bytes("07 06 00 04 00 12 48 60 07 86 06 22 63"), (f) => got.push(f));
  assert.deepEqual(show(got), ["7: 06 00 04 00 12", "7: 86 06"]);
});

Deno.test("RtuResponseReassembler counts a corrupted CRC and resynchronises", () => {
  const r = new RtuResponseReassembler();
  r.expect(1, readRequest(3, 0, 10));
  const got: RtuFrame[] = [];
  const bad = bytes(RESPONSE_10);
  bad[10] = 0xee;
  r.push(bad, (f) => got.push(f));
  assert.equal(got.length, 0);
  assert.equal(r.stats.crcErrors, 1);
  // Garbage, a stray exception from another unit, then the good frame.
  r.push(bytes(`ff 00 02 83 02 31 30 ${RESPONSE_10}`), (f) => got.push(f));
  assert.equal(got.length, 1);
  assert.equal(hex(got[0]!.pdu), RESPONSE_10.slice(3, -6));
  assert.equal(r.stats.crcErrors, 1);
  assert.equal(r.stats.discarded, 25 + 7);
});

Deno.test("RtuResponseReassembler accepts exception responses and rejects wrong byte counts", () => {
  const r = new RtuResponseReassembler();
  r.expect(1, readRequest(3, 0, 2));
  const got: RtuFrame[] = [];
  // byte count 2 instead of 4: never a candidate, so no CRC error either.
  r.push(bytes("01 03 02 00 0a 38 43"), (f) => got.push(f));
  r.push(bytes("01 83 02 c0 f1"), (f) => got.push(f));
  assert.deepEqual(show(got), ["1: 83 02"]);
  assert.equal(r.stats.crcErrors, 0);
  r.expect(1, readRequest(3, 0, 1));
  assert.equal(r.pending, 0, "expect() drops what a previous request left behind");
});

Deno.test("requestFrameLength() knows each request length", () => {
  assert.equal(requestFrameLength(bytes("01 03 00 00 00 0a c5 cd")), 8);
  assert.equal(requestFrameLength(bytes("01 05 00 00")), 8);
  assert.equal(requestFrameLength(bytes("01 0f 00 13 00 0a")), -1);
  assert.equal(requestFrameLength(bytes("01 0f 00 13 00 0a 02")), 11);
  assert.equal(requestFrameLength(bytes("01 10 00 01 00 02 04")), 13);
  assert.equal(requestFrameLength(bytes("01 16 00 04 00 f2 00 25")), 10);
  assert.equal(requestFrameLength(bytes("01 17 00 02 00 01 00 02 00 01 02")), 15);
  assert.equal(requestFrameLength(bytes("01 2b 0e 01")), 0);
});

Deno.test("RtuRequestReassembler parses every supported request, split and batched", () => {
  const pdus = [
    "03 00 00 00 0a",
    "05 00 ac ff 00",
    "0f 00 13 00 0a 02 cd 01",
    "10 00 01 00 02 04 00 0a 01 02",
    "16 00 04 00 f2 00 25",
    "17 00 02 00 01 00 02 00 01 02 ab cd",
  ];
  const wire = pdus.map((p, i) => encodeRtuFrame(i + 1, bytes(p)));
  const all = bytes(wire.map(hex).join(" "));
  const expected = pdus.map((p, i) => `${i + 1}: ${p}`);
  // One read with everything.
  const r = new RtuRequestReassembler();
  const got: RtuFrame[] = [];
  r.push(all, (f) => got.push(f));
  assert.deepEqual(show(got), expected);
  // One byte per read.
  const r2 = new RtuRequestReassembler();
  const got2: RtuFrame[] = [];
  for (let i = 0; i < all.length; i++) r2.push(all.subarray(i, i + 1), (f) => got2.push(f));
  assert.deepEqual(show(got2), expected);
  assert.deepEqual(r2.stats, { frames: 6, crcErrors: 0, discarded: 0 });
});

Deno.test("RtuRequestReassembler skips a corrupted request and bad unit ids", () => {
  const r = new RtuRequestReassembler();
  const got: RtuFrame[] = [];
  r.push(bytes("01 03 00 00 00 0a c5 ce f8 03 00 00"), (f) => got.push(f));
  r.push(bytes("11 03 00 6b 00 03 76 87"), (f) => got.push(f));
  assert.deepEqual(show(got), ["17: 03 00 6b 00 03"]);
  assert.equal(r.stats.crcErrors, 1);
  assert.equal(r.stats.discarded, 12);
});
