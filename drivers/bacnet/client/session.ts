/**
 * @module
 * A session with one BACnet device over the shared port: locating it (directed or broadcast
 * Who-Is, a fixed address, a route through a router, a BBMD registration), its limits (max
 * APDU, segmentation) and the confirmed services the driver uses. ReadPropertyMultiple falls
 * back to ReadProperty when the device does not know it (a Reject of the service) or when a
 * whole request fails (some devices answer one Error for a request with one unknown object).
 */

import type { AppValue, ObjectId } from "../core/asn.ts";
import { ConfirmedService as CS, ObjectType, PropertyId as P } from "../core/enums.ts";
import {
  decodeReadPropertyAck,
  decodeReadPropertyMultipleAck,
  encodeReadProperty,
  encodeReadPropertyMultiple,
  encodeSubscribeCov,
  encodeWriteProperty,
  type ObjectResults,
  type PropertyResult,
} from "../core/services.ts";
import type { PlannedRequest } from "../core/plan.ts";
import type { BacnetDevice } from "../core/spec.ts";
import {
  type BacnetPort,
  BacnetReplyError,
  type Found,
  openPort,
  type Peer,
  peerKey,
} from "./port.ts";

/** What the device said about itself. */
export interface DeviceLimits {
  maxApdu: number;
  /** 0 both, 1 transmit, 2 receive, 3 none. */
  segmentation: number;
  vendorId: number;
}

/** A located device and its requests. */
export class BacnetSession {
  port: BacnetPort | undefined;
  peer: Peer | undefined;
  limits: DeviceLimits = { maxApdu: 480, segmentation: 3, vendorId: 0 };
  /** False once the device rejected ReadPropertyMultiple. */
  rpm = true;

  constructor(readonly cfg: BacnetDevice, readonly name: string) {}

  /** Opens the port, registers with the BBMD, and finds the device. Throws `Error` with why. */
  async open(signal: AbortSignal): Promise<void> {
    const c = this.cfg;
    this.port = await openPort({
      address: c.localAddress,
      port: c.localPort,
      broadcast: c.broadcast,
    });
    if (c.bbmd) {
      await this.port.registerForeignDevice(c.bbmd.host, c.bbmd.port, c.bbmdTtlS, c.timeoutMs);
    }
    const route = c.network !== undefined && c.mac ? { net: c.network, mac: c.mac } : undefined;
    const target: Peer | undefined = c.host
      ? { host: c.host, port: c.port, ...(route ? { route } : {}) }
      : undefined;
    // Directed (to the address) or broadcast Who-Is for this instance only. At an address,
    // the Device object is asked at the same time: some devices ignore a directed Who-Is.
    const dev = { type: ObjectType.device, instance: c.device };
    const stop = new AbortController();
    const both = AbortSignal.any([signal, stop.signal]);
    const iAm = this.port.whoIs({
      low: c.device,
      high: c.device,
      ...(target ? { target } : {}),
      ...(c.network !== undefined && !route ? { network: c.network } : {}),
      broadcastPort: c.port,
      waitMs: c.timeoutMs,
      signal: both,
      stopWhen: (f) => f.length > 0,
    }).then((f): Found | undefined => f[0]);
    const asked = target
      ? (this.peer = target, this.readProperty(dev, P["max-apdu-length-accepted"], undefined, both))
        .then((v) => v[0]?.type === "unsigned" ? v[0].value : 480, () => undefined)
      : Promise.resolve(undefined);
    type First = { hit?: Found; max?: number };
    const first: First = await Promise.race([
      iAm.then((hit): First | Promise<First> =>
        hit ? { hit } : asked.then((max) => ({ ...(max === undefined ? {} : { max }) }))
      ),
      asked.then((max): First | Promise<First> =>
        max === undefined ? iAm.then((hit) => (hit ? { hit } : {})) : { max }
      ),
    ]);
    stop.abort();
    await Promise.allSettled([iAm, asked]);
    if (first.hit) {
      this.peer = first.hit.peer;
      this.limits = {
        maxApdu: first.hit.maxApdu,
        segmentation: first.hit.segmentation,
        vendorId: first.hit.vendorId,
      };
    } else if (first.max !== undefined && target) {
      this.peer = target;
      const seg = await this.readProperty(dev, P["segmentation-supported"], undefined, signal)
        .catch(() => []);
      this.limits = {
        maxApdu: first.max,
        segmentation: seg[0]?.type === "enumerated" ? seg[0].value : 3,
        vendorId: 0,
      };
    } else {
      this.peer = undefined;
      throw new Error(
        target
          ? `no answer from device ${c.device} at ${
            peerKey(target)
          } within ${c.timeoutMs} ms (Who-Is and ReadProperty)`
          : `no I-Am from device ${c.device} within ${c.timeoutMs} ms (broadcast Who-Is to ${
            c.bbmd ? `BBMD ${c.bbmd.host}:${c.bbmd.port}` : `${c.broadcast}:${c.port}`
          })`,
      );
    }
    if (c.maxApdu !== undefined) this.limits.maxApdu = Math.min(this.limits.maxApdu, c.maxApdu);
  }

