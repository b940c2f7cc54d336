/**
 * @module
 * Structured logging: JSON lines when stderr is not a terminal, readable lines when it is.
 * One line per connection state change; never one line per value at info level.
 */

import { createRedactor, noRedaction, type Redactor } from "./redact.ts";

/** Log levels, lowest first. */
export const LogLevels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** A log level name. */
export type LogLevel = keyof typeof LogLevels;

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Where log lines go; tests pass an array collector. */
export type LogWriter = (line: string) => void;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  json?: boolean;
  write?: LogWriter;
  /**
   * Values that must never appear in logs (secrets from `${ENV}` substitution), redacted in
   * every form they can take (see `engine/redact.ts`).
   */
  redact?: () => readonly string[];
}

const encoder = new TextEncoder();

function defaultWrite(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do.
  }
}

/**
 * A redactor that follows `redact()`: compiled again only when the list it returns changes
 * (another array, or the same one grown).
 */
function followRedactor(redact: () => readonly string[]): () => Redactor {
  let seen: readonly string[] | undefined;
  let seenLength = 0;
  let current = noRedaction;
  return () => {
    const list = redact();
    if (list !== seen || list.length !== seenLength) {
      seen = list;
      seenLength = list.length;
      current = createRedactor(list);
    }
    return current;
  };
}

/** Creates a logger. Level defaults to `BIFROST_LOG_LEVEL` or info. */
export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const envLevel = safeEnv("BIFROST_LOG_LEVEL") as LogLevel | undefined;
  const level = LogLevels[options.level ?? (envLevel && envLevel in LogLevels ? envLevel : "info")];
  const json = options.json ?? !safeIsTerminal();
  const write = options.write ?? defaultWrite;
  const redact = options.redact ?? (() => []);
  const redactor = followRedactor(redact);

  const emit = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (LogLevels[lvl] < level) return;
    // Redact values before they are encoded: escaping cannot hide a secret then.
    const r = redactor();
    const all = r.value({ ...base, ...fields }) as LogFields;
    msg = r.text(msg);
    let line: string;
    if (json) {
      line = JSON.stringify({ ts: new Date().toISOString(), level: lvl, msg, ...all }, jsonSafe);
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, jsonSafe)}`)
        .join(" ");
      line = `${new Date().toISOString().slice(11, 23)} ${lvl.toUpperCase().padEnd(5)} ${msg}${
        extra ? "  " + extra : ""
      }`;
    }
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger({ ...options, json, write, redact }, { ...base, ...f }),
  };
}

function jsonSafe(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return v.message;
  return v;
}

function safeEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function safeIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => nullLogger,
};
