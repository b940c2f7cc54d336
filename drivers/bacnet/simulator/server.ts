/**
 * @module
 * The BACnet/IP simulator: one UDP endpoint serving one device, or a simulated BACnet
 * router serving many devices on a remote network (DNET/DADR addressing, replies stamped with
 * SNET/SADR). It answers Who-Is, ReadProperty, ReadPropertyMultiple (with `all`),
 * WriteProperty (priority array, relinquish by NULL) and SubscribeCOV (confirmed and
 * unconfirmed notifications, lifetimes, COV increments), segments replies longer than the
 * client's max APDU, registers foreign devices as a BBMD would, and injects faults: a silent
 * device, errors on chosen objects, slow replies, a restart that forgets every subscription.
 *
 * Replies go out straight from the socket's message handler (no timer on the path) so that
 * the simulator can serve a benchmark of 100 devices without being its bottleneck.
 */

import dgram from "node:dgram";
import type { AppValue, ObjectId } from "../core/asn.ts";
import {
  abortPdu,
  Bvlc,
  complexAck,
  confirmedRequest,
  decodeConfirmed,
  decodeFrame,
  encodeBvlcResult,
  encodeFrame,
  errorPdu,
  PduType,
  rejectPdu,
  type RemoteAddress,
  segmentAck,
  simpleAck,
  unconfirmedRequest,
} from "../core/frame.ts";
import {
  ConfirmedService as CS,
  ErrorCode,
  ObjectType,
  PropertyId as P,
  UnconfirmedService as US,
} from "../core/enums.ts";
import {
  decodeReadProperty,
  decodeReadPropertyMultiple,
  decodeSubscribeCov,
  decodeWhoIs,
  decodeWriteProperty,
  encodeCovNotification,
  encodeIAm,
  encodeReadPropertyAck,
  encodeReadPropertyMultipleAck,
  type ObjectResults,
  type PropertyResult,
} from "../core/services.ts";
import { family } from "../core/address.ts";
import { presentValue, type SimDevice, SimError, type SimObject } from "./store.ts";

/** Faults of one simulated device. */
export interface SimFaults {
  /** Answer nothing. */
  silent: boolean;
  /** Delay every reply by this many ms. */
  slowMs: number;
  /** Objects (`type:instance` numbers) whose reads and writes fail with this error. */
  errors: Map<string, { cls: number; code: number }>;
}

interface Peer {
  host: string;
  port: number;
  route?: RemoteAddress;
}

interface CovSub {
  peer: Peer;
  processId: number;
  object: ObjectId;
  confirmed: boolean;
  expires: number;
  lastPv: number | boolean | undefined;
  lastFlags: string;
}

/** A device as the simulator serves it: its database, faults and COV subscriptions. */
export class ServedDevice {
  readonly faults: SimFaults = { silent: false, slowMs: 0, errors: new Map() };
  readonly subs = new Map<string, CovSub>();
  /** Notifications sent, for benchmarks. */
  notifications = 0;
  /** Segments of segmented requests received, and Segment-ACKs sent for them. */
  segmentsIn = 0;
  segmentAcksOut = 0;
  constructor(readonly db: SimDevice, readonly mac: Uint8Array | undefined) {}
}

/** The simulator's actual window size for segmented requests (small, so that tests see several windows). */
export const SIM_WINDOW = 4;

/** Options of {@linkcode startBacnetSimulator}. */
export interface SimulatorOptions {
  devices: SimDevice[];
  host?: string;
  port?: number;
  /** Serve the devices behind a simulated router on this network number (required for more than one device). */
  network?: number;
}

/** A running simulator endpoint. */
export interface BacnetSimulator extends AsyncDisposable {
  readonly host: string;
  readonly port: number;
  readonly network: number | undefined;
  readonly served: ServedDevice[];
  /** The served device of an instance. */
  device(instance: number): ServedDevice;
  /** Sets the present value of an object (its value, or the relinquish default of a commanded one) and sends COV notifications. */
  setValue(instance: number, object: ObjectId, value: number | boolean): void;
  /** Sends COV notifications for objects whose value moved past their increment. */
  checkCov(d: ServedDevice, o: SimObject): void;
  /** Forgets every subscription (a device restart) and announces I-Am to former subscribers. */
  restart(instance?: number): void;
  /** Foreign-device registrations received (as a BBMD). */
  readonly registrations: { host: string; port: number; ttl: number; at: number }[];
  close(): Promise<void>;
}

