/**
 * @module
 * The driver contract. A driver speaks one protocol to one device; the engine owns the
 * lifecycle around it: when to connect, how long to back off (exponential with jitter),
 * when a device is healthy, how many requests may be in flight, and when to retry.
 *
 * Rules a driver follows:
 * - `connect()` opens the transport or throws a {@linkcode BifrostError} with code
 *   `DEVICE_UNREACHABLE` (refused, unreachable, timed out). It never retries by itself.
 * - `read()` returns one {@linkcode TagResult} per tag of the plan, in plan order. A failure
 *   that concerns only some tags (a Modbus exception on one request) is reported per tag and
 *   the rest of the read goes on. A failure of the connection itself throws a
 *   `BifrostError` with code `NOT_CONNECTED`; the engine then closes the driver, marks every
 *   tag of the device bad and reconnects with backoff.
 * - `read()` and `write()` must honour the signal and must never hang: they time out on
 *   their own (code `TIMEOUT`).
 * - At most {@linkcode Driver.maxInFlight} calls to `read()`/`write()` run at once; the
 *   engine guarantees it.
 * - `subscribe()` (push sources, e.g. OPC UA) and `browse()` are optional. A driver that can
 *   push declares {@linkcode DriverModule.subscribeSpec}; the engine then subscribes each
 *   `subscribe:` poll after every connect, closes the subscriptions before it reconnects or
 *   stops, and never holds two subscriptions of one poll at once. Pushed values get what
 *   polled values get (sequence numbers, gateway timestamps, scaling, quality with reason).
 * - {@linkcode DriverModule.valueKind} says how each tag's values are carried
 *   ({@linkcode ValueKind}); the engine parses writes and scales by it, never by the type's
 *   name. A driver reports every value in its tag's kind.
 * - A device that answers with a protocol exception is a `BifrostError` with code
 *   `DEVICE_EXCEPTION`, `details: { protocol, code, name }`, and a message in the protocol's
 *   own wording, e.g. `Server device busy (Modbus exception 6)`.
 * - A module whose client is large declares {@linkcode DriverModule.load} (`lazyCreate` of
 *   `engine/lazy.ts`): the gateway and the CLI await it before the first `create`, so a
 *   gateway carries the clients of the drivers its flows use and no others.
 */

import type { TSchema } from "@sinclair/typebox";
import type { BifrostError } from "./errors.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log.ts";
import type { Value } from "./record.ts";

/** Linear scaling of a tag, applied by the engine after the driver decodes the raw value. */
export interface TagScaling {
  /** `eng = raw * gain + offset` */
  gain?: number;
  offset?: number;
  /** Or two-point: raw range to engineering range. */
  rawMin?: number;
  rawMax?: number;
  engMin?: number;
  engMax?: number;
  /** Clamp the engineering value to `[clampMin, clampMax]`. */
  clampMin?: number;
  clampMax?: number;
}

/**
 * How a tag's values are carried; decided by the driver when the flow loads
 * ({@linkcode DriverModule.valueKind}). As a {@linkcode Value}:
 * - `boolean`: `true`/`false`;
 * - `integer`: a number with no fraction (a safe integer);
 * - `bigint`: a `bigint` (64-bit integers);
 * - `float`: a number (a float32 as the shortest decimal that reads back as the same float32);
 * - `string`: a string;
 * - `bytes`: a string of lowercase hex digits, two per byte (`"0a1bff"`);
 * - `array`: an array of values (Modbus `count:`, OPC UA arrays).
 */
export type ValueKind = "boolean" | "integer" | "bigint" | "float" | "string" | "bytes" | "array";

/** Every {@linkcode ValueKind}, for checks and docs. */
export const VALUE_KINDS: readonly ValueKind[] = [
  "boolean",
  "integer",
  "bigint",
  "float",
  "string",
  "bytes",
  "array",
];

/** A tag as the flow declares it. Driver-specific fields (address, type…) are in `config`. */
export interface TagConfig {
  name: string;
  /** Driver-specific address text, e.g. `HR100`. */
  address: string;
  /** Data type, e.g. `float32`. */
  type: string;
  unit?: string;
  description?: string;
  scale?: TagScaling;
  writable: boolean;
  /** Every field of the tag as written in the flow (validated against the driver's tag spec). */
  config: Record<string, unknown>;
  /**
   * How the tag's values are carried: set once by the engine when the flow loads, from
   * {@linkcode DriverModule.valueKind}. Absent on tags built by hand (tools, tests): the
   * engine then asks the driver.
   */
  kind?: ValueKind;
}

/** A device as the flow declares it. */
export interface DeviceConfig {
  name: string;
  driver: string;
  /** Driver-specific connection fields, validated against the driver's device spec. */
  config: Record<string, unknown>;
  tags: Map<string, TagConfig>;
  /** Value generators for the virtual device (`--simulate`), as written in the flow. */
  simulator?: Record<string, unknown>;
  /** Whether the gateway is ready only while this device is connected (`required: true`). */
  required?: boolean;
}

