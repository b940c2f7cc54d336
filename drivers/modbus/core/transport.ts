/**
 * @module
 * The transport a Modbus driver sends its PDUs through. One driver class serves Modbus TCP
 * (the MBAP client), RTU over a serial line and RTU framing over TCP (serial device
 * servers): only the transport differs. Implementations reject with a `BifrostError`:
 * `NOT_CONNECTED` once the connection or line is gone, `TIMEOUT` when no answer came in
 * time, `DEVICE_UNREACHABLE` when a bus breaker refuses the request.
 */

/** Sends request PDUs to a unit and resolves with response PDUs (exceptions included). */
export interface ModbusTransport {
  /**
   * Sends `pdu` to `unitId`; resolves with the response PDU. A broadcast (unit 0) over RTU
   * resolves with an empty PDU once the turnaround delay passed.
   */
  request(unitId: number, pdu: Uint8Array, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Rejects with `reason` every pending request that was sent without a signal (their
   * caller watches one signal for all of them, which is cheaper than a listener each).
   * Optional: without it the driver passes its signal with every request.
   */
  abortUnsignalled?(reason: unknown): void;
  /** Whether the transport is still usable. */
  readonly connected: boolean;
  /** Closes (or releases) the transport; requests still pending reject. */
  close(): Promise<void>;
}
