/**
 * @module
 * APDU retries through a real lossy UDP relay between the gateway's port and the simulator:
 * the relay drops the first N confirmed requests (or duplicates replies), and the port sends
 * the request again with the same invoke id after each APDU timeout, within the whole
 * request's timeout, ignoring duplicate replies.
 */

import dgram from "node:dgram";
import { assert, assertEquals, assertMatch, assertRejects } from "../../../tests/_assert.ts";
import { generatedDevice, ObjectType, P, startSite } from "../simulator/config.ts";
import { ConfirmedService } from "../core/enums.ts";
import { decodeFrame, PduType } from "../core/frame.ts";
import { decodeReadPropertyAck, encodeReadProperty } from "../core/services.ts";
import { BacnetTimeoutError, openPort } from "./port.ts";
import { bacnet } from "../mod.ts";
import { nullLogger, systemClock } from "../../../engine/plugin.ts";
import type { BacnetDriver } from "./driver.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

/** A UDP relay on a free port that forwards to `target`, dropping or duplicating on demand. */
async function lossyRelay(target: { host: string; port: number }) {
  const front = dgram.createSocket("udp4");
  const back = dgram.createSocket("udp4");
  const state = {
    /** Confirmed requests still to drop. */
    drop: 0,
    /** Send every reply this many times. */
    copies: 1,
    /** Invoke ids of the confirmed requests seen (dropped or not). */
    invokes: [] as number[],
    dropped: 0,
    client: undefined as { address: string; port: number } | undefined,
  };
  front.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
    state.client = { address: rinfo.address, port: rinfo.port };
    const a = decodeFrame(new Uint8Array(msg)).apdu;
    if (a.length > 2 && a[0]! >> 4 === PduType.confirmedRequest) {
      state.invokes.push(a[2]!);
      if (state.drop > 0) {
        state.drop--;
        state.dropped++;
        return;
      }
    }
    back.send(msg, target.port, target.host);
  });
  back.on("message", (msg: Uint8Array) => {
    const c = state.client;
    if (!c) return;
    for (let i = 0; i < state.copies; i++) front.send(msg, c.port, c.address);
  });
  await new Promise<void>((r) => front.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => back.bind(0, "127.0.0.1", r));
  return {
    state,
    port: front.address().port,
    [Symbol.asyncDispose]: async () => {
      front.close();
      back.close();
      await Promise.resolve();
    },
  };
}

const peer = (port: number) => ({ host: "127.0.0.1", port });
const rp = (instance: number) =>
  encodeReadProperty({
    object: { type: ObjectType["analog-input"], instance },
    property: P["present-value"],
  });

Deno.test("a request whose first datagrams are lost is sent again with the same invoke id and succeeds", async () => {
  await using site = await startSite({ devices: [generatedDevice(4101, 5)] });
  await using relay = await lossyRelay(site.endpoints[0]!);
  const port = await openPort({ port: 0, address: "127.0.0.1" });
  try {
    relay.state.drop = 2;
    const t0 = performance.now();
    const r = await port.request(peer(relay.port), ConfirmedService.readProperty, rp(1), {
      timeoutMs: 10_000,
      apduTimeoutMs: 150,
      retries: 3,
    });
    const took = performance.now() - t0;
    const ack = decodeReadPropertyAck(r.body);
    assertEquals(ack.values[0]?.type, "real");
    assertEquals(relay.state.dropped, 2);
    assertEquals(port.retransmits, 2);
    assertEquals(relay.state.invokes.length, 3);
    assertEquals(new Set(relay.state.invokes).size, 1, "every attempt has the same invoke id");
    // Two APDU timeouts went by (sweeper granularity: 15 ms), far less than the whole timeout.
    assert(took >= 290 && took < 5000, `took ${took.toFixed(0)} ms`);
  } finally {
    port.release();
  }
});

Deno.test("more losses than retries fail the request with a timeout naming the retries", async () => {
  await using site = await startSite({ devices: [generatedDevice(4102, 5)] });
  await using relay = await lossyRelay(site.endpoints[0]!);
  const port = await openPort({ port: 0, address: "127.0.0.1" });
  try {
    relay.state.drop = 100;
    const e = await assertRejects(
      () =>
        port.request(peer(relay.port), ConfirmedService.readProperty, rp(1), {
          timeoutMs: 10_000,
          apduTimeoutMs: 100,
          retries: 2,
        }),
      /2 retries every 100 ms/,
    );
    assert(e instanceof BacnetTimeoutError);
    assertMatch(e.message, /2 retries every 100 ms/);
    assertEquals(relay.state.invokes.length, 3, "first attempt and two retries");
    // The whole-request timeout caps the retries: 250 ms allows 2-3 attempts of 100 ms, not 11.
    relay.state.invokes.length = 0;
    const t0 = performance.now();
    await assertRejects(
      () =>
        port.request(peer(relay.port), ConfirmedService.readProperty, rp(1), {
          timeoutMs: 250,
          apduTimeoutMs: 100,
          retries: 10,
        }),
      /No reply/,
    );
    assert(performance.now() - t0 < 2000, "the whole timeout ends the request");
    assert(relay.state.invokes.length <= 3, `${relay.state.invokes.length} attempts in 250 ms`);
  } finally {
    port.release();
  }
});