/** The outcome of reading one tag. */
export type TagResult =
  | { ok: true; value: Value; sourceTs?: number; uncertain?: string }
  | { ok: false; error: BifrostError };

/**
 * Where {@linkcode Driver.readInto} puts the outcome of each tag of a plan, by the tag's
 * index in `plan.tags`, so that a poll of 100 tags allocates no result object per tag. A tag
 * given neither call is reported bad ("driver returned no result"); a later call for the
 * same index wins.
 */
export interface ReadSink {
  /**
   * Tag `index` of the plan read `value`, taken at `sourceTs` (ms since the epoch). With
   * `uncertain`, the device gave the value but vouches for it only in part (an OPC UA
   * `Uncertain*` status, a BACnet point out of service or in fault): the record keeps the
   * value with quality `uncertain` and this reason (e.g. `UncertainLastUsableValue`).
   */
  value(index: number, value: Value, sourceTs: number, uncertain?: string): void;
  /** Tag `index` of the plan could not be read. */
  fail(index: number, error: BifrostError): void;
}

/**
 * A {@linkcode ReadSink} that builds the `TagResult[]` of `read()`: one object per tag, which
 * the poll loop's `readInto` path avoids.
 */
export class ResultArraySink implements ReadSink {
  /** One result per tag of the plan, in plan order (a hole for a tag never reported). */
  readonly results: TagResult[];

  constructor(tags: number) {
    this.results = new Array<TagResult>(tags);
  }

  value(index: number, value: Value, sourceTs: number, uncertain?: string): void {
    this.results[index] = uncertain === undefined
      ? { ok: true, value, sourceTs }
      : { ok: true, value, sourceTs, uncertain };
  }

  fail(index: number, error: BifrostError): void {
    this.results[index] = { ok: false, error };
  }
}

/** Why a tag that a read reported nothing for is bad. */
export function noResultMessage(tag: string): string {
  return `Driver returned no result for "${tag}"`;
}

/** A compiled read of a set of tags (e.g. coalesced Modbus requests); opaque to the engine. */
export interface ReadPlan {
  /** The tags, in the order `read()` reports them. */
  readonly tags: readonly TagConfig[];
  /** A human description of every request the plan makes (for `bifrost plan`). */
  describe(): string[];
}

/** A node found by `browse()`: one level of the device's address space. */
export interface BrowseNode {
  /** Opaque id to pass back to browse() for its children. */
  id: string;
  name: string;
  /** True when browse(id) may return children. */
  hasChildren: boolean;
  /** The tag address to write in a flow, when this node is a readable value. */
  address?: string;
  /** The driver's type name for the flow (`float32`, `Double`, `DINT`...). */
  type?: string;
  kind?: ValueKind;
  writable?: boolean;
  description?: string;
}

/** A live subscription; closed by the engine (before a reconnect, and when it stops). */
export interface Subscription {
  /** Stops the pushes; `sink` gets nothing afterwards. Never throws for a lost connection. */
  close(): Promise<void>;
}

