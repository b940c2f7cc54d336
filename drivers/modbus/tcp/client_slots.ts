/**
 * @module
 * The requests a {@linkcode ModbusTcpClient} has on the wire: a ring of reusable slots, the
 * slot of transaction id `t` being `t & mask`. An id whose slot is busy is skipped, so the
 * request of an answer is one index away, and a request allocates nothing but its promise:
 * each slot owns its share of one ADU buffer, into which the header and PDU are written.
 */

import { MBAP_LENGTH } from "../core/pdu.ts";

/** Largest Modbus PDU. */
export const MAX_PDU = 253;
const ADU_BYTES = MBAP_LENGTH + MAX_PDU;
/** A shared empty array (an ArrayBuffer costs about 1 µs to create under Deno 2.9). */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** Resolves a request with its response PDU. */
export type Resolve = (pdu: Uint8Array) => void;
/** Rejects a request. */
export type Reject = (e: unknown) => void;

/** The resolving functions of the last {@linkcode newRequestPromise}. */
export const captured: { resolve: Resolve; reject: Reject } = {
  resolve: () => {},
  reject: () => {},
};
const capture = (resolve: Resolve, reject: Reject) => {
  captured.resolve = resolve;
  captured.reject = reject;
};

/**
 * A new promise whose resolving functions are left in {@linkcode captured} (read them at
 * once): no executor closure per request.
 */
export function newRequestPromise(): Promise<Uint8Array> {
  return new Promise<Uint8Array>(capture);
}

/** A request that passed an abort signal, or that waits for a free slot. */
export interface Ticket {
  unitId: number;
  pdu: Uint8Array;
  resolve: Resolve;
  reject: Reject;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** The slot once on the wire, and its transaction id. */
  slot: Slot | undefined;
  tid: number;
}

/** A request on the wire; reused. */
export class Slot {
  /** Transaction id, -1 when free. */
  tid = -1;
  pdu: Uint8Array = EMPTY;
  resolve: Resolve | undefined = undefined;
  reject: Reject | undefined = undefined;
  /** The shared sweeper's clock reading (ms) at which the request times out. */
  deadline = 0;
  ticket: Ticket | undefined = undefined;
  /** `adu` cut to the length of the current frame (kept while lengths repeat). */
  frame: Uint8Array = EMPTY;

  /** `adu`: this slot's share of the ring's ADU buffer. */
  constructor(readonly adu: Uint8Array) {}
}

/** The slots of one connection. */
export class SlotRing {
  readonly slots: readonly Slot[];
  readonly #mask: number;
  #tid = 0;
  /** Slots in use. */
  active = 0;

  /**
   * Room for `maxInFlight` requests, plus one slot a write may still hold after its request
   * ended, plus one: a free transaction id is always found.
   */
  constructor(maxInFlight: number) {
    let size = 4;
    while (size < maxInFlight + 2) size *= 2;
    this.#mask = size - 1;
    const adus = new Uint8Array(size * ADU_BYTES);
    this.slots = Array.from(
      { length: size },
      (_, i) => new Slot(adus.subarray(i * ADU_BYTES, (i + 1) * ADU_BYTES)),
    );
  }

  /** The slot waiting under `tid`, if any. */
  get(tid: number): Slot | undefined {
    const s = this.slots[tid & this.#mask]!;
    return s.tid === tid ? s : undefined;
  }

  /**
   * Takes a free slot (not `held`) under the next free transaction id and writes the ADU
   * of `pdu` for `unitId` into it; its `frame` is ready to send.
   */
  take(unitId: number, pdu: Uint8Array, held: Slot | undefined): Slot {
    let tid = this.#tid;
    let slot: Slot;
    do {
      tid = (tid + 1) & 0xffff;
      slot = this.slots[tid & this.#mask]!;
    } while (slot.tid !== -1 || slot === held);
    this.#tid = tid;
    this.active++;
    slot.tid = tid;
    slot.pdu = pdu;
    const adu = slot.adu;
    const n = pdu.length;
    adu[0] = tid >> 8;
    adu[1] = tid & 0xff;
    adu[2] = 0;
    adu[3] = 0;
    adu[4] = (n + 1) >> 8;
    adu[5] = (n + 1) & 0xff;
    adu[6] = unitId;
    if (n <= 16) { for (let i = 0; i < n; i++) adu[MBAP_LENGTH + i] = pdu[i]!; }
    else adu.set(pdu, MBAP_LENGTH);
    if (slot.frame.length !== MBAP_LENGTH + n) slot.frame = adu.subarray(0, MBAP_LENGTH + n);
    return slot;
  }

  /** Frees a slot; removes its ticket's abort listener. */
  free(slot: Slot): void {
    slot.tid = -1;
    slot.pdu = EMPTY;
    slot.resolve = undefined;
    slot.reject = undefined;
    const t = slot.ticket;
    if (t) {
      slot.ticket = undefined;
      t.slot = undefined;
      if (t.onAbort) t.signal!.removeEventListener("abort", t.onAbort);
    }
    this.active--;
  }
}
