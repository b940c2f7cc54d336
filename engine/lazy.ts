/**
 * @module
 * Modules whose implementation loads on first use. Every driver, sink and step module is
 * imported by the registries (the schema, the CLI and the loader need their names and
 * specs), but a gateway runs only those its flows name: a module whose client or sink is
 * large gives `load()` and `create()` from {@linkcode lazyCreate}, and the gateway awaits
 * `load()` before the first `create()`. A Modbus-only gateway then never carries the OPC UA,
 * BACnet or EtherNet/IP clients, the MQTT or Sparkplug sinks (measured by `bench:modbus`).
 */

/**
 * The `load` and `create` of a module whose implementation is imported on first use.
 * `importCreate` runs once (again after a failure); `create` before `load()` has resolved is
 * a programming error that names the module.
 *
 * @param what The module, as an error names it: `driver "opcua"`, `sink "mqtt"`.
 * @example
 * ```ts ignore
 * export const opcua: DriverModule = {
 *   ...lazyCreate('driver "opcua"', async () => {
 *     const { OpcuaDriver } = await import("./client/driver.ts");
 *     return (device, ctx) => new OpcuaDriver(device, ctx);
 *   }),
 *   // name, specs, validate, valueKind…
 * };
 * ```
 */
export function lazyCreate<A extends unknown[], R>(
  what: string,
  importCreate: () => Promise<(...args: A) => R>,
): { load(): Promise<void>; create(...args: A): R } {
  let create: ((...args: A) => R) | undefined;
  let loading: Promise<void> | undefined;
  return {
    load: () =>
      loading ??= importCreate().then((c) => {
        create = c;
      }, (e) => {
        loading = undefined;
        throw e;
      }),
    create: (...args: A): R => {
      if (!create) {
        throw new Error(`${what}: create() before load() has resolved; await load() first`);
      }
      return create(...args);
    },
  };
}
