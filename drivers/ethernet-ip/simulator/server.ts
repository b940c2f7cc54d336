/**
 * @module
 * The Logix-like EtherNet/IP target (`bifrost sim ethernet-ip`): RegisterSession, ListIdentity
 * (TCP, and UDP for `discover`), SendRRData (UCMM, with Unconnected Send unwrapped), Forward
 * Open (standard and large), Forward Close and SendUnitData, over the CIP services of
 * `services.ts`. It listens on 127.0.0.1 port 0 by default, closes through `await using`,
 * and injects faults: CIP errors on tags, slow replies, silence, dropped connections,
 * refused (Large) Forward Open, refused browse.
 */

import dgram from "node:dgram";
import { CLASSES, encodeReply, forwardOpenReply, readForwardOpen, SERVICES } from "../core/cip.ts";
import { decodePath } from "../core/address.ts";
import {
  COMMANDS,
  encodeIdentity,
  frame,
  HEADER_SIZE,
  ITEMS,
  readCpf,
  readHeader,
  writeHeader,
} from "../core/encap.ts";
import { CipFaults, CipServices, type IdentityInfo } from "./services.ts";
import { type MemberSpec, type SimTag, type SimTagSpec, TagStore } from "./store.ts";
import { startGenerators } from "./generate.ts";

/** The content of a simulated controller (what a map file gives). */
export interface EipSimulatorMap {
  tags?: Record<string, SimTagSpec>;
  programs?: Record<string, Record<string, SimTagSpec>>;
  structures?: Record<string, Record<string, MemberSpec | string>>;
}

/** Options of {@linkcode startEipSimulator}. */
export interface EipSimulatorOptions {
  host?: string;
  port?: number;
  map?: EipSimulatorMap;
  identity?: Partial<IdentityInfo>;
  /** Also answer ListIdentity on UDP at the same port (discover). Default true. */
  udp?: boolean;
}

/** Faults a test or `--fault` switches on. */
export interface EipFaults extends CipFaults {
  /** Delay before each reply, ms. */
  delayMs: number;
  /** Answer nothing (connections stay open). */
  silent: boolean;
  /** Refuse every Forward Open (general status 0x01, extended 0x0113 out of connections). */
  refuseForwardOpen: boolean;
  /** Refuse Large Forward Open only ("Service not supported"), as older controllers do. */
  refuseLargeForwardOpen: boolean;
  /** Close every connection this often (ms; 0: never), a flaky link. */
  dropEveryMs: number;
  /** Connected replies with a CPF item longer than the frame (a broken target). */
  malformed: boolean;
  /** Connected replies on another connection id than the originator's (tests). */
  otherConnection: boolean;
  /** Connected replies under another session handle (tests). */
  otherSession: boolean;
}

/** A running simulator. */
export interface EipSimulator extends AsyncDisposable {
  host: string;
  port: number;
  store: TagStore;
  faults: EipFaults;
  /** Connections opened by Forward Open so far, with their negotiated sizes. */
  forwardOpens: { large: boolean; size: number }[];
  /** Requests served (CIP messages, a Multiple Service Packet counting one). */
  readonly requests: number;
  /** The tag paths of the last 1,000 Read Tag requests. */
  readonly reads: string[];
  /** Closes every client connection (a dropped link); the listener stays. */
  dropConnections(): void;
  close(): Promise<void>;
}

const DEFAULT_IDENTITY: IdentityInfo = {
  vendorId: 1,
  deviceType: 14,
  productCode: 166,
  revision: "33.011",
  serial: 0x00c0ffee,
  productName: "1756-L83E/B Bifrost Sim",
};

/** Loads a map into a store; `generated` receives the tags whose entry has a generator. */
export function storeFromMap(
  map: EipSimulatorMap,
  generated: { tag: SimTag; spec: SimTagSpec }[] = [],
): TagStore {
  const store = new TagStore(map.structures ?? {});
  const define = (name: string, spec: SimTagSpec, prog?: string) => {
    const tag = store.define(name, spec, prog);
    if ((spec as { generator?: unknown }).generator !== undefined) generated.push({ tag, spec });
  };
  for (const [name, spec] of Object.entries(map.tags ?? {})) define(name, spec);
  for (const [prog, tags] of Object.entries(map.programs ?? {})) {
    store.programs.set(prog, store.programs.get(prog) ?? new Map());
    for (const [name, spec] of Object.entries(tags)) define(name, spec, prog);
  }
  return store;
}

