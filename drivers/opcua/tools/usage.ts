/**
 * @module
 * Usage texts of `bifrost discover opcua` and `bifrost sim opcua`, apart from the commands
 * so that the help lists them without loading node-opcua.
 */

/** `bifrost discover opcua` usage. */
export const DISCOVER_USAGE =
  "Usage: bifrost discover opcua [opc.tcp://discovery-host:4840] [--timeout 5s]\n  asks FindServers (a Local Discovery Server, or any server) and lists each server's endpoints";

/** `bifrost sim opcua` usage. */
export const SIM_USAGE =
  `Usage: bifrost sim opcua [--config simulators/opcua-demo.yaml] [--check] [--port 4840] [--variables N]
                        [--change-every 1s] [--user NAME:PASSWORD ...] [--no-anonymous] [--pki DIR]
                        [--fault KIND[=VALUE] ...]
  serves the address space of the YAML config (default simulators/opcua-demo.yaml: Objects/Demo with
  Static (every built-in scalar type and arrays, writable), Setpoint, ReadOnly, Dynamic, Boiler and
  Tank (limit alarms), Methods (Add, Echo, SetSetpoint, Fail) and Many (N Double variables,
  ns=1;s=Demo.Many.<i>)); --check validates the config and starts nothing;
  --variables N sets the repeat: of the config's first template
  security None, Sign and SignAndEncrypt with Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss
  faults: slow=200ms (every answer delayed), drop-every=30s (closes every connection),
          restart-every=60s (server restarts: sessions lost, values kept)`;
