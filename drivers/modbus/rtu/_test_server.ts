/**
 * @module
 * A small RTU slave for the transport tests: frames requests with
 * {@linkcode RtuRequestReassembler}, answers them with the simulator's `handleRequest`,
 * and injects faults (silence, a corrupted CRC, responses dribbled byte by byte after
 * garbage). Serves any {@linkcode RtuStream}: a pty end or an accepted TCP connection.
 */

import { handleRequest } from "../simulator/handler.ts";
import { UnitMemory } from "../simulator/memory.ts";
import { encodeRtuFrame, type RtuFrame, RtuRequestReassembler } from "./frame.ts";
import type { RtuStream } from "./stream.ts";

/** Faults the test slave injects into its next responses. */
export interface SlaveFaults {
  /** Answer nothing. */
  silent: boolean;
  /** Flip a byte of the CRC. */
  corruptCrc: boolean;
  /** Send two garbage bytes, then the response one byte per write. */
  dribble: boolean;
}

/** A test slave's shared state: memories per unit id, faults, counters. */
export class TestSlave {
  readonly units = new Map<number, UnitMemory>();
  readonly faults: SlaveFaults = { silent: false, corruptCrc: false, dribble: false };
  requests = 0;
  broadcasts = 0;
  readonly #sessions = new Set<{ stream: RtuStream; done: Promise<void> }>();

  /** The memory of a unit (created on first use). */
  unit(id: number): UnitMemory {
    let m = this.units.get(id);
    if (!m) this.units.set(id, m = new UnitMemory());
    return m;
  }

  /** Serves one stream until it ends or {@linkcode close} is called. */
  serve(stream: RtuStream): void {
    const session = { stream, done: this.#loop(stream) };
    this.#sessions.add(session);
    session.done.finally(() => this.#sessions.delete(session));
  }

  async #loop(stream: RtuStream): Promise<void> {
    const reassembler = new RtuRequestReassembler();
    const buf = new Uint8Array(512);
    const out: Uint8Array[] = [];
    const onFrame = (f: RtuFrame) => {
      this.requests++;
      if (f.unitId === 0) {
        this.broadcasts++;
        for (const m of this.units.values()) handleRequest(m, f.pdu);
        return;
      }
      if (!this.units.has(f.unitId) || this.faults.silent) return;
      const frame = encodeRtuFrame(f.unitId, handleRequest(this.unit(f.unitId), f.pdu).response);
      if (this.faults.corruptCrc) frame[frame.length - 1]! ^= 0x5a;
      out.push(frame);
    };
    try {
      for (;;) {
        const n = await stream.read(buf);
        if (n === null) return;
        reassembler.push(buf.subarray(0, n), onFrame);
        for (const frame of out.splice(0)) await this.#send(stream, frame);
      }
    } catch {
      // The stream was closed under the read.
    }
  }

  async #send(stream: RtuStream, frame: Uint8Array): Promise<void> {
    if (!this.faults.dribble) {
      await stream.write(frame);
      return;
    }
    await stream.write(new Uint8Array([0xff, frame[0]!]));
    for (let i = 0; i < frame.length; i++) await stream.write(frame.subarray(i, i + 1));
  }

  /** Closes every stream being served. */
  async close(): Promise<void> {
    const sessions = [...this.#sessions];
    for (const s of sessions) {
      try {
        s.stream.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(sessions.map((s) => s.done));
  }
}

/** An RTU-over-TCP test slave on 127.0.0.1, port 0. */
export function listenRtuTcp(
  slave: TestSlave,
): { port: number; close(): Promise<void>; [Symbol.asyncDispose](): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    try {
      for await (const conn of listener) slave.serve(conn);
    } catch {
      // Listener closed.
    }
  })();
  const close = async () => {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
    await accepting;
    await slave.close();
  };
  return { port: listener.addr.port, close, [Symbol.asyncDispose]: close };
}

export { canRun, type PtyPair, startPtyPair } from "./pty.ts";
