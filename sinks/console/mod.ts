/**
 * @module
 * The `console` sink: one line a value on stdout, for people watching a flow run.
 *
 * Text: `2026-11-28T10:00:00.123Z boiler-plc/temp1 = 71.3 good`; a bad value shows its
 * reason instead of the value: `… boiler-plc/temp1 = — bad (Cannot read HR0: timeout)`.
 * JSON: one object a line with every record field. A batch becomes one string and one
 * write, never one `console.log` a value.
 */

import { type Static, Type } from "@sinclair/typebox";
import {
  type Batch,
  BifrostError,
  errorMessage,
  Quality,
  QUALITY_NAMES,
  type Sink,
  type SinkContext,
  type SinkModule,
  StorageKind,
} from "../../engine/plugin.ts";

/** The `console` sink's fields. */
export const ConsoleSpec = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal("text"), Type.Literal("json")], {
    default: "text",
    description: "`text`: one readable line a value; `json`: one JSON object a line.",
    examples: ["text", "json"],
  })),
}, {
  additionalProperties: false,
  description: "Prints every value to stdout.",
  examples: [{ format: "text" }, { format: "json" }],
});

/** The `console` sink's config. */
export type ConsoleConfig = Static<typeof ConsoleSpec>;

/** Where the console sink's text goes; tests pass a collector. */
export type ConsoleWriter = (text: string) => void | Promise<void>;

const encoder = new TextEncoder();

/** Writes all of `text` to stdout. */
export async function stdoutWriter(text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
}

function jsonValue(b: Batch, i: number): string {
  const k = b.kind[i];
  if (k === StorageKind.number) {
    const v = b.num[i]!;
    return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  }
  if (k === StorageKind.boolean) return b.num[i] !== 0 ? "true" : "false";
  if (k === StorageKind.null) return "null";
  if (k === StorageKind.bigint) return JSON.stringify(String(b.obj[i]));
  return JSON.stringify(b.obj[i], (_k, v) => typeof v === "bigint" ? v.toString() : v);
}

/**
 * A number as a person reads it: a value that came from a float32 register shows the
 * shortest decimal that is the same float32 (`70.42294`, not `70.42294311523438`), other
 * fractions at most 10 significant digits. JSON output keeps every digit.
 */
export function readableNumber(v: number): string {
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  if (Math.fround(v) === v) {
    for (let p = 1; p <= 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
  }
  return String(Number(v.toPrecision(10)));
}

function textValue(b: Batch, i: number): string {
  const k = b.kind[i];
  if (k === StorageKind.number) return readableNumber(b.num[i]!);
  if (k === StorageKind.bigint) return String(b.obj[i]);
  return jsonValue(b, i);
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** Record `i` as a text line (without the newline). */
export function formatText(b: Batch, i: number): string {
  const q = b.quality[i]!;
  const reason = b.reason[i];
  const head = `${isoTime(b.sourceTs[i]!)} ${b.device[i]}/${b.tag[i]} = `;
  const value = q === Quality.bad ? "—" : textValue(b, i);
  return `${head}${value} ${QUALITY_NAMES[q]}${reason !== undefined ? ` (${reason})` : ""}`;
}

/** Record `i` as a JSON line (without the newline). */
export function formatJson(b: Batch, i: number): string {
  const reason = b.reason[i];
  return `{"device":${JSON.stringify(b.device[i])},"tag":${JSON.stringify(b.tag[i])},"value":${
    jsonValue(b, i)
  },"quality":"${QUALITY_NAMES[b.quality[i]!]}"${
    reason !== undefined ? `,"reason":${JSON.stringify(reason)}` : ""
  },"sourceTs":${b.sourceTs[i]},"gatewayTs":${b.gatewayTs[i]},"seq":${b.seq[i]}}`;
}

/** Creates a console sink writing through `writer` (stdout by default). */
export function createConsoleSink(
  config: ConsoleConfig,
  ctx: Pick<SinkContext, "name">,
  writer: ConsoleWriter = stdoutWriter,
): Sink & { stats(): { written: number } } {
  const format = config.format === "json" ? formatJson : formatText;
  let written = 0;
  return {
    async open() {},
    async write(b: Batch) {
      if (b.length === 0) return;
      const lines = new Array<string>(b.length);
      for (let i = 0; i < b.length; i++) lines[i] = format(b, i);
      try {
        await writer(lines.join("\n") + "\n");
      } catch (e) {
        throw new BifrostError(
          "SINK_FAILED",
          `Cannot write ${b.length} records to console sink "${ctx.name}": ${errorMessage(e)}`,
          { cause: e },
        );
      }
      written += b.length;
    },
    async flush() {},
    async close() {},
    stats: () => ({ written }),
  };
}

/** The `console` sink. */
export const consoleSink: SinkModule<ConsoleConfig> = {
  name: "console",
  description: "Prints every value to stdout, as text or JSON lines.",
  status: "stable",
  spec: ConsoleSpec,
  create: (config, ctx) => createConsoleSink(config, ctx),
};
