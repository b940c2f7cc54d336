/**
 * @module
 * A BACnet/IP port: one UDP socket shared by every device of the gateway that binds the same
 * local address and port (BACnet devices answer the port a request came from, and a real
 * site has one BACnet port per gateway). It numbers confirmed requests per peer (invoke
 * ids), matches replies, reassembles segmented ACKs (acknowledging each segment), answers
 * confirmed COV notifications, collects I-Am, and registers as a foreign device with a BBMD,
 * renewing before the time-to-live ends.
 *
 * Ports are reference-counted by {@linkcode openPort}; the last `release()` closes the socket.
 */

import dgram from "node:dgram";
import {
  Bvlc,
  decodeFrame,
  encodeFrame,
  encodeRegisterForeignDevice,
  type Frame,
  PduType,
  type RemoteAddress,
  segmentAck,
  simpleAck,
  unconfirmedRequest,
} from "../core/frame.ts";
import { ConfirmedService, UnconfirmedService } from "../core/enums.ts";
import {
  type CovNotification,
  decodeCovNotification,
  decodeError,
  decodeIAm,
  encodeWhoIs,
  type IAm,
} from "../core/services.ts";
import { confirmedRequest } from "../core/frame.ts";

/** Where a device is: an IP address and UDP port, and its network behind a router. */
export interface Peer {
  host: string;
  port: number;
  /** DNET/DADR of a device behind a BACnet router at host:port. */
  route?: RemoteAddress;
}

/** The text key of a peer (`10.0.0.5:47808`, `10.0.0.5:47808/5:0a`). */
export function peerKey(p: Peer): string {
  const r = p.route ? `/${p.route.net}:${hex(p.route.mac)}` : "";
  return `${p.host}:${p.port}${r}`;
}

/** Lowercase hex of bytes. */
export function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Why a confirmed request failed, as the device said it. */
export class BacnetReplyError extends Error {
  constructor(
    readonly kind: "error" | "reject" | "abort",
    readonly cls: number,
    readonly code: number,
  ) {
    super(`BACnet ${kind} ${cls}/${code}`);
  }
}

/** A request that got no (complete) reply in time. */
export class BacnetTimeoutError extends Error {}

/** A request longer than the device's max APDU, to a device that takes no segmented requests. */
export class BacnetTooLargeError extends Error {}

/**
 * Confirmed requests in flight at once per port by default: 100 devices polled at once
 * answer in one burst that overflows the socket's receive buffer (the replies of RPM are
 * about 1.4 kB each); 32 keep within it (see the README's benchmark).
 */
export const DEFAULT_MAX_IN_FLIGHT = 32;

/** Segments of a request sent before waiting for a Segment-ACK (the proposed window size). */
export const PROPOSED_WINDOW = 16;

/** Options of {@linkcode BacnetPort.request}. */
export interface RequestOptions {
  /** The whole request, retries included. */
  timeoutMs: number;
  /** One attempt (default: timeoutMs). */
  apduTimeoutMs?: number;
  /** Retransmissions after an APDU timeout (default 0). */
  retries?: number;
  signal?: AbortSignal;
  /** The max APDU we accept (for the reply). */
  maxApdu?: number;
  /** The device's max APDU: a longer request is segmented (default 1476). */
  peerMaxApdu?: number;
  /** The device's segmentation support (0 both, 1 transmit, 2 receive, 3 none). */
  peerSegmentation?: number;
}

/** A complete confirmed reply: a simple ACK (empty body) or a complex ACK's service data. */
export interface Reply {
  service: number;
  body: Uint8Array;
}

interface Pending {
  resolve(r: Reply): void;
  reject(e: Error): void;
  /** When the current attempt (or the next segment) times out, `performance.now()` ms. */
  deadline: number;
  /** When the whole request times out, retries included, `performance.now()` ms. */
  end: number;
  /** What the timeout says. */
  late: string;
  /** APDU timeout: how long one attempt (or one segment) waits. */
  apduMs: number;
  /** Retransmissions left (same invoke id). */
  retriesLeft: number;
  /** The request's frame, sent again on a retry (the first segment's when segmented). */
  frame: Uint8Array;
  /** A segmented request: every segment's frame, the last acknowledged and the next to send. */
  out?: { frames: Uint8Array[]; acked: number; sent: number; window: number };
  peer: Peer;
  segments: Uint8Array[];
  nextSeq: number;
}

