/**
 * @module
 * Usage texts of `bifrost discover ethernet-ip` and `bifrost sim ethernet-ip`, apart from
 * the commands so that the help lists them without loading the commands.
 */

/** `bifrost discover ethernet-ip` usage. */
export const DISCOVER_USAGE =
  "Usage: bifrost discover ethernet-ip [--broadcast 255.255.255.255] [--host H] [--port 44818] [--timeout 2s]";

/** `bifrost sim ethernet-ip` usage. */
export const SIM_USAGE =
  `Usage: bifrost sim ethernet-ip [--host 127.0.0.1] [--port 44818] [--map tags.yaml] [--fault KIND[=VALUE] ...]
  faults: delay=50ms, silent, malformed, refuse-forward-open, refuse-large-forward-open, no-browse,
          drop-every=30s (closes every connection), tag-error=TAG:STATUS (e.g. tag-error=Speed:0x05)
  map: tags/programs/structures, a tag { type: REAL, dims: [10], value: ... } or with a
       generator { type: REAL, generator: sine, min: 0, max: 100, period: 10s }`;