const objKey = (o: ObjectId) => `${o.type}:${o.instance}`;
const peerKey = (p: Peer) =>
  `${p.host}:${p.port}${p.route ? `/${p.route.net}:${[...p.route.mac].join(".")}` : ""}`;

/** Starts a simulator endpoint on `host:port` (port 0: a free one). */
export async function startBacnetSimulator(o: SimulatorOptions): Promise<BacnetSimulator> {
  if (o.devices.length === 0) throw new Error("A BACnet simulator needs at least one device");
  if (o.devices.length > 1 && o.network === undefined) {
    throw new Error("More than one device on one port needs a simulated router: set network");
  }
  const host = o.host ?? "127.0.0.1";
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(o.port ?? 0, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const port = socket.address().port;
  const served = o.devices.map((d, i) =>
    new ServedDevice(d, o.network === undefined ? undefined : Uint8Array.of(i + 1))
  );
  const byInstance = new Map(served.map((s) => [s.db.info.instance, s]));
  const byMac = new Map(served.map((s) => [s.mac?.[0] ?? 0, s]));
  const registrations: BacnetSimulator["registrations"] = [];
  const segmenting = new Map<
    string,
    {
      segments: Uint8Array[];
      next: number;
      service: number;
      peer: Peer;
      src?: RemoteAddress;
      at: number;
    }
  >();
  /** Segmented requests being received: the segments so far and the window count. */
  const incoming = new Map<
    string,
    { parts: Uint8Array[]; bytes: number; expected: number; inWindow: number; at: number }
  >();
  let notifyInvoke = 0;
  let closed = false;

  const sendApdu = (apdu: Uint8Array, peer: Peer, d: ServedDevice, broadcast = false) => {
    if (closed) return;
    const frame = encodeFrame(apdu, {
      ...(d.mac && o.network !== undefined ? { source: { net: o.network, mac: d.mac } } : {}),
      ...(peer.route ? { destination: peer.route } : {}),
      broadcast,
    });
    socket.send(frame, peer.port, peer.host);
  };

  const reply = (apdu: Uint8Array, peer: Peer, d: ServedDevice) => {
    if (d.faults.slowMs > 0) setTimeout(() => sendApdu(apdu, peer, d), d.faults.slowMs);
    else sendApdu(apdu, peer, d);
  };

  const checkFault = (d: ServedDevice, id: ObjectId) => {
    const e = d.faults.errors.get(objKey(id));
    if (e) throw new SimError(e.cls, e.code);
  };

  const notify = (d: ServedDevice, s: CovSub) => {
    const obj = d.db.get(s.object);
    const pv = presentValue(obj);
    const values = [
      { property: P["present-value"], values: d.db.read(s.object, P["present-value"]) },
      { property: P["status-flags"], values: d.db.read(s.object, P["status-flags"]) },
    ];
    s.lastPv = pv;
    s.lastFlags = flagsOf(obj);
    const body = encodeCovNotification({
      processId: s.processId,
      device: { type: ObjectType.device, instance: d.db.info.instance },
      object: s.object,
      timeRemaining: s.expires === Infinity
        ? 0
        : Math.max(0, Math.round((s.expires - Date.now()) / 1000)),
      values,
    });
    d.notifications++;
    if (s.confirmed) {
      notifyInvoke = (notifyInvoke + 1) & 0xff;
      sendApdu(confirmedRequest(notifyInvoke, CS.confirmedCovNotification, body), s.peer, d);
    } else sendApdu(unconfirmedRequest(US.unconfirmedCovNotification, body), s.peer, d);
  };

  const checkCov = (d: ServedDevice, obj: SimObject) => {
    if (d.subs.size === 0 || d.faults.silent) return;
    const now = Date.now();
    const key = `${obj.type}:${obj.instance}`;
    for (const [k, s] of d.subs) {
      if (objKey(s.object) !== key) continue;
      if (s.expires < now) {
        d.subs.delete(k);
        continue;
      }
      const pv = presentValue(obj);
      const moved = s.lastPv === undefined ||
        (family(obj.type) === "analog"
          ? Math.abs(Number(pv) - Number(s.lastPv)) >= obj.covIncrement
          : pv !== s.lastPv);
      if (moved || flagsOf(obj) !== s.lastFlags) notify(d, s);
    }
  };

  const handleConfirmed = (d: ServedDevice, apdu: Uint8Array, peer: Peer) => {
    const h = decodeConfirmed(apdu);
    if (h.segmented) return void receiveSegment(d, apdu, h, peer);
    const answer = (service: number, body: Uint8Array) => {
      const limit = Math.min(h.maxApdu, d.db.info.maxApdu);
      if (body.length + 3 <= limit) return reply(complexAck(h.invokeId, service, body), peer, d);
      const canSegment = h.segmentedAccepted &&
        (d.db.info.segmentation === 0 || d.db.info.segmentation === 1);
      if (!canSegment) return reply(abortPdu(h.invokeId, 4), peer, d); // segmentation-not-supported
      const size = limit - 5;
      const segments: Uint8Array[] = [];
      for (let i = 0; i < body.length; i += size) segments.push(body.subarray(i, i + size));
      if (h.maxSegments > 0 && h.maxSegments < 65 && segments.length > h.maxSegments) {
        return reply(abortPdu(h.invokeId, 1), peer, d); // buffer-overflow
      }
      segmenting.set(`${peerKey(peer)}#${h.invokeId}`, {
        segments,
        next: 1,
        service,
        peer,
        at: Date.now(),
      });
      reply(
        complexAck(h.invokeId, service, segments[0]!, { sequence: 0, window: 1, more: true }),
        peer,
        d,
      );
    };
    try {
      switch (h.service) {
        case CS.readProperty: {
          const r = decodeReadProperty(apdu, h.body);
          checkFault(d, r.object);
          return answer(
            CS.readProperty,
            encodeReadPropertyAck(r, d.db.read(r.object, r.property, r.index)),
          );
        }
        case CS.readPropertyMultiple: {
          const specs = decodeReadPropertyMultiple(apdu, h.body);
          const out: ObjectResults[] = specs.map((s) => ({
            object: s.object,
            results: s.properties.flatMap((p): PropertyResult[] => {
              const props =
                p.property === P.all || p.property === P.required || p.property === P.optional
                  ? safe(() => d.db.properties(s.object), [p.property])
                  : [p.property];
              return props.map((prop): PropertyResult => {
                const idx = p.index === undefined ? {} : { index: p.index };
                try {
                  checkFault(d, s.object);
                  return { property: prop, ...idx, values: d.db.read(s.object, prop, p.index) };
                } catch (e) {
                  if (!(e instanceof SimError)) throw e;
                  return { property: prop, ...idx, error: { cls: e.cls, code: e.code } };
                }
              });
            }),
          }));
          return answer(CS.readPropertyMultiple, encodeReadPropertyMultipleAck(out));
        }
        case CS.writeProperty: {
          const w = decodeWriteProperty(apdu, h.body);
          checkFault(d, w.object);
          d.db.write(w.object, w.property, w.value, w.priority);
          reply(simpleAck(h.invokeId, CS.writeProperty), peer, d);
          if (w.object.type !== ObjectType.device) checkCov(d, d.db.get(w.object));
          return;
        }
        case CS.subscribeCov: {
          const s = decodeSubscribeCov(apdu, h.body);
          const obj = d.db.get(s.object);
          checkFault(d, s.object);
          if (obj.noCov) throw new SimError(1, ErrorCode.optionalFunctionalityNotSupported);
          const key = `${peerKey(peer)}|${s.processId}|${objKey(s.object)}`;
          if (s.lifetime === undefined && s.confirmed === undefined) {
            d.subs.delete(key);
            return reply(simpleAck(h.invokeId, CS.subscribeCov), peer, d);
          }
          const sub: CovSub = {
            peer,
            processId: s.processId,
            object: s.object,
            confirmed: s.confirmed ?? false,
            expires: s.lifetime ? Date.now() + s.lifetime * 1000 : Infinity,
            lastPv: undefined,
            lastFlags: "",
          };
          d.subs.set(key, sub);
          reply(simpleAck(h.invokeId, CS.subscribeCov), peer, d);
          // The initial notification of clause 13.1.2.
          if (d.faults.slowMs > 0) setTimeout(() => notify(d, sub), d.faults.slowMs);
          else notify(d, sub);
          return;
        }
        default:
          return reply(rejectPdu(h.invokeId, 9), peer, d); // unrecognized-service
      }
    } catch (e) {
      if (e instanceof SimError) {
        return reply(errorPdu(h.invokeId, h.service, e.cls, e.code), peer, d);
      }
      if (e instanceof RangeError) return reply(rejectPdu(h.invokeId, 4), peer, d); // invalid-tag
      throw e;
    }
  };

  /**
   * A segment of a segmented request (clause 5.4.5): taken in order, acknowledged at the end of
   * each window (of at most {@linkcode SIM_WINDOW} segments) and after the last one, which
   * hands the reassembled request to `handleConfirmed`; out of order, a negative ACK of the
   * last one taken. A device without segmented receive aborts (segmentation-not-supported).
   */
  const receiveSegment = (
    d: ServedDevice,
    apdu: Uint8Array,
    h: ReturnType<typeof decodeConfirmed>,
    peer: Peer,
  ) => {
    const key = `${peerKey(peer)}#${h.invokeId}`;
    const seg = d.db.info.segmentation;
    if (seg !== 0 && seg !== 2) {
      incoming.delete(key);
      return void reply(abortPdu(h.invokeId, 4), peer, d);
    }
    const window = Math.max(1, Math.min(SIM_WINDOW, h.window));
    const ack = (seq: number, nak = false) => {
      d.segmentAcksOut++;
      sendApdu(segmentAck(h.invokeId, seq, window, { nak, server: true }), peer, d);
    };
    let t = incoming.get(key);
    if (h.sequence === 0) {
      t = { parts: [], bytes: 0, expected: 0, inWindow: 0, at: Date.now() };
      incoming.set(key, t);
    }
    if (!t) return void reply(abortPdu(h.invokeId, 0), peer, d); // other: no such transaction
    d.segmentsIn++;
    if (h.sequence !== (t.expected & 0xff)) {
      t.inWindow = 0;
      return ack((t.expected - 1) & 0xff, true);
    }
    const part = apdu.subarray(h.body);
    t.parts.push(part.slice());
    t.bytes += part.length;
    t.expected++;
    t.inWindow++;
    t.at = Date.now();
    if (t.bytes > 65536) {
      incoming.delete(key);
      return void reply(abortPdu(h.invokeId, 1), peer, d); // buffer-overflow
    }
    // The first segment is acknowledged alone: that ACK gives the client our window size.
    if (h.moreFollows && t.inWindow < window && t.expected > 1) return;
    t.inWindow = 0;
    ack(h.sequence);
    if (h.moreFollows) return;
    incoming.delete(key);
    const whole = new Uint8Array(4 + t.bytes);
    whole.set([0x02 & apdu[0]!, apdu[1]!, h.invokeId, h.service]);
    let at = 4;
    for (const p of t.parts) (whole.set(p, at), at += p.length);
    handleConfirmed(d, whole, peer);
  };

  const handleSegmentAck = (apdu: Uint8Array, peer: Peer, d: ServedDevice) => {
    const invoke = apdu[1]!;
    const key = `${peerKey(peer)}#${invoke}`;
    const t = segmenting.get(key);
    if (!t) return;
    const acked = apdu[2]!;
    const nak = (apdu[0]! & 0x02) !== 0;
    const next = nak ? acked + 1 : acked + 1;
    if (next >= t.segments.length) {
      segmenting.delete(key);
      return;
    }
    t.next = next;
    reply(
      complexAck(invoke, t.service, t.segments[next]!, {
        sequence: next,
        window: 1,
        more: next < t.segments.length - 1,
      }),
      peer,
      d,
    );
  };

  const iAm = (d: ServedDevice, peer: Peer) => {
    const i = d.db.info;
    reply(
      unconfirmedRequest(
        US.iAm,
        encodeIAm({
          device: i.instance,
          maxApdu: i.maxApdu,
          segmentation: i.segmentation,
          vendorId: i.vendorId,
        }),
      ),
      peer,
      d,
    );
  };

  socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
    try {
      const b = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      if (b[0] === 0x81 && b[1] === Bvlc.registerForeignDevice) {
        const ttl = (b[4]! << 8) | b[5]!;
        registrations.push({ host: rinfo.address, port: rinfo.port, ttl, at: Date.now() });
        socket.send(encodeBvlcResult(0), rinfo.port, rinfo.address);
        return;
      }
      const f = decodeFrame(b);
      if (f.networkMessage || f.apdu.length === 0) return;
      const peer: Peer = {
        host: rinfo.address,
        port: rinfo.port,
        ...(f.source ? { route: f.source } : {}),
      };
      const type = f.apdu[0]! >> 4;
      // Which devices the message is for: behind the router by DADR (empty: all), or the one device.
      let targets: ServedDevice[];
      if (o.network !== undefined) {
        const dest = f.destination;
        if (!dest || (dest.net !== o.network && dest.net !== 0xffff)) {
          if (type !== PduType.unconfirmedRequest) return;
          targets = dest ? [] : served; // a local broadcast reaches the router, which forwards it
        } else if (dest.mac.length === 0) targets = served;
        else {
          const s = byMac.get(dest.mac[0]!);
          targets = s ? [s] : [];
        }
      } else {
        if (f.destination && f.destination.net !== 0xffff) return;
        targets = served;
      }
      for (const d of targets) {
        if (d.faults.silent) continue;
        if (type === PduType.confirmedRequest) handleConfirmed(d, f.apdu, peer);
        else if (type === PduType.segmentAck) handleSegmentAck(f.apdu, peer, d);
        else if (type === PduType.unconfirmedRequest && f.apdu[1] === US.whoIs) {
          const r = decodeWhoIs(f.apdu, 2);
          const n = d.db.info.instance;
          if (r.low === undefined || (n >= r.low && n <= (r.high ?? r.low))) iAm(d, peer);
        }
      }
    } catch {
      // A malformed datagram: a device drops it.
    }
  });

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, t] of segmenting) if (now - t.at > 10_000) segmenting.delete(k);
    for (const [k, t] of incoming) if (now - t.at > 10_000) incoming.delete(k);
    for (const d of served) for (const [k, s] of d.subs) if (s.expires < now) d.subs.delete(k);
  }, 1000);

  const sim: BacnetSimulator = {
    host,
    port,
    network: o.network,
    served,
    registrations,
    device(instance) {
      const d = byInstance.get(instance);
      if (!d) throw new Error(`No simulated device ${instance}`);
      return d;
    },
    setValue(instance, object, value) {
      const d = sim.device(instance);
      const obj = d.db.get(object);
      if (obj.priority) obj.relinquishDefault = value;
      else obj.value = value;
      if (obj.priority) obj.priority.fill(null);
      checkCov(d, obj);
    },
    checkCov,
    restart(instance) {
      for (const d of instance === undefined ? served : [sim.device(instance)]) {
        const peers = new Map([...d.subs.values()].map((s) => [peerKey(s.peer), s.peer]));
        d.subs.clear();
        d.db.info.databaseRevision++;
        for (const p of peers.values()) iAm(d, p);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      await new Promise<void>((r) => socket.close(() => r()));
    },
    [Symbol.asyncDispose]() {
      return sim.close();
    },
  };
  return sim;
}

function flagsOf(o: SimObject): string {
  return `${o.reliability !== 0}${o.outOfService}`;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** An application value's number, for tests. */
export function appNumber(v: AppValue | undefined): number | boolean | undefined {
  return v && "value" in v && (typeof v.value === "number" || typeof v.value === "boolean")
    ? v.value
    : undefined;
}