  /** Where the device is, as text. */
  where(): string {
    return this.peer
      ? peerKey(this.peer)
      : this.cfg.host
      ? `${this.cfg.host}:${this.cfg.port}`
      : "(not located)";
  }

  /** Closes the session (the port when no other device uses it). */
  close(): void {
    this.port?.release();
    this.port = undefined;
  }

  private req(service: number, body: Uint8Array, signal?: AbortSignal) {
    if (!this.port || !this.peer) throw new Error("not connected");
    return this.port.request(this.peer, service, body, {
      timeoutMs: this.cfg.timeoutMs,
      apduTimeoutMs: this.cfg.apduTimeoutMs,
      retries: this.cfg.retries,
      peerMaxApdu: this.limits.maxApdu,
      peerSegmentation: this.limits.segmentation,
      ...(signal ? { signal } : {}),
      maxApdu: 1476,
    });
  }

  /** ReadProperty. */
  async readProperty(
    object: ObjectId,
    property: number,
    index?: number,
    signal?: AbortSignal,
  ): Promise<AppValue[]> {
    const r = await this.req(
      CS.readProperty,
      encodeReadProperty({ object, property, ...(index === undefined ? {} : { index }) }),
      signal,
    );
    return decodeReadPropertyAck(r.body).values;
  }

  /** Whether the device can send segmented replies. */
  get segmentsReplies(): boolean {
    return this.limits.segmentation === 0 || this.limits.segmentation === 1;
  }

  /** Requests sent by {@linkcode readMultiple}, for benchmarks. */
  requests = 0;

  /**
   * Reads a planned request: one ReadPropertyMultiple, or ReadProperty per property when the
   * device cannot. Per-property errors come back as results; a timeout or a lost port throws.
   */
  async readMultiple(r: PlannedRequest, signal?: AbortSignal): Promise<ObjectResults[]> {
    if (this.rpm) {
      try {
        this.requests++;
        const reply = await this.req(
          CS.readPropertyMultiple,
          encodeReadPropertyMultiple(r.objects.map((o) => ({
            object: o.object,
            properties: o.properties.map((p) => ({
              property: p.property,
              ...(p.index === undefined ? {} : { index: p.index }),
            })),
          }))),
          signal,
        );
        return decodeReadPropertyMultipleAck(reply.body);
      } catch (e) {
        if (!(e instanceof BacnetReplyError)) throw e;
        // Reject unrecognized-service: the device has no RPM; stop asking.
        if (e.kind === "reject" && e.code === 9) this.rpm = false;
        // Otherwise one bad object spoiled the request: read property by property.
      }
    }
    const out: ObjectResults[] = [];
    for (const o of r.objects) {
      const results: PropertyResult[] = [];
      for (const p of o.properties) {
        const idx = p.index === undefined ? {} : { index: p.index };
        try {
          this.requests++;
          results.push({
            property: p.property,
            ...idx,
            values: await this.readProperty(o.object, p.property, p.index, signal),
          });
        } catch (e) {
          if (!(e instanceof BacnetReplyError) || e.kind !== "error") throw e;
          results.push({ property: p.property, ...idx, error: { cls: e.cls, code: e.code } });
        }
      }
      out.push({ object: o.object, results });
    }
    return out;
  }

  /** WriteProperty (a NULL value relinquishes the priority). */
  async writeProperty(
    object: ObjectId,
    property: number,
    value: AppValue,
    o: { index?: number; priority?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.req(
      CS.writeProperty,
      encodeWriteProperty({
        object,
        property,
        value: [value],
        ...(o.index === undefined ? {} : { index: o.index }),
        ...(o.priority === undefined ? {} : { priority: o.priority }),
      }),
      o.signal,
    );
  }

  /** SubscribeCOV (a cancellation when `lifetimeS` is undefined). */
  async subscribeCov(
    processId: number,
    object: ObjectId,
    confirmed: boolean,
    lifetimeS: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.req(
      CS.subscribeCov,
      encodeSubscribeCov(
        lifetimeS === undefined
          ? { processId, object }
          : { processId, object, confirmed, lifetime: lifetimeS },
      ),
      signal,
    );
  }
}
