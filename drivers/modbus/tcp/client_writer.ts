/**
 * @module
 * The write side of a {@linkcode ModbusTcpClient}: a frame goes to the socket at once when no
 * write is under way (no async flush loop, no copy); frames that meet a write in progress
 * are copied into a batch that goes out, in one write, when it ends. The buffer a direct
 * write sends is held (`held`) until the write ends, so that its slot is not reused while
 * Deno may still read it.
 */

import { EMPTY } from "./client_slots.ts";

/** Writes frames to a connection, one write at a time. */
export class FrameWriter<Owner> {
  readonly #conn: Deno.Conn;
  readonly #onError: (e: unknown) => void;
  #writing = false;
  #stopped = false;
  /** What the write under way sends. */
  #inWrite: Uint8Array = EMPTY;
  // Allocated on first use: a client with one request at a time never needs them.
  #batch: Uint8Array = EMPTY;
  #batchLength = 0;
  #spare: Uint8Array = EMPTY;
  /** The owner of the buffer the write under way sends, if it is not the writer's own. */
  held: Owner | undefined;

  constructor(conn: Deno.Conn, onError: (e: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Sends `frame` (a buffer of `owner`) now, or copies it into the next batch. */
  write(frame: Uint8Array, owner: Owner): void {
    if (this.#writing) this.#enqueue(frame);
    else this.#start(frame, owner);
  }

  /** Stops writing (the connection is gone); later completions are ignored. */
  stop(): void {
    this.#stopped = true;
  }

  #start(bytes: Uint8Array, owner: Owner | undefined): void {
    this.#writing = true;
    this.held = owner;
    this.#inWrite = bytes;
    this.#conn.write(bytes).then(this.#written, this.#onError);
  }

  #written = (n: number): void => {
    if (this.#stopped) return;
    if (n < this.#inWrite.length) {
      this.#inWrite = this.#inWrite.subarray(n);
      this.#conn.write(this.#inWrite).then(this.#written, this.#onError);
      return;
    }
    this.held = undefined;
    this.#inWrite = EMPTY;
    if (this.#batchLength === 0) {
      this.#writing = false;
      return;
    }
    // The buffer of the write just ended (when it was a batch) collects the next batch.
    const out = this.#batch.subarray(0, this.#batchLength);
    const spare = this.#spare;
    this.#spare = this.#batch;
    this.#batch = spare;
    this.#batchLength = 0;
    this.#start(out, undefined);
  };

  #enqueue(frame: Uint8Array): void {
    const need = this.#batchLength + frame.length;
    if (need > this.#batch.length) {
      const bigger = new Uint8Array(Math.max(need, 2 * this.#batch.length, 512));
      bigger.set(this.#batch.subarray(0, this.#batchLength));
      this.#batch = bigger;
    }
    this.#batch.set(frame, this.#batchLength);
    this.#batchLength = need;
  }
}
