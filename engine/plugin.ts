/**
 * @module
 * The one module of the engine that drivers, steps and sinks import (the plugin-facing
 * surface, like Redpanda Connect's `public/service`): their contracts, the error type, the
 * record and batch types, durations, backoff, scaling, logging and the clock. Everything else
 * under `engine/` is the engine's own and may change without a plugin noticing;
 * `tests/layout_test.ts` fails when a plugin file imports any other engine module.
 *
 * Names are listed one by one (no `export *`) so that adding an export to an engine module
 * never widens what plugins see by accident.
 *
 * @example
 * ```ts
 * import { BifrostError, type DriverModule, parseDuration } from "../../engine/plugin.ts";
 * ```
 */

// Contracts.
export {
  type BrowseNode,
  type BrowseToolOptions,
  type DeviceConfig,
  type Driver,
  type DriverCommand,
  type DriverContext,
  type DriverIssue,
  type DriverModule,
  type DriverTools,
  type DriverToolSimulator,
  type DriverWriteOption,
  type FlowDraft,
  type FlowDraftDevice,
  type FlowDraftTag,
  kindOf,
  noResultMessage,
  type ReadPlan,
  type ReadSink,
  ResultArraySink,
  type SimulatedDevice,
  type StartedSimulator,
  type Subscription,
  type TagConfig,
  type TagResult,
  type TagScaling,
  type ToolOutput,
  type UrlTarget,
  VALUE_KINDS,
  type ValueKind,
} from "./driver.ts";
export type { Catalog, CatalogTag, Sink, SinkContext, SinkModule, SinkStats } from "./sink.ts";
export type { Step, StepContext, StepIssue, StepModule } from "./step.ts";

// Errors.
export {
  BifrostError,
  type BifrostErrorOptions,
  type ErrorCode,
  ErrorCodes,
  errorMessage,
  isBifrostError,
  type SourceLocation,
} from "./errors.ts";

// Records and batches.
export {
  Batch,
  type DataRecord,
  Quality,
  QUALITY_NAMES,
  type QualityCode,
  type QualityName,
  SequenceCounter,
  StorageKind,
  type StorageKindCode,
  type Value,
} from "./record.ts";

// Value kinds: how a tag's values are carried, parsed and printed.
export { engineeringKind, parseValue, shortestFloat32 } from "./value.ts";
export { lazyCreate } from "./lazy.ts";
export { compileGlob, type Glob, matchGlob } from "./glob.ts";

// Durations, names, backoff, scaling.
export { DURATION_PATTERN, parseDuration } from "./flow/duration.ts";
export { type PermissionsConfig, PermissionsSpec, resolvePermissions } from "./flow/permissions.ts";
export { NAME_PATTERN } from "./flow/schema.ts";
export { backoffDelay, type BackoffOptions } from "./runtime/backoff.ts";
export {
  applyCompiled,
  applyScaling,
  type CompiledScaling,
  compileScaling,
  invertScaling,
  scaleValue,
  scalingIssues,
  unscaleValue,
} from "./scaling.ts";

// Logging and time.
export {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  LogLevels,
  type LogWriter,
  nullLogger,
} from "./log.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";

// User functions: the host the `function` step runs them in, and the API they are written to.
// The host (its process machinery, about 5 MB of a gateway's memory) loads with the first
// function step or trigger, not with every gateway: the type here, the class on demand.
export type { FunctionHost, FunctionHostOptions, FunctionPermissions } from "./functions/host.ts";
import type { FunctionHost, FunctionHostOptions } from "./functions/host.ts";
/** A new {@linkcode FunctionHost} (its module imported on first use). */
export async function createFunctionHost(o: FunctionHostOptions): Promise<FunctionHost> {
  return new (await import("./functions/host.ts")).FunctionHost(o);
}
import type { FunctionSource } from "./functions/loader.ts";
export type { FunctionSource };
/**
 * Reads and transpiles a function and its imports (see `functions/loader.ts`). The
 * transpiler (about 100 ms to load) is loaded on first use, not by every command.
 */
export async function loadFunctionSource(path: string, root: string): Promise<FunctionSource> {
  return await (await import("./functions/loader.ts")).loadFunctionSource(path, root);
}
export { API_FILES, writeApiFiles } from "./functions/vendor.ts";
export type {
  Context as FunctionContext,
  FunctionLogFields,
  FunctionLogger,
  FunctionResult,
  UserFunction,
} from "./functions/api.ts";