/** Starts a simulated Logix controller. */
export async function startEipSimulator(o: EipSimulatorOptions = {}): Promise<EipSimulator> {
  const host = o.host ?? "127.0.0.1";
  const generated: { tag: SimTag; spec: SimTagSpec }[] = [];
  const store = storeFromMap(o.map ?? {}, generated);
  const stopGenerators = startGenerators(generated);
  const identity = { ...DEFAULT_IDENTITY, ...o.identity };
  const faults: EipFaults = {
    tagErrors: new Map(),
    noBrowse: false,
    delayMs: 0,
    silent: false,
    refuseForwardOpen: false,
    refuseLargeForwardOpen: false,
    dropEveryMs: 0,
    malformed: false,
    otherConnection: false,
    otherSession: false,
  };
  let lastDrop = Date.now();
  const dropper = setInterval(() => {
    if (faults.dropEveryMs > 0 && Date.now() - lastDrop >= faults.dropEveryMs) {
      lastDrop = Date.now();
      sim.dropConnections();
    }
  }, 100);
  Deno.unrefTimer(dropper as unknown as number);
  const services = new CipServices(store, faults, identity);
  const listener = Deno.listen({ hostname: host, port: o.port ?? 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns = new Set<Deno.Conn>();
  const forwardOpens: { large: boolean; size: number }[] = [];
  let requests = 0;
  let nextSession = 0x1000;
  let nextConnection = 0x10000;

  const ident = (): IdentityInfo & { address: string; state: number; status: number } => ({
    ...identity,
    address: host === "0.0.0.0" ? "127.0.0.1" : host,
    state: 3,
    status: 0x0060,
  });

  let udp: dgram.Socket | undefined;
  if (o.udp !== false) {
    udp = dgram.createSocket({ type: "udp4", reuseAddr: true });
    udp.on("message", (msg, rinfo) => {
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.length);
      if (bytes.length < HEADER_SIZE) return;
      const h = readHeader(bytes);
      if (h.command !== COMMANDS.LIST_IDENTITY || faults.silent) return;
      udp!.send(listIdentityReply(h.context[0]), rinfo.port, rinfo.address);
    });
    udp.on("error", () => {});
    await new Promise<void>((resolve) => udp!.bind(port, host, resolve));
  }

  function listIdentityReply(context: number): Uint8Array {
    const body = encodeIdentity({ ...ident() }, port);
    return frame(COMMANDS.LIST_IDENTITY, 0, body, context);
  }

  async function serve(conn: Deno.Conn): Promise<void> {
    conns.add(conn);
    let session = 0;
    // Connections of this TCP link: O->T id -> negotiated size.
    const connections = new Map<number, { toId: number; size: number }>();
    let buf = new Uint8Array(8192);
    let have = 0;
    try {
      for (;;) {
        if (have === buf.length) {
          const bigger = new Uint8Array(buf.length * 2);
          bigger.set(buf);
          buf = bigger;
        }
        const n = await conn.read(buf.subarray(have));
        if (n === null) return;
        have += n;
        let at = 0;
        while (have - at >= HEADER_SIZE) {
          const len = buf[at + 2]! | (buf[at + 3]! << 8);
          if (have - at < HEADER_SIZE + len) break;
          const f = buf.slice(at, at + HEADER_SIZE + len);
          at += HEADER_SIZE + len;
          const reply = answer(f);
          if (!reply || faults.silent) continue;
          if (faults.malformed && reply[0] === COMMANDS.SEND_UNIT_DATA) {
            // A connected reply whose CPF claims a data item longer than the frame.
            reply[HEADER_SIZE + 18] = 0xff;
            reply[HEADER_SIZE + 19] = 0x7f;
          }
          if (reply[0] === COMMANDS.SEND_UNIT_DATA) {
            if (faults.otherConnection) reply[HEADER_SIZE + 12] = reply[HEADER_SIZE + 12]! ^ 1;
            if (faults.otherSession) reply[4] = reply[4]! ^ 1;
          }
          if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
          await conn.write(reply);
        }
        buf.copyWithin(0, at, have);
        have -= at;
      }
    } catch {
      // A dropped connection ends its loop.
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed already */ }
    }

    function answer(f: Uint8Array): Uint8Array | undefined {
      const h = readHeader(f);
      const data = f.subarray(HEADER_SIZE);
      switch (h.command) {
        case COMMANDS.REGISTER_SESSION:
          session = nextSession++;
          return frame(COMMANDS.REGISTER_SESSION, session, data.slice(0, 4), h.context[0]);
        case COMMANDS.UNREGISTER_SESSION:
          session = 0;
          return undefined;
        case COMMANDS.LIST_IDENTITY:
          return listIdentityReply(h.context[0]);
        case COMMANDS.NOP:
          return undefined;
        case COMMANDS.SEND_RR_DATA:
        case COMMANDS.SEND_UNIT_DATA: {
          if (h.session !== session || session === 0) {
            const out = frame(h.command, h.session, new Uint8Array(0), h.context[0]);
            writeHeader(out, h.command, 0, h.session, h.context[0], 0x64);
            return out;
          }
          requests++;
          return h.command === COMMANDS.SEND_RR_DATA ? rrData(data, h.context[0]) : unitData(data);
        }
        default: {
          const out = frame(h.command, h.session, new Uint8Array(0), h.context[0]);
          writeHeader(out, h.command, 0, h.session, h.context[0], 0x01);
          return out;
        }
      }
    }

    function rrData(data: Uint8Array, context: number): Uint8Array {
      const items = readCpf(data);
      const msg = items.find((i) => i.type === ITEMS.UNCONNECTED_DATA)?.data ?? new Uint8Array(0);
      const reply = unconnected(msg);
      const body = new Uint8Array(16 + reply.length);
      const v = new DataView(body.buffer);
      v.setUint16(6, 2, true);
      v.setUint16(12, ITEMS.UNCONNECTED_DATA, true);
      v.setUint16(14, reply.length, true);
      body.set(reply, 16);
      return frame(COMMANDS.SEND_RR_DATA, session, body, context);
    }

    function unconnected(msg: Uint8Array): Uint8Array {
      const service = msg[0]!;
      const path = decodePath(msg.subarray(2, 2 + msg[1]! * 2));
      const toCm = path.names.length === 0 && path.logical[0] === CLASSES.CONNECTION_MANAGER;
      const data = msg.subarray(2 + msg[1]! * 2);
      if (toCm && service === SERVICES.UNCONNECTED_SEND) {
        const len = data[2]! | (data[3]! << 8);
        return services.handle(data.subarray(4, 4 + len), 504);
      }
      if (toCm && (service === SERVICES.FORWARD_OPEN || service === SERVICES.LARGE_FORWARD_OPEN)) {
        const large = service === SERVICES.LARGE_FORWARD_OPEN;
        if (large && faults.refuseLargeForwardOpen) return encodeReply(service, 0x08);
        if (faults.refuseForwardOpen) return encodeReply(service, 0x01, undefined, [0x0113, 0]);
        const fo = readForwardOpen(data, large);
        if (fo.size > (large ? 4002 : 504)) {
          return encodeReply(service, 0x01, undefined, [0x0109, 0]);
        }
        const otId = nextConnection++;
        connections.set(otId, { toId: fo.toConnectionId, size: fo.size });
        forwardOpens.push({ large, size: fo.size });
        return encodeReply(
          service,
          0,
          forwardOpenReply(otId, fo.toConnectionId, fo.triad, 2_000_000),
        );
      }
      if (toCm && service === SERVICES.FORWARD_CLOSE) {
        connections.clear();
        // Triad, then application reply size and a reserved byte (Wireshark caught the lack).
        return encodeReply(service, 0, new Uint8Array([...data.subarray(2, 10), 0, 0]));
      }
      return services.handle(msg, 504);
    }

    function unitData(data: Uint8Array): Uint8Array | undefined {
      const items = readCpf(data);
      const addr = items.find((i) => i.type === ITEMS.CONNECTED_ADDRESS);
      const item = items.find((i) => i.type === ITEMS.CONNECTED_DATA);
      if (!addr || !item || addr.data.length < 4) return undefined;
      const id = new DataView(addr.data.buffer, addr.data.byteOffset, 4).getUint32(0, true);
      const c = connections.get(id);
      if (!c) return undefined; // an unknown connection: a Logix drops the packet
      const seq = item.data[0]! | (item.data[1]! << 8);
      const reply = services.handle(item.data.subarray(2), c.size);
      const out = new Uint8Array(HEADER_SIZE + 22 + reply.length);
      writeHeader(out, COMMANDS.SEND_UNIT_DATA, 22 + reply.length, session);
      const v = new DataView(out.buffer, HEADER_SIZE);
      v.setUint16(6, 2, true);
      v.setUint16(8, ITEMS.CONNECTED_ADDRESS, true);
      v.setUint16(10, 4, true);
      v.setUint32(12, c.toId, true);
      v.setUint16(16, ITEMS.CONNECTED_DATA, true);
      v.setUint16(18, reply.length + 2, true);
      v.setUint16(20, seq, true);
      out.set(reply, HEADER_SIZE + 22);
      return out;
    }
  }

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conn.setNoDelay(true);
        void serve(conn);
      }
    } catch {
      // The listener closed.
    }
  })();

  let closed = false;
  const sim: EipSimulator = {
    host,
    port,
    store,
    faults,
    forwardOpens,
    get requests() {
      return requests;
    },
    reads: services.reads,
    dropConnections() {
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
      conns.clear();
    },
    async close() {
      if (closed) return;
      closed = true;
      stopGenerators();
      clearInterval(dropper);
      listener.close();
      sim.dropConnections();
      await accepting;
      if (udp) await new Promise<void>((r) => udp!.close(() => r()));
    },
    [Symbol.asyncDispose]: () => sim.close(),
  };
  return sim;
}
