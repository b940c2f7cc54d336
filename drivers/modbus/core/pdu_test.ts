import { assertEquals } from "../_test_assert.ts";
import {
  decodeResponse,
  encodeAdu,
  exceptionName,
  type Frame,
  maskWriteRegisterRequest,
  MbapReassembler,
  ModbusExceptions,
  readRequest,
  responseProblem,
  writeMultipleCoilsRequest,
  writeMultipleRegistersRequest,
  writeSingleCoilRequest,
  writeSingleRegisterRequest,
} from "./pdu.ts";

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, "0")).join(" ");

Deno.test("request PDUs are byte-exact for FC1-6, 15, 16 and 22", () => {
  assertEquals(hex(readRequest(1, 0x13, 0x25)), "01 00 13 00 25");
  assertEquals(hex(readRequest(2, 0xc4, 0x16)), "02 00 c4 00 16");
  assertEquals(hex(readRequest(3, 0x6b, 3)), "03 00 6b 00 03");
  assertEquals(hex(readRequest(4, 8, 1)), "04 00 08 00 01");
  assertEquals(hex(writeSingleCoilRequest(0xac, true)), "05 00 ac ff 00");
  assertEquals(hex(writeSingleCoilRequest(0xac, false)), "05 00 ac 00 00");
  assertEquals(hex(writeSingleRegisterRequest(1, 3)), "06 00 01 00 03");
  assertEquals(
    hex(writeMultipleCoilsRequest(0x13, 10, new Uint8Array([0xcd, 0x01]))),
    "0f 00 13 00 0a 02 cd 01",
  );
  assertEquals(
    hex(writeMultipleRegistersRequest(1, new Uint8Array([0, 0x0a, 1, 2]))),
    "10 00 01 00 02 04 00 0a 01 02",
  );
  assertEquals(hex(maskWriteRegisterRequest(4, 0xf2, 0x25)), "16 00 04 00 f2 00 25");
});

Deno.test("encodeAdu() prefixes the MBAP header", () => {
  assertEquals(
    hex(encodeAdu(0x1234, 17, readRequest(3, 0, 10))),
    "12 34 00 00 00 06 11 03 00 00 00 0a",
  );
});

Deno.test("decodeResponse() returns data, exceptions and malformed answers", () => {
  const req = readRequest(3, 0, 2);
  assertEquals(decodeResponse(req, new Uint8Array([3, 4, 1, 2, 3, 4])), {
    ok: true,
    data: new Uint8Array([1, 2, 3, 4]),
  });
  assertEquals(decodeResponse(req, new Uint8Array([0x83, 2])), { ok: false, exception: 2 });
  assertEquals(decodeResponse(req, new Uint8Array([3, 2, 1, 2])), {
    ok: false,
    malformed: "function code 0x03 with byte count 2 in a 4-byte PDU, expected byte count 4",
  });
  assertEquals(decodeResponse(req, new Uint8Array([4, 4, 1, 2, 3, 4])), {
    ok: false,
    malformed: "function code 0x04 answers a request with 0x03",
  });
  const coils = readRequest(1, 0, 10);
  assertEquals(decodeResponse(coils, new Uint8Array([1, 2, 0xff, 0x03])).ok, true);
  const w = writeSingleRegisterRequest(1, 3);
  assertEquals(decodeResponse(w, w).ok, true);
  assertEquals(decodeResponse(w, new Uint8Array([6, 0, 1, 0, 4])), {
    ok: false,
    malformed: "the echo does not match the request",
  });
});

Deno.test("exception names come from the as-const table", () => {
  assertEquals(ModbusExceptions[2], "Illegal data address");
  assertEquals(exceptionName(6), "Server device busy");
  assertEquals(exceptionName(99), "Unknown exception");
});

Deno.test("MbapReassembler joins partial frames and splits several frames in one chunk", () => {
  const a = encodeAdu(1, 1, new Uint8Array([3, 2, 0, 7]));
  const b = encodeAdu(2, 1, new Uint8Array([3, 2, 0, 8]));
  const all = new Uint8Array([...a, ...b]);
  const frames: Frame[] = [];
  const r = new MbapReassembler();
  r.push(all.subarray(0, 3), (f) => frames.push(f));
  assertEquals(frames.length, 0);
  r.push(all.subarray(3, 14), (f) => frames.push(f));
  assertEquals(frames.map((f) => f.transactionId), [1]);
  assertEquals(r.pending, 3);
  r.push(all.subarray(14), (f) => frames.push(f));
  assertEquals(frames.map((f) => [f.transactionId, f.unitId, [...f.pdu]]), [
    [1, 1, [3, 2, 0, 7]],
    [2, 1, [3, 2, 0, 8]],
  ]);
  const again: Frame[] = [];
  r.push(all, (f) => again.push(f));
  assertEquals(again.length, 2);
  assertEquals(r.pending, 0);
});

Deno.test("MbapReassembler drops and counts a chunk with an impossible header", () => {
  const r = new MbapReassembler();
  const frames: Frame[] = [];
  r.push(new Uint8Array([0, 1, 0, 9, 0, 6, 1, 3, 0, 0, 0, 1]), (f) => frames.push(f));
  r.push(new Uint8Array([0, 1, 0, 0, 0x10, 0, 1, 3]), (f) => frames.push(f));
  assertEquals(frames.length, 0);
  assertEquals(r.malformed, 2);
  r.push(encodeAdu(5, 1, new Uint8Array([6, 0, 1, 0, 3])), (f) => frames.push(f));
  assertEquals(frames.map((f) => f.transactionId), [5]);
});

Deno.test("responseProblem() checks a response in place, between offsets", () => {
  const req = readRequest(3, 0, 2);
  const frame = new Uint8Array([0xff, 0xff, 3, 4, 1, 2, 3, 4, 0xff]);
  assertEquals(responseProblem(req, frame, 2, 8), undefined);
  assertEquals(
    responseProblem(req, frame, 2, 7),
    "function code 0x03 with byte count 4 in a 5-byte PDU, expected byte count 4",
  );
  assertEquals(responseProblem(req, new Uint8Array([0x83, 2])), undefined);
  assertEquals(
    responseProblem(req, new Uint8Array([0x83, 4, 0, 0, 0, 0])),
    "function code 0x83 (exception) in a 6-byte PDU, expected 2 bytes",
  );
  assertEquals(
    responseProblem(req, new Uint8Array([4, 2, 0, 0])),
    "function code 0x04 answers a request with 0x03",
  );
  assertEquals(
    responseProblem(writeSingleRegisterRequest(1, 3), new Uint8Array([6, 0, 1, 0, 4])),
    "the echo does not match the request",
  );
});