/** A device found by Who-Is. */
export interface Found extends IAm {
  peer: Peer;
}

/** Options of {@linkcode openPort}. */
export interface PortOptions {
  /** Local address to bind (default 0.0.0.0). */
  address?: string;
  /** Local UDP port (0: any free port). */
  port: number;
  /** Where broadcasts go (default 255.255.255.255). */
  broadcast?: string;
}

/** The BACnet/IP port of the gateway. */
export class BacnetPort {
  readonly socket: dgram.Socket;
  /** The bound UDP port. */
  localPort = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly nextInvoke = new Map<string, number>();
  private readonly iAmListeners = new Set<(f: Found) => void>();
  private readonly covListeners = new Map<number, (n: CovNotification, from: Peer) => void>();
  private nextProcess = 1;
  private refs = 0;
  private bbmd:
    | { host: string; port: number; ttl: number; timer?: ReturnType<typeof setTimeout> }
    | undefined;
  private bbmdWaiter: ((code: number) => void) | undefined;
  /** Datagrams that did not decode, for diagnostics. */
  malformed = 0;

  constructor(readonly options: PortOptions) {
    this.socket = dgram.createSocket({ type: "udp4", reuseAddr: false });
    this.socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
      try {
        this.onDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), rinfo);
      } catch {
        this.malformed++;
      }
    });
    this.socket.on("error", () => {});
  }

  /** Binds the socket. */
  async bind(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.socket.once("error", onError);
      this.socket.bind(this.options.port, this.options.address ?? "0.0.0.0", () => {
        this.socket.off("error", onError);
        resolve();
      });
    });
    this.socket.setBroadcast(true);
    // No setRecvBufferSize: under Deno 2.9.6 it makes every receive on the socket about
    // 0.6 ms slower (measured: ReadProperty round trip 48 us without, 760 us with).
    this.localPort = this.socket.address().port;
  }

  /** Sends raw bytes to host:port. */
  send(bytes: Uint8Array, host: string, port: number): void {
    this.socket.send(bytes, port, host);
  }

  /** Requests sent again after an APDU timeout (same invoke id). */
  retransmits = 0;

  /** Confirmed requests sent and not yet answered. */
  private active = 0;
  private readonly queue: { go(): void; fail(e: Error): void }[] = [];
  /** Most confirmed requests in flight at once over this port; the others wait their turn. */
  maxInFlight = DEFAULT_MAX_IN_FLIGHT;
  /** The most requests that waited for a turn at once, for diagnostics. */
  queuedPeak = 0;

  /**
   * Sends a confirmed request and resolves with the (reassembled) reply. An attempt that gets
   * no reply within `apduTimeoutMs` (default: `timeoutMs`) is sent again with the same invoke
   * id, at most `retries` times (clause 5.4.4's APDU_Timeout and Number_Of_APDU_Retries);
   * `timeoutMs` caps the whole request. A reply to an earlier attempt completes the request,
   * and the duplicate replies that follow find nothing pending and are dropped.
   */
  request(
    peer: Peer,
    service: number,
    body: Uint8Array,
    o: RequestOptions,
  ): Promise<Reply> {
    if (this.active < this.maxInFlight) return this.started(peer, service, body, o);
    return new Promise<Reply>((resolve, reject) => {
      const onAbort = () => {
        const k = this.queue.indexOf(entry);
        if (k >= 0) this.queue.splice(k, 1);
        reject(o.signal!.reason ?? new Error("aborted"));
      };
      const entry = {
        go: () => {
          o.signal?.removeEventListener("abort", onAbort);
          this.started(peer, service, body, o).then(resolve, reject);
        },
        fail: (e: Error) => {
          o.signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener("abort", onAbort, { once: true });
      this.queue.push(entry);
      this.queuedPeak = Math.max(this.queuedPeak, this.queue.length);
    });
  }

  private started(
    peer: Peer,
    service: number,
    body: Uint8Array,
    o: RequestOptions,
  ): Promise<Reply> {
    this.active++;
    return this.transact(peer, service, body, o).finally(() => {
      this.active--;
      this.queue.shift()?.go();
    });
  }

  private transact(
    peer: Peer,
    service: number,
    body: Uint8Array,
    o: RequestOptions,
  ): Promise<Reply> {
    const key = peerKey(peer);
    let invoke = this.nextInvoke.get(key) ?? 0;
    let tries = 0;
    while (this.pending.has(`${key}#${invoke}`)) {
      invoke = (invoke + 1) & 0xff;
      if (++tries > 256) {
        return Promise.reject(new Error(`256 requests already in flight to ${key}`));
      }
    }
    this.nextInvoke.set(key, (invoke + 1) & 0xff);
    const id = `${key}#${invoke}`;
    const route = peer.route ? { destination: peer.route } : {};
    const maxApdu = o.maxApdu ?? 1476;
    let frame: Uint8Array;
    let out: Pending["out"];
    const limit = o.peerMaxApdu ?? 1476;
    if (4 + body.length <= limit) {
      frame = encodeFrame(confirmedRequest(invoke, service, body, { maxApdu }), {
        expectingReply: true,
        ...route,
      });
    } else {
      // Clause 5.2.1: a request over the device's max APDU goes in segments when the device
      // can receive them (segmentation both or receive), else it cannot be sent at all.
      if (o.peerSegmentation !== 0 && o.peerSegmentation !== 2) {
        return Promise.reject(
          new BacnetTooLargeError(
            `The request of ${
              4 + body.length
            } bytes exceeds the max APDU of ${limit} bytes of ${key}, which does not accept segmented requests`,
          ),
        );
      }
      const size = limit - 6;
      const count = Math.ceil(body.length / size);
      const frames = Array.from({ length: count }, (_, i) =>
        encodeFrame(
          confirmedRequest(invoke, service, body.subarray(i * size, (i + 1) * size), {
            maxApdu,
            segment: { sequence: i, window: PROPOSED_WINDOW, more: i < count - 1 },
          }),
          { expectingReply: true, ...route },
        ));
      frame = frames[0]!;
      // The first segment goes alone: the device's Segment-ACK gives its window size.
      out = { frames, acked: -1, sent: 1, window: 1 };
    }
    const apduMs = Math.min(o.apduTimeoutMs ?? o.timeoutMs, o.timeoutMs);
    const retries = Math.max(0, o.retries ?? 0);
    const now = performance.now();
    return new Promise<Reply>((resolve, reject) => {
      const done = () => {
        this.pending.delete(id);
        o.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(o.signal!.reason ?? new Error("aborted"));
      };
      const p: Pending = {
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        deadline: now + apduMs,
        end: now + o.timeoutMs,
        late: retries > 0
          ? `No reply from ${key} within ${o.timeoutMs} ms (${retries} retries every ${apduMs} ms)`
          : `No reply from ${key} within ${o.timeoutMs} ms`,
        apduMs,
        retriesLeft: retries,
        frame,
        ...(out ? { out } : {}),
        peer,
        segments: [],
        nextSeq: 0,
      };
      if (o.signal?.aborted) return onAbort();
      this.sweep(apduMs);
      o.signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, p);
      this.send(frame, peer.host, peer.port);
    });
  }

  private sweeper: ReturnType<typeof setInterval> | undefined;
  private sweepMs = 0;

  /**
   * Times requests out from one interval timer per port (a timer per request costs more
   * than the request on loopback); its period is a tenth of the shortest timeout, at most
   * 50 ms, and it stops when nothing is pending.
   */
  private sweep(timeoutMs: number): void {
    const period = Math.max(5, Math.min(50, Math.floor(timeoutMs / 10)));
    if (this.sweeper !== undefined && period >= this.sweepMs) return;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweepMs = period;
    this.sweeper = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
        return;
      }
      const now = performance.now();
      for (const p of [...this.pending.values()]) {
        if (p.deadline > now) continue;
        if (p.end > now && p.retriesLeft > 0 && p.segments.length === 0) {
          p.retriesLeft--;
          p.deadline = Math.min(now + p.apduMs, p.end);
          this.retransmits++;
          if (p.out && p.out.acked >= 0 && p.out.acked < p.out.frames.length - 1) {
            // Segments unacknowledged: the window again, from the last one acknowledged.
            p.out.sent = p.out.acked + 1;
            this.sendWindow(p);
          } else {
            // Not started, or every segment taken and the reply lost: the whole request again.
            if (p.out) Object.assign(p.out, { acked: -1, sent: 1, window: 1 });
            this.send(p.frame, p.peer.host, p.peer.port);
          }
        } else {
          p.reject(new BacnetTimeoutError(p.late));
        }
      }
    }, period);
  }

  /** Sends the next window of a segmented request's segments, after the last acknowledged. */
  private sendWindow(p: Pending): void {
    const o = p.out!;
    const end = Math.min(o.frames.length, o.acked + 1 + o.window);
    for (; o.sent < end; o.sent++) this.send(o.frames[o.sent]!, p.peer.host, p.peer.port);
  }

  /** Sends an unconfirmed request to a peer, or broadcasts it (through the BBMD when registered). */
  unconfirmed(service: number, body: Uint8Array, peer?: Peer): void {
    const apdu = unconfirmedRequest(service, body);
    if (peer) {
      this.send(
        encodeFrame(apdu, peer.route ? { destination: peer.route } : {}),
        peer.host,
        peer.port,
      );
      return;
    }
    if (this.bbmd) {
      const f = encodeFrame(apdu, {});
      f[1] = Bvlc.distributeBroadcastToNetwork;
      this.send(f, this.bbmd.host, this.bbmd.port);
      return;
    }
    this.send(
      encodeFrame(apdu, { broadcast: true }),
      this.options.broadcast ?? "255.255.255.255",
      47808,
    );
  }

  /**
   * Sends Who-Is (to `target`, or broadcast; on `network` when given: DNET with an empty
   * DADR) and collects I-Am for `waitMs`, or until `stopWhen` says enough.
   */
  async whoIs(o: {
    low?: number;
    high?: number;
    target?: Peer;
    network?: number;
    broadcastPort?: number;
    waitMs: number;
    signal?: AbortSignal;
    stopWhen?: (found: Found[]) => boolean;
  }): Promise<Found[]> {
    const found: Found[] = [];
    const seen = new Set<string>();
    let finish = () => {};
    const listener = (f: Found) => {
      if (o.low !== undefined && (f.device < o.low || f.device > (o.high ?? o.low))) return;
      const k = `${f.device}@${peerKey(f.peer)}`;
      if (seen.has(k)) return;
      seen.add(k);
      found.push(f);
      if (o.stopWhen?.(found)) finish();
    };
    this.iAmListeners.add(listener);
    try {
      const body = encodeWhoIs(o.low, o.high);
      const apdu = unconfirmedRequest(UnconfirmedService.whoIs, body);
      const route = o.network === undefined
        ? undefined
        : { net: o.network, mac: new Uint8Array(0) };
      if (o.target) {
        const dest = o.target.route ?? route;
        this.send(
          encodeFrame(apdu, dest ? { destination: dest } : {}),
          o.target.host,
          o.target.port,
        );
      } else if (this.bbmd) {
        const f = encodeFrame(apdu, route ? { destination: route } : {});
        f[1] = Bvlc.distributeBroadcastToNetwork;
        this.send(f, this.bbmd.host, this.bbmd.port);
      } else {
        this.send(
          encodeFrame(apdu, { broadcast: true, ...(route ? { destination: route } : {}) }),
          this.options.broadcast ?? "255.255.255.255",
          o.broadcastPort ?? 47808,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.waitMs);
        const abort = () => {
          clearTimeout(t);
          resolve();
        };
        finish = abort;
        o.signal?.addEventListener("abort", abort, { once: true });
        if (o.stopWhen?.(found)) abort();
      });
      return found;
    } finally {
      this.iAmListeners.delete(listener);
    }
  }

  /** Listens to every I-Am (a device announcing itself after a restart); returns the undo. */
  onIAm(f: (found: Found) => void): () => void {
    this.iAmListeners.add(f);
    return () => this.iAmListeners.delete(f);
  }

  /** A new subscriber process id whose COV notifications go to `f`. */
  addCovListener(f: (n: CovNotification, from: Peer) => void): number {
    while (this.covListeners.has(this.nextProcess)) {
      this.nextProcess = (this.nextProcess % 0x3fffff) + 1;
    }
    const id = this.nextProcess;
    this.nextProcess = (this.nextProcess % 0x3fffff) + 1;
    this.covListeners.set(id, f);
    return id;
  }

  removeCovListener(id: number): void {
    this.covListeners.delete(id);
  }

  /**
   * Registers with a BBMD as a foreign device for `ttlSeconds`, and renews the registration
   * at half its time-to-live (J.5.2.3 allows 30 s of grace; renewing at half keeps one lost
   * renewal harmless). Throws when the BBMD refuses or does not answer.
   */
  async registerForeignDevice(host: string, port: number, ttlSeconds: number, timeoutMs: number) {
    this.bbmd = { host, port, ttl: ttlSeconds };
    await this.sendRegistration(timeoutMs);
    const renew = async () => {
      if (!this.bbmd) return;
      try {
        await this.sendRegistration(timeoutMs);
      } catch {
        // The next renewal tries again; the registration holds for its grace period.
      }
      if (this.bbmd) this.bbmd.timer = setTimeout(renew, ttlSeconds * 500);
    };
    this.bbmd.timer = setTimeout(renew, ttlSeconds * 500);
  }

  /** Registrations sent to the BBMD (first and renewals). */
  registrations = 0;

  private async sendRegistration(timeoutMs: number): Promise<void> {
    const b = this.bbmd!;
    this.registrations++;
    const code = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => {
        this.bbmdWaiter = undefined;
        reject(
          new BacnetTimeoutError(
            `No BVLC-Result from BBMD ${b.host}:${b.port} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.bbmdWaiter = (c) => {
        clearTimeout(t);
        this.bbmdWaiter = undefined;
        resolve(c);
      };
      this.send(encodeRegisterForeignDevice(b.ttl), b.host, b.port);
    });
    if (code !== 0) {
      throw new Error(
        `BBMD ${b.host}:${b.port} refused the foreign-device registration (BVLC-Result 0x${
          code.toString(16)
        })`,
      );
    }
  }

  private onDatagram(b: Uint8Array, rinfo: dgram.RemoteInfo): void {
    const f = decodeFrame(b);
    if (f.bvlc === Bvlc.result) {
      this.bbmdWaiter?.(f.resultCode ?? 0);
      return;
    }
    if (f.networkMessage || f.apdu.length === 0) return;
    let host = rinfo.address;
    let port = rinfo.port;
    if (f.forwardedFrom) {
      const i = f.forwardedFrom.lastIndexOf(":");
      host = f.forwardedFrom.slice(0, i);
      port = Number(f.forwardedFrom.slice(i + 1));
    }
    const peer: Peer = { host, port, ...(f.source ? { route: f.source } : {}) };
    this.onApdu(f, peer);
  }

  private onApdu(f: Frame, peer: Peer): void {
    const a = f.apdu;
    const type = a[0]! >> 4;
    if (type === PduType.unconfirmedRequest) {
      const service = a[1];
      if (service === UnconfirmedService.iAm) {
        const i = decodeIAm(a, 2);
        for (const l of this.iAmListeners) l({ ...i, peer });
      } else if (service === UnconfirmedService.unconfirmedCovNotification) {
        const n = decodeCovNotification(a, 2);
        this.covListeners.get(n.processId)?.(n, peer);
      }
      return;
    }
    if (type === PduType.confirmedRequest) {
      // The only confirmed request a client takes: a confirmed COV notification.
      const invoke = a[2]!;
      const service = a[3];
      if (service === ConfirmedService.confirmedCovNotification && (a[0]! & 0x08) === 0) {
        const n = decodeCovNotification(a, 4);
        const ack = encodeFrame(
          simpleAck(invoke, service),
          peer.route ? { destination: peer.route } : {},
        );
        this.send(ack, peer.host, peer.port);
        this.covListeners.get(n.processId)?.(n, peer);
      }
      return;
    }
    const invoke = a[1]!;
    const p = this.pending.get(`${peerKey(peer)}#${invoke}`);
    if (!p) return;
    switch (type) {
      case PduType.segmentAck: {
        const o = p.out;
        if (!o || (a[0]! & 0x01) === 0) return;
        // The absolute index of the acknowledged sequence number, among those sent.
        const seq = a[2]!;
        let idx = -1;
        for (let i = o.sent - 1; i > o.acked && i >= o.sent - 256; i--) {
          if ((i & 0xff) === seq) {
            idx = i;
            break;
          }
        }
        if (idx < 0) return; // a duplicate of an older ACK
        o.acked = idx;
        o.window = Math.max(1, Math.min(127, a[3]!));
        // A negative ACK (or an ACK short of what was sent) asks again from the next segment.
        o.sent = idx + 1;
        p.deadline = Math.min(performance.now() + p.apduMs, p.end);
        this.sendWindow(p);
        return;
      }
      case PduType.simpleAck:
        p.resolve({ service: a[2]!, body: new Uint8Array(0) });
        return;
      case PduType.complexAck: {
        const segmented = (a[0]! & 0x08) !== 0;
        if (!segmented) {
          p.resolve({ service: a[2]!, body: a.subarray(3) });
          return;
        }
        const seq = a[2]!;
        const window = a[3]!;
        const more = (a[0]! & 0x04) !== 0;
        const route = peer.route ? { destination: peer.route } : {};
        if (p.segments.length > 0 && ((p.nextSeq - 1 - seq) & 0xff) < window) {
          // A segment already taken (the reply to a retransmitted request, or a resent one).
          return;
        }
        if (seq !== (p.nextSeq & 0xff)) {
          // Out of order: ask again from the last segment received (a negative ACK).
          const last = (p.nextSeq - 1) & 0xff;
          this.send(
            encodeFrame(segmentAck(invoke, last, window, { nak: true }), route),
            peer.host,
            peer.port,
          );
          return;
        }
        p.segments.push(a.slice(5));
        p.nextSeq++;
        this.send(encodeFrame(segmentAck(invoke, seq, window), route), peer.host, peer.port);
        if (!more) {
          const total = p.segments.reduce((n, s) => n + s.length, 0);
          const body = new Uint8Array(total);
          let o = 0;
          for (const s of p.segments) {
            body.set(s, o);
            o += s.length;
          }
          p.resolve({ service: a[4]!, body });
          return;
        }
        p.deadline = Math.min(performance.now() + p.apduMs, p.end);
        p.late = `Segment ${p.nextSeq} from ${peerKey(peer)} did not come within ${p.apduMs} ms`;
        return;
      }
      case PduType.error: {
        const e = decodeError(a, 3);
        p.reject(new BacnetReplyError("error", e.cls, e.code));
        return;
      }
      case PduType.reject:
        p.reject(new BacnetReplyError("reject", 0, a[2] ?? 0));
        return;
      case PduType.abort:
        p.reject(new BacnetReplyError("abort", 0, a[2] ?? 0));
        return;
    }
  }

  /** Takes a reference (see {@linkcode openPort}). */
  retain(): void {
    this.refs++;
  }

  /** Drops a reference; the last one closes the socket. */
  release(): void {
    if (--this.refs > 0) return;
    portRegistry.delete(portKey(this.options));
    this.close();
  }

  /** Closes the socket and fails every pending request. */
  close(): void {
    if (this.bbmd?.timer) clearTimeout(this.bbmd.timer);
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.bbmd = undefined;
    for (const q of this.queue.splice(0)) q.fail(new Error("The BACnet port was closed"));
    for (const p of [...this.pending.values()]) p.reject(new Error("The BACnet port was closed"));
    try {
      this.socket.close();
    } catch {
      // Already closed.
    }
  }
}

const portRegistry = new Map<string, Promise<BacnetPort>>();
const portKey = (o: PortOptions) => `${o.address ?? "0.0.0.0"}:${o.port}`;

/**
 * The shared port bound to `o.address:o.port` (a new one for port 0), with a reference taken:
 * call `release()` when done.
 */
export async function openPort(o: PortOptions): Promise<BacnetPort> {
  if (o.port === 0) {
    const p = new BacnetPort(o);
    await p.bind();
    p.retain();
    return p;
  }
  const key = portKey(o);
  let p = portRegistry.get(key);
  if (!p) {
    const port = new BacnetPort(o);
    p = port.bind().then(() => port);
    portRegistry.set(key, p);
    p.catch(() => portRegistry.delete(key));
  }
  const port = await p;
  port.retain();
  return port;
}