Deno.test("duplicate replies (a retry crossing a late reply) are ignored", async () => {
  await using site = await startSite({ devices: [generatedDevice(4103, 5)] });
  await using relay = await lossyRelay(site.endpoints[0]!);
  const port = await openPort({ port: 0, address: "127.0.0.1" });
  try {
    relay.state.copies = 3;
    // The device answers after 250 ms, the APDU timeout is 100 ms: the request goes out again
    // before the first reply, and every attempt's reply comes three times.
    site.endpoints[0]!.device(4103).faults.slowMs = 250;
    const r = await port.request(peer(relay.port), ConfirmedService.readProperty, rp(2), {
      timeoutMs: 5000,
      apduTimeoutMs: 100,
      retries: 3,
    });
    assertEquals(decodeReadPropertyAck(r.body).object.instance, 2);
    assert(port.retransmits >= 1, "the slow reply made the port retry");
    site.endpoints[0]!.device(4103).faults.slowMs = 0;
    // Later requests get their own replies, not the duplicates of the first.
    for (const i of [3, 4, 5]) {
      const next = await port.request(peer(relay.port), ConfirmedService.readProperty, rp(i), {
        timeoutMs: 5000,
        apduTimeoutMs: 1000,
        retries: 3,
      });
      assertEquals(decodeReadPropertyAck(next.body).object.instance, i);
    }
  } finally {
    port.release();
  }
});

Deno.test("the driver retries by default (3 retries) and honours apduTimeout and retries from the device config", async () => {
  await using site = await startSite({ devices: [generatedDevice(4104, 5)] });
  await using relay = await lossyRelay(site.endpoints[0]!);
  const make = (config: Record<string, unknown>) =>
    bacnet.create(
      {
        name: "dev",
        driver: "bacnet",
        config: { device: 4104, host: "127.0.0.1", port: relay.port, localPort: 0, ...config },
        tags: new Map(),
      },
      { log: nullLogger, clock: systemClock },
    ) as BacnetDriver;
  const tag = {
    name: "t",
    address: "analog-input:1",
    type: "",
    writable: false,
    config: { address: "analog-input:1" },
  };
  const d = make({ apduTimeout: "150ms" });
  await d.connect(AbortSignal.timeout(5000));
  try {
    relay.state.drop = 3;
    const rs = await d.read(d.plan([tag]), AbortSignal.timeout(5000));
    assert(rs[0]!.ok, "read after three lost requests");
    assertEquals(relay.state.dropped, 3);
  } finally {
    await d.close();
  }
  const none = make({ apduTimeout: "150ms", retries: 0 });
  await none.connect(AbortSignal.timeout(5000));
  try {
    relay.state.drop = 1;
    // retries: 0 fails at the first loss (a device-level TIMEOUT, the engine's to handle).
    await assertRejects(
      () => none.read(none.plan([tag]), AbortSignal.timeout(5000)),
      /No reply from 127\.0\.0\.1:\d+ within 150 ms$/,
    );
  } finally {
    await none.close();
  }
});

Deno.test("requests beyond maxInFlight wait their turn, and a closed port fails the waiting ones", async () => {
  await using site = await startSite({ devices: [generatedDevice(4105, 8)] });
  await using relay = await lossyRelay(site.endpoints[0]!);
  site.endpoints[0]!.device(4105).faults.slowMs = 100;
  const port = await openPort({ port: 0, address: "127.0.0.1" });
  try {
    port.maxInFlight = 2;
    const t0 = performance.now();
    const replies = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) =>
        port.request(peer(relay.port), ConfirmedService.readProperty, rp(i), {
          timeoutMs: 5000,
        })
      ),
    );
    const took = performance.now() - t0;
    assertEquals(replies.map((r) => decodeReadPropertyAck(r.body).object.instance), [
      1,
      2,
      3,
      4,
      5,
      6,
    ]);
    assertEquals(port.queuedPeak, 4);
    // Three turns of two requests, each answered after 100 ms.
    assert(took >= 290, `took ${took.toFixed(0)} ms: the bound held`);
    const waiting = [1, 2, 3].map((i) =>
      port.request(peer(relay.port), ConfirmedService.readProperty, rp(i), { timeoutMs: 5000 })
    );
    port.close();
    const settled = await Promise.allSettled(waiting);
    assert(settled.every((s) => s.status === "rejected"), "every request fails on close");
  } finally {
    port.release();
  }
});