/** A connection to one device. */
export interface Driver {
  /** How many `read()`/`write()` calls may be in flight at once. */
  readonly maxInFlight: number;
  connect(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Compiles tags into a read plan; called once per poll group when the flow starts. */
  plan(tags: readonly TagConfig[]): ReadPlan;
  read(plan: ReadPlan, signal: AbortSignal): Promise<TagResult[]>;
  /**
   * Like {@linkcode read}, handing every tag's outcome to `sink` instead of returning an
   * array of results (the poll loop's path; drivers without it are read through `read`).
   * Throws in the same cases as `read`.
   */
  readInto?(plan: ReadPlan, signal: AbortSignal, sink: ReadSink): Promise<void>;
  /**
   * Writes one tag (`value` raw: a tag's `scale` already inverted). Checks the value against
   * the tag's type, count and declared range before anything is sent, and throws
   * `WRITE_REJECTED` naming tag, device, value and range when it does not fit: a device must
   * never receive a value it cannot hold (Modbus: `drivers/modbus/write_check.ts`).
   */
  write(tag: TagConfig, value: Value, signal: AbortSignal): Promise<void>;
  /**
   * Push source. Subscribes to every tag of `plan` and reports each pushed value through `sink`
   * (by the tag's index in plan.tags), exactly as readInto does for a poll, until `signal` aborts
   * or the returned Subscription is closed. `options` is the flow's `subscribe:` block (validated
   * against DriverModule.subscribeSpec). Throws BifrostError NOT_CONNECTED when the connection is
   * gone; the engine then reconnects and subscribes again (never twice at once).
   *
   * A tag the device cannot subscribe is reported through `sink.fail` (the rest go on); a
   * connection lost while subscribed is reported through `DriverContext.connectionLost` (or
   * a `sink.fail` with code `NOT_CONNECTED`). Values pushed after `close()` or the abort are
   * ignored by the engine, but a driver should not send them.
   */
  subscribe?(
    plan: ReadPlan,
    sink: ReadSink,
    signal: AbortSignal,
    options: Record<string, unknown>,
  ): Promise<Subscription>;
  /** One level of children of `node` (the root when undefined); never walks the whole tree. */
  browse?(node: string | undefined, signal: AbortSignal): Promise<BrowseNode[]>;
}

/** What the engine gives a driver. */
export interface DriverContext {
  log: Logger;
  clock: Clock;
  /**
   * The shortest interval (ms) of the interval polls of this device, when it has any (not
   * cron polls). A driver may tune its connection to it: the Modbus TCP client keeps no read
   * pending between polls of 5 s or less.
   */
  pollEveryMs?: number;
  /**
   * Tells the engine that the open connection was lost outside a read or write (a read kept
   * pending saw the peer close it): the engine reconnects at once instead of at the next
   * poll. Optional for drivers; a loss found by a read or write is reported by its error.
   */
  connectionLost?: (reason: string) => void;
}

/** A semantic problem found by a driver in a device's config. */
export interface DriverIssue {
  message: string;
  /** Path under the device, e.g. `["tags", "temp1", "address"]`. */
  path: (string | number)[];
  severity?: "error" | "warning";
}

/** A virtual device started for `--simulate` or tests. */
export interface SimulatedDevice {
  /** Connection fields to use instead of the flow's (e.g. `{ host, port }`). */
  connection: Record<string, unknown>;
  close(): Promise<void>;
}

/** One entry of the driver registry. */
export interface DriverModule {
  /** The `driver:` value in flows, e.g. `modbus-tcp`. */
  name: string;
  description: string;
  status: "stable" | "beta" | "experimental";
  /**
   * What the driver offers the command line (`bifrost read|write|browse <url>`,
   * `bifrost discover|sim <name>`). Modules of one protocol (Modbus TCP, RTU, RTU over TCP)
   * share one tools object; the CLI lists it once.
   */
  tools?: DriverTools;
  /** Driver-specific device fields (connection, limits). */
  deviceSpec: TSchema;
  /** Driver-specific tag fields (address, type, byte order…). */
  tagSpec: TSchema;
  /** Makes the driver of one device; call {@linkcode load} first when the module has it. */
  create(device: DeviceConfig, ctx: DriverContext): Driver;
  /**
   * Loads what `create` needs (the protocol client). Present on modules whose client loads
   * on first use, so that a gateway without such a device never carries it; the gateway and
   * the CLI await it before `create`, which throws until it has resolved. Everything else of
   * the module (specs, `validate`, `valueKind`, tools) works without it. Idempotent.
   */
  load?(): Promise<void>;
  /** Semantic checks beyond the schema: address syntax, overlaps, type/table mismatches. */
  validate?(device: DeviceConfig): DriverIssue[];
  /** The shortest poll interval (ms) this device can sustain for these tags. */
  minIntervalMs?(device: DeviceConfig, tags: readonly TagConfig[]): number;
  /** Starts a virtual device serving this device's tags. */
  simulate?(device: DeviceConfig): Promise<SimulatedDevice>;
  /**
   * The kind of a tag's values, from its config: called for every tag when the flow loads (a
   * throw is an error at the tag), and again where a value is parsed or listed (`kindOf`).
   */
  valueKind(tag: TagConfig): ValueKind;
  /** Present when the driver can push: the schema of a poll's `subscribe:` options. */
  subscribeSpec?: TSchema;
}

/** The kind of `tag`'s values: its own `kind` when it has one, else the driver's. */
export function kindOf(tag: TagConfig, module: DriverModule): ValueKind {
  return tag.kind ?? module.valueKind(tag);
}

/** Where a driver tool writes: results to `log` (stdout), diagnostics to `error` (stderr). */
export interface ToolOutput {
  log(line: string): void;
  error(line: string): void;
}

/** A subcommand a driver adds to the CLI, e.g. `bifrost discover <name> ...`. */
export interface DriverCommand {
  /** The usage line(s), printed by `--help` and after a usage error. */
  usage: string;
  /**
   * Runs with the arguments after `<name>`; resolves with the exit code: 0 done, 1 the
   * device or network failed, 2 bad arguments (after printing one line and the usage).
   */
  run(args: string[], out: ToolOutput): Promise<number>;
}

/** A driver's own simulator, for `bifrost sim <name>`, demos and tests. */
export interface DriverToolSimulator {
  /** The usage line(s) of `bifrost sim <name>`. */
  usage: string;
  /** Runs from command line arguments until SIGINT/SIGTERM; resolves with the exit code. */
  cli(args: string[]): Promise<number>;
  /**
   * Starts a simulator on 127.0.0.1 (a free port) with the driver's default content;
   * `options` are driver-specific.
   */
  start(options?: Record<string, unknown>): Promise<StartedSimulator>;
}

/** A running simulator started by {@linkcode DriverToolSimulator.start}. */
export interface StartedSimulator {
  /** Connection fields of a device that talks to it, e.g. `{ host, port }`. */
  connection: Record<string, unknown>;
  /** The URL `bifrost read|browse` takes for it, without a tag (`modbus://127.0.0.1:40123`). */
  url: string;
  close(): Promise<void>;
}

/** Options of {@linkcode DriverTools.browse}. */
export interface BrowseToolOptions {
  /** Levels to walk below the URL's node (1: its children only). */
  depth: number;
  signal: AbortSignal;
  /** Progress lines (stderr). */
  out: ToolOutput;
}

/** A tag of a {@linkcode FlowDraftDevice}: its name and its fields under `tags:` in a flow. */
export interface FlowDraftTag {
  name: string;
  /** The tag's fields (`address`, `type`...), as written in a flow. */
  fields: Record<string, unknown>;
  /** A note written on the line above the tag. */
  comment?: string;
}

/** A device of a {@linkcode FlowDraft}. */
export interface FlowDraftDevice {
  /** The device's name under `devices:`. */
  name: string;
  /** The device's fields (`driver`, connection fields), as written in a flow. */
  fields: Record<string, unknown>;
  /** Tags the driver is sure of, written as they are. */
  tags: FlowDraftTag[];
  /**
   * Tags the driver cannot name for sure (a Modbus device cannot say what its registers
   * mean), written commented out for the engineer to pick.
   */
  candidates: FlowDraftTag[];
  /** Lines written as comments in the device (what was walked, what was skipped). */
  notes: string[];
}

/** A flow found by browsing, for `bifrost browse` to write as YAML. */
export interface FlowDraft {
  devices: FlowDraftDevice[];
  /** Lines written as comments at the top of the file. */
  notes: string[];
}

/** A one-tag device parsed from a URL by {@linkcode DriverTools.parseUrl}. */
export interface UrlTarget {
  device: DeviceConfig;
  tag: TagConfig;
}

/**
 * An option a driver adds to `bifrost write <url> <value>` (e.g. BACnet's `--priority 8`),
 * so that the command names no protocol. It takes a value and refines the URL's target.
 */
export interface DriverWriteOption {
  /** The option's name without dashes (`priority` for `--priority N`). */
  name: string;
  /** One usage line for the help (`--priority N   BACnet write priority 1-16`). */
  usage: string;
  /** The target with the option applied; throws `Error` saying why the value is wrong. */
  apply(target: UrlTarget, value: string): UrlTarget;
}

/**
 * The tools a driver module offers the command line. The CLI names no protocol: it picks a
 * driver by the URL's scheme (`read`, `write`, `browse`) or by {@linkcode DriverTools.name}
 * (`discover`, `sim`), and lists what the installed drivers offer in its help.
 */
export interface DriverTools {
  /** The name `bifrost discover|sim <name>` takes, e.g. `modbus`. */
  name: string;
  /** URL schemes this driver reads, without `://`, e.g. `["modbus", "modbus-rtu"]`. */
  schemes: readonly string[];
  /** Example URLs for the help, one per line (`modbus://host:502/1/HR100:float32:CDAB`). */
  urlExamples: readonly string[];
  /**
   * Parses a URL naming one device and one value; throws a `BifrostError`
   * (`CONFIG_INVALID`) saying what part of the URL is wrong.
   */
  parseUrl(url: string): UrlTarget;
  /** Finds devices or addresses that answer: `bifrost discover <name> ...`. */
  discover?: DriverCommand;
  /**
   * Walks what the device at `url` (a URL without a tag) exposes, `options.depth` levels
   * down, and returns a flow draft. Throws `BifrostError` (`CONFIG_INVALID` for a bad URL,
   * `DEVICE_UNREACHABLE` when nothing answers).
   */
  browse?(url: string, options: BrowseToolOptions): Promise<FlowDraft>;
  /** `bifrost sim <name>`. */
  simulator?: DriverToolSimulator;
  /**
   * The driver's own commands, `bifrost <name> <command> ...`, by command name (OPC UA:
   * `bifrost opcua trust|reject|list` for its certificate trust store). Each runs with the
   * arguments after the command name. The CLI lists them in its help and names no protocol.
   */
  commands?: Readonly<Record<string, DriverCommand>>;
  /**
   * Options of `bifrost write <url> <value>` for this driver's URLs (additive: a driver
   * without any takes only the command's own options).
   */
  writeOptions?: readonly DriverWriteOption[];
}
