/**
 * @module
 * The shapes of the driver conformance suite: what a driver gives `runDriverConformance`,
 * the simulator the suite drives, and a case. Shared by `driver.ts` and the case files
 * without an import cycle.
 */

import type { DriverModule, TagConfig } from "../../engine/driver.ts";
import type { Value } from "../../engine/record.ts";

/** A running simulator of the driver's device, driven by the suite. */
export interface ConformanceSimulator extends AsyncDisposable {
  /** The connection fields of the device (`{ host, port }`, `{ port: "/dev/pts/3" }`). */
  readonly connection: Record<string, unknown>;
  /** Sets the value the device holds for a tag. */
  setValue(tag: TagConfig, value: Value): void;
  /** The value the device holds for a tag. */
  getValue(tag: TagConfig): Value;
  /** Makes the device fail reads of `tag` (an exception, a bad status); returns the undo. */
  failTag(tag: TagConfig): () => void;
  /**
   * Makes the device give `tag`'s value but vouch for it only in part (an OPC UA
   * `Uncertain*` status, a BACnet point out of service); returns the undo. Only for
   * protocols with such a state (see {@linkcode DriverConformanceOptions.uncertain}).
   */
  uncertainTag?(tag: TagConfig): () => void;
  /** Makes the device answer nothing (it stays reachable) or answer again. */
  silence(on: boolean): void;
  /** Switches the device off: its connections close, nothing answers at its address. */
  stop(): Promise<void>;
  /** Switches it on again at the same address, with the values it held. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A tag the suite reads, and the value the simulator holds for it. */
export interface ConformanceTag {
  tag: TagConfig;
  value: Value;
}

/** What a driver gives {@linkcode runDriverConformance}. */
export interface DriverConformanceOptions {
  module: DriverModule;
  /** Starts the simulator (listening on port 0, or on a fresh pty). */
  startSimulator(): Promise<ConformanceSimulator>;
  /**
   * The device fields for a connection: the connection fields merged with the driver's
   * timeout set to `timeoutMs` and no retries. The suite configures
   * {@linkcode timeoutMs} in the cases that check time bounds, and a generous timeout in the
   * others (see `relaxedTimeoutMs`).
   */
  device(connection: Record<string, unknown>, timeoutMs: number): Record<string, unknown>;
  /**
   * Connection fields where nothing answers and the driver is refused at once (also used to
   * create drivers that never connect: plan descriptions, feature checks).
   */
  refused(): Record<string, unknown>;
  /**
   * The protocol can say a value is uncertain: the reason the driver gives for the tag the
   * simulator's `uncertainTag` marks. Omitted: the "uncertain quality" case is skipped.
   */
  uncertain?: { reason: RegExp };
  /** The driver timeout of the cases that check time bounds ("timeout", "restart"), ms. */
  timeoutMs: number;
  /**
   * Tags read together in one plan, with distinct values (at least two, of different types
   * where the driver has types). The first must be writable.
   */
  tags: ConformanceTag[];
  /** A tag whose writes the driver itself refuses (a read-only table); omit if none. */
  readOnlyTag?: TagConfig;
  /** A value to write to the first tag, different from its held value. */
  writeValue: Value;
  /** The `subscribe:` options for a poll, when the driver can push. */
  subscribeOptions?: Record<string, unknown>;
  /** Extra slack on time bounds, ms (slow lines); default 500. */
  slackMs?: number;
  /** Why the simulator cannot run here (a program missing): every case is skipped with it. */
  unavailable?: string;
  /** Cases this driver cannot run, by case name, with the reason (shown in the test name). */
  skipCases?: Record<string, string>;
}

/** One case of the suite. */
export interface DriverCase {
  /** Short name: the test is named `<driver>: <name>: <does>`. */
  name: string;
  /** What the driver must do, as the test name says it. */
  does: string;
  /** The reason the driver cannot run this case, if it cannot. */
  skip?(o: DriverConformanceOptions): string | undefined;
  run(o: DriverConformanceOptions): Promise<void> | void;
}
