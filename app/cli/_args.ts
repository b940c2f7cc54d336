/**
 * @module
 * Argument parsing for every command: `node:util` `parseArgs` in strict mode, whose
 * `TypeError`s (unknown option, missing value) become a {@linkcode UsageError}, so that a bad
 * argument ends in one line and the command's usage with exit code 2, never in a stack trace.
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { errorMessage } from "../../engine/errors.ts";
import { parseDuration } from "../../engine/flow/duration.ts";

/** A command line the command cannot run: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Node's parseArgs messages, trimmed to their first sentence and quoted our way. */
function usageMessage(e: Error & { code?: string }): string {
  const m = /'(-[^' ]*)/.exec(e.message);
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && m) return `Unknown option "${m[1]}"`;
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && m) {
    return /argument missing/.test(e.message)
      ? `Option "${m[1]}" needs a value`
      : `Option "${m[1]}" takes no value`;
  }
  return e.message.split(". ")[0]!;
}

/**
 * Parses `args` strictly against `options` (plus `--help`/`-h`); throws a
 * {@linkcode UsageError} for an unknown option or a missing value.
 */
export function parseCli<const O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } } as
        & O
        & { help: { type: "boolean"; short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    if (e instanceof TypeError) throw new UsageError(usageMessage(e));
    throw e;
  }
}

/** A duration option (`5s`, `200ms`, or plain milliseconds); throws a {@linkcode UsageError}. */
export function durationOption(name: string, text: string): number {
  try {
    const ms = /^[0-9]+$/.test(text) ? Number(text) : parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // Reported below with the option's name.
  }
  throw new UsageError(`Cannot use --${name} "${text}": expected a duration like 5s or 500ms`);
}

/** An integer option within `[min, max]`; throws a {@linkcode UsageError}. */
export function integerOption(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > max) {
    throw new UsageError(`Cannot use --${name} "${text}": expected an integer ${min}..${max}`);
  }
  return n;
}

/**
 * Runs a command body: a {@linkcode UsageError} prints its line and `usage` (exit 2), any
 * other error its message (exit 1).
 */
export async function withUsage(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      console.error(usage);
      return 2;
    }
    console.error(errorMessage(e));
    return 1;
  }
}
