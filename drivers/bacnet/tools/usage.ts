/**
 * @module
 * Usage lines of the BACnet commands (kept apart so that `bifrost --help` loads no command).
 */

/** `bifrost discover bacnet`. */
export const DISCOVER_USAGE =
  "Usage: bifrost discover bacnet [--network N] [--target HOST[:PORT]] [--broadcast ADDR] [--port 47808] [--local-port 0] [--bbmd HOST[:PORT]] [--low N --high N] [--wait 3s] [--json]\n" +
  "  Sends Who-Is and lists every device that answers: instance, address, network/MAC, vendor, model, name.";

/** `bifrost sim bacnet`. */
export const SIM_USAGE =
  "Usage: bifrost sim bacnet [--config site.yaml] [--host 127.0.0.1] [--port 47809] [--devices N --objects M] [--network N]\n" +
  "  Serves simulated BACnet/IP devices (the demo air handler, device 1001, by default) until Ctrl-C.";
