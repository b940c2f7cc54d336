/**
 * @module
 * Codec tests: tags, frames with routing, every service body round trip, the planner's
 * batching under max APDU, and bytes checked against the standard's examples (clause F).
 */

import { assert, assertEquals } from "../../../tests/_assert.ts";
import { Reader, Writer } from "./asn.ts";
import { decodeFrame, encodeFrame, MAX_APDU, maxApduCode } from "./frame.ts";
import {
  decodeCovNotification,
  decodeIAm,
  decodeReadProperty,
  decodeReadPropertyMultiple,
  decodeReadPropertyMultipleAck,
  decodeSubscribeCov,
  decodeWriteProperty,
  encodeCovNotification,
  encodeIAm,
  encodeReadProperty,
  encodeReadPropertyMultiple,
  encodeReadPropertyMultipleAck,
  encodeSubscribeCov,
  encodeWriteProperty,
} from "./services.ts";
import { parseAddress } from "./address.ts";
import { groupTags, planRequests } from "./plan.ts";
import { valuesToTag, valueToApp } from "./values.ts";

/** Asserts that `f` throws an instance of `type` whose message includes `text`. */
function assertThrows(f: () => unknown, type: new (...a: never[]) => Error, text = ""): void {
  try {
    f();
  } catch (e) {
    assert(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    assert(e.message.includes(text), `"${e.message}" should include "${text}"`);
    return;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("ReadProperty of analog-input:5 present-value encodes as in the standard (F.3.5)", () => {
  const b = encodeReadProperty({ object: { type: 0, instance: 5 }, property: 85 });
  assertEquals(hex(b), "0c00000005" + "1955");
  assertEquals(decodeReadProperty(b), { object: { type: 0, instance: 5 }, property: 85 });
});

Deno.test("application values round trip: real, unsigned, signed, strings, bits, object ids", () => {
  const w = new Writer();
  w.app({ type: "real", value: 72.5 }).app({ type: "unsigned", value: 70000 })
    .app({ type: "signed", value: -129 }).app({ type: "characterString", value: "Zone 3 °C" })
    .app({ type: "bitString", value: [false, true, false, true] })
    .app({ type: "objectId", value: { type: 8, instance: 4194302 } }).app({ type: "null" })
    .app({ type: "boolean", value: true }).app({ type: "double", value: 1e300 });
  const r = new Reader(w.done());
  assertEquals(r.app(), { type: "real", value: 72.5 });
  assertEquals(r.app(), { type: "unsigned", value: 70000 });
  assertEquals(r.app(), { type: "signed", value: -129 });
  assertEquals(r.app(), { type: "characterString", value: "Zone 3 °C" });
  assertEquals(r.app(), { type: "bitString", value: [false, true, false, true] });
  assertEquals(r.app(), { type: "objectId", value: { type: 8, instance: 4194302 } });
  assertEquals(r.app(), { type: "null" });
  assertEquals(r.app(), { type: "boolean", value: true });
  assertEquals(r.app(), { type: "double", value: 1e300 });
  assert(!r.more);
});

Deno.test("a truncated value is a RangeError, not a crash", () => {
  const b = new Writer().app({ type: "real", value: 1 }).done().slice(0, 3);
  assertThrows(() => new Reader(b).app(), RangeError);
});

Deno.test("frames carry DNET/DADR to a router and SNET/SADR back", () => {
  const apdu = Uint8Array.of(0x10, 0x08);
  const f = decodeFrame(
    encodeFrame(apdu, { destination: { net: 5, mac: Uint8Array.of(10) }, expectingReply: true }),
  );
  assertEquals(f.destination?.net, 5);
  assertEquals([...f.destination!.mac], [10]);
  assertEquals([...f.apdu], [0x10, 0x08]);
  assert(f.expectingReply);
  const back = decodeFrame(encodeFrame(apdu, { source: { net: 5, mac: Uint8Array.of(10) } }));
  assertEquals(back.source?.net, 5);
  assertEquals(back.destination, undefined);
  assertThrows(() => decodeFrame(Uint8Array.of(0x81, 0x0a, 0, 9, 1)), RangeError);
});

Deno.test("max APDU codes", () => {
  assertEquals(maxApduCode(1476), 5);
  assertEquals(maxApduCode(480), 3);
  assertEquals(maxApduCode(500), 3);
  assertEquals(MAX_APDU[maxApduCode(206)], 206);
});

Deno.test("ReadPropertyMultiple request and ACK round trip, errors per property", () => {
  const req = [{
    object: { type: 0, instance: 1 },
    properties: [{ property: 85 }, { property: 87, index: 8 }],
  }];
  assertEquals(decodeReadPropertyMultiple(encodeReadPropertyMultiple(req)), req);
  const ack = [{
    object: { type: 0, instance: 1 },
    results: [
      { property: 85, values: [{ type: "real" as const, value: 21.5 }] },
      { property: 9999, error: { cls: 2, code: 32 } },
    ],
  }];
  assertEquals(decodeReadPropertyMultipleAck(encodeReadPropertyMultipleAck(ack)), ack);
});

Deno.test("WriteProperty with priority and a NULL relinquish round trip", () => {
  const w = {
    object: { type: 1, instance: 2 },
    property: 85,
    value: [{ type: "null" as const }],
    priority: 8,
  };
  assertEquals(decodeWriteProperty(encodeWriteProperty(w)), w);
});

Deno.test("SubscribeCOV, its cancellation, COV notifications and I-Am round trip", () => {
  const s = { processId: 7, object: { type: 0, instance: 3 }, confirmed: true, lifetime: 300 };
  assertEquals(decodeSubscribeCov(encodeSubscribeCov(s)), s);
  assertEquals(decodeSubscribeCov(encodeSubscribeCov({ processId: 7, object: s.object })), {
    processId: 7,
    object: s.object,
  });
  const n = {
    processId: 7,
    device: { type: 8, instance: 1001 },
    object: { type: 0, instance: 3 },
    timeRemaining: 299,
    values: [{ property: 85, values: [{ type: "real" as const, value: 20.5 }] }, {
      property: 111,
      values: [{ type: "bitString" as const, value: [false, false, false, false] }],
    }],
  };
  assertEquals(decodeCovNotification(encodeCovNotification(n)), n);
  // Index 0xFFFFFFFF (BACNET_ARRAY_ALL, on the wire from @bacnet-js/client) names no element.
  const all = n.values.map((v) => ({ ...v, index: 0xffffffff }));
  assertEquals(decodeCovNotification(encodeCovNotification({ ...n, values: all })), n);
  const i = { device: 260001, maxApdu: 1476, segmentation: 0, vendorId: 999 };
  assertEquals(decodeIAm(encodeIAm(i)), i);
});

Deno.test("addresses: names, aliases, properties, indexes, and clear errors", () => {
  assertEquals(parseAddress("analog-input:3"), { object: { type: 0, instance: 3 }, property: 85 });
  assertEquals(parseAddress("bo:1/present-value"), {
    object: { type: 4, instance: 1 },
    property: 85,
  });
  assertEquals(parseAddress("device:1234/object-name"), {
    object: { type: 8, instance: 1234 },
    property: 77,
  });
  assertEquals(parseAddress("ao:2/priority-array[8]"), {
    object: { type: 1, instance: 2 },
    property: 87,
    index: 8,
  });
  assertThrows(() => parseAddress("analog-inptu:3"), Error, "Unknown BACnet object type");
  assertThrows(() => parseAddress("ai:3/present-valu"), Error, "Unknown BACnet property");
  assertThrows(() => parseAddress("ai3"), Error, "not a BACnet address");
});

Deno.test("values: binary as boolean, real as shortest float32, writes checked before sending", () => {
  assertEquals(valuesToTag([{ type: "enumerated", value: 1 }], "boolean"), true);
  assertEquals(valuesToTag([{ type: "real", value: Math.fround(21.3) }], "real"), 21.3);
  assertEquals(valueToApp(null, "real"), { type: "null" });
  assertEquals(valueToApp(true, "boolean"), { type: "enumerated", value: 1 });
  assertThrows(() => valueToApp(-1, "unsigned"), Error, "not an unsigned");
  assertThrows(() => valueToApp("x", "real"), Error, "not a number");
  assertThrows(() => valueToApp(1e39, "real"), Error, "does not fit a REAL");
});

Deno.test("the planner batches under max APDU: 50 objects fit one 1476 request, several at 206", () => {
  const addrs = Array.from({ length: 50 }, (_, i) => parseAddress(`analog-input:${i + 1}`));
  const objects = groupTags(addrs, true);
  assertEquals(objects.length, 50);
  assertEquals(objects[0]!.properties.map((p) => p.property), [85, 111, 103]);
  const big = planRequests(objects, { maxApdu: 1476, maxSegments: 1, maxProperties: 0 });
  assertEquals(big.length, 1);
  const small = planRequests(objects, { maxApdu: 206, maxSegments: 1, maxProperties: 0 });
  assert(small.length >= 6, `got ${small.length} requests`);
  for (const r of small) assert(r.replyBytes <= 203 && r.requestBytes <= 202, JSON.stringify(r));
  const seg = planRequests(objects, { maxApdu: 206, maxSegments: 8, maxProperties: 0 });
  assert(seg.length < small.length, "segmented replies take more per request");
  // Every tag is planned exactly once.
  const tags = small.flatMap((r) => r.objects.flatMap((o) => o.properties.flatMap((p) => p.tags)));
  assertEquals(tags.sort((a, b) => a - b), addrs.map((_, i) => i));
});
