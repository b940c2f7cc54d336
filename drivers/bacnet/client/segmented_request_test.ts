/**
 * @module
 * Segmented requests (clause 5.4): a confirmed request longer than the device's max APDU goes
 * in segments when the device receives segmented requests (first segment alone, then windows
 * of the device's size, Segment-ACKs, a negative ACK after a lost segment), and fails with a
 * clear error before anything is sent when it does not. Against the simulator, which
 * reassembles segmented requests, through a real UDP relay that can drop a segment.
 */

import dgram from "node:dgram";
import { nullLogger, systemClock, type TagConfig } from "../../../engine/plugin.ts";
import { assert, assertEquals, assertRejects } from "../../../tests/_assert.ts";
import { decodeFrame, PduType } from "../core/frame.ts";
import { bacnet } from "../mod.ts";
import { startSite } from "../simulator/config.ts";
import type { BacnetDriver } from "./driver.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

const tag = (name: string, address: string): TagConfig => ({
  name,
  address,
  type: "",
  writable: true,
  config: { address },
});

/** A UDP relay on a free port that drops the request segments `drop` names (once each). */
async function relay(target: number, drop: Set<number>) {
  const front = dgram.createSocket("udp4");
  const back = dgram.createSocket("udp4");
  let client: { address: string; port: number } | undefined;
  const seqs: number[] = [];
  front.on("message", (msg: Uint8Array, r: dgram.RemoteInfo) => {
    client = { address: r.address, port: r.port };
    const a = decodeFrame(new Uint8Array(msg)).apdu;
    if (a[0]! >> 4 === PduType.confirmedRequest && (a[0]! & 0x08) !== 0) {
      seqs.push(a[3]!);
      if (drop.delete(a[3]!)) return;
    }
    back.send(msg, target, "127.0.0.1");
  });
  back.on("message", (msg: Uint8Array) => {
    if (client) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => back.bind(0, "127.0.0.1", r));
  return {
    port: front.address().port,
    seqs,
    [Symbol.asyncDispose]: () => {
      front.close();
      back.close();
      return Promise.resolve();
    },
  };
}

function driverFor(instance: number, port: number): BacnetDriver {
  return bacnet.create(
    {
      name: "dev",
      driver: "bacnet",
      config: { device: instance, host: "127.0.0.1", port, localPort: 0, timeout: "4s" },
      tags: new Map(),
    },
    { log: nullLogger, clock: systemClock },
  ) as BacnetDriver;
}

const longText = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + i % 26)).join("");

Deno.test("a write longer than the device's max APDU goes segmented, in windows, and is reassembled", async () => {
  await using site = await startSite({
    devices: [{
      instance: 8101,
      maxApdu: 128,
      objects: [{ address: "analog-value:1", name: "Setpoint", value: 20 }],
    }],
  });
  const { sim } = site.find(8101);
  await using r = await relay(sim.port, new Set());
  const d = driverFor(8101, r.port);
  await d.connect(AbortSignal.timeout(5000));
  try {
    const desc = tag("desc", "analog-value:1/description");
    await d.write(desc, longText, AbortSignal.timeout(5000));
    const [back] = await d.read(d.plan([desc]), AbortSignal.timeout(5000));
    assertEquals(back!.ok && back!.value, longText, "read back (a segmented reply)");
    // 1,000 characters in segments of 122 bytes: 9 segments, the first alone, then windows
    // of the simulator's 4: ACKs after segments 0, 4 and 8.
    const served = sim.device(8101);
    assertEquals(r.seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assertEquals(served.segmentsIn, 9);
    assertEquals(served.segmentAcksOut, 3);
  } finally {
    await d.close();
  }
});

Deno.test("a lost segment brings a negative ACK and the window is sent again from there", async () => {
  await using site = await startSite({
    devices: [{
      instance: 8102,
      maxApdu: 128,
      objects: [{ address: "analog-value:1", name: "Setpoint", value: 20 }],
    }],
  });
  const { sim } = site.find(8102);
  await using r = await relay(sim.port, new Set([2]));
  const d = driverFor(8102, r.port);
  await d.connect(AbortSignal.timeout(5000));
  try {
    const desc = tag("desc", "analog-value:1/description");
    await d.write(desc, longText, AbortSignal.timeout(5000));
    assertEquals(sim.device(8102).db.get({ type: 2, instance: 1 }).description, longText);
    // 0; 1 2(lost) 3 4 -> NAK of 1 after 3; then 2 3 4 5 again...
    assertEquals(r.seqs.slice(0, 5), [0, 1, 2, 3, 4]);
    assert(r.seqs.filter((s) => s === 2).length === 2, `segment 2 sent twice: ${r.seqs}`);
    assertEquals(r.seqs.at(-1), 8);
  } finally {
    await d.close();
  }
});

Deno.test("a device without segmented receive gets no oversized request: a clear error, nothing sent", async () => {
  await using site = await startSite({
    devices: [{
      instance: 8103,
      maxApdu: 128,
      segmentation: "transmit",
      objects: [{ address: "analog-value:1", name: "Setpoint", value: 20 }],
    }],
  });
  const { sim } = site.find(8103);
  const d = driverFor(8103, sim.port);
  await d.connect(AbortSignal.timeout(5000));
  try {
    const desc = tag("desc", "analog-value:1/description");
    const e = await assertRejects(
      () => d.write(desc, longText, AbortSignal.timeout(5000)),
      /exceeds the max APDU of 128 bytes of 127\.0\.0\.1:\d+, which does not accept segmented requests/,
    );
    assert(/analog-value:1\/description/.test(e.message), e.message);
    assertEquals(sim.device(8103).segmentsIn, 0);
    // A short one still goes.
    await d.write(desc, "short", AbortSignal.timeout(5000));
    assertEquals(sim.device(8103).db.get({ type: 2, instance: 1 }).description, "short");
  } finally {
    await d.close();
  }
});
