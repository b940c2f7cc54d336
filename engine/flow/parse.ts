/**
 * @module
 * Layer 1 of flow loading: from a flow file's bytes to a YAML document and its plain data,
 * safe against hostile input. Bytes that are not text (a NUL, invalid UTF-8) are refused
 * with their offset, never quoted; an empty file is a warning; duplicate keys are found with
 * one set per map (the yaml library's own check compares every key with every earlier one,
 * which made a device of 24k tags take seconds to parse); and alias expansion is capped, so
 * that a "billion laughs" document is a positioned error instead of a `ReferenceError`.
 */

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { type ConfigIssue, issueAtOffset, type YamlSource } from "./positions.ts";

/** Most alias expansions `toJS()` may do per document (yaml's `maxAliasCount`). */
export const MAX_ALIAS_COUNT = 1000;

/** Most syntax errors reported per file: garbage yields one per token. */
export const MAX_YAML_ERRORS = 5;

/** Longest piece of source text an issue message quotes. */
export const MAX_QUOTE = 80;

/**
 * `text` as a message quotes it: cut to {@linkcode MAX_QUOTE} characters, control characters
 * escaped (JSON string syntax), so that no garbage reaches a terminal raw.
 *
 * @example
 * ```ts
 * quoteSource("x".repeat(500)); // '"xxx…" (500 characters)'
 * ```
 */
export function quoteSource(text: string, max = MAX_QUOTE): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max) + "…")} (${text.length} characters)`;
}

/** The offset of the first byte that makes `bytes` not UTF-8 text, or -1 when it is text. */
export function firstBinaryByte(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return i;
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (len === 0 || i + len > n) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return -1;
}

/** The text of a flow file, or the reason it is not a text file. */
export function decodeFlowFile(
  bytes: Uint8Array,
): { text: string; error?: undefined } | { text?: undefined; error: string; offset: number } {
  const bad = firstBinaryByte(bytes);
  if (bad < 0) {
    const text = new TextDecoder().decode(bytes);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  }
  const hex = bytes[bad]!.toString(16).padStart(2, "0");
  return {
    error: `not a text file: byte 0x${hex} at offset ${bad} (flow files are UTF-8 YAML)`,
    offset: bad,
  };
}

/** One parsed flow file and the problems of its syntax. */
export interface ParsedFile {
  src: YamlSource;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** True when the file holds no document (empty, or only comments). */
  empty: boolean;
}

function duplicateKeys(src: YamlSource): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const stack: unknown[] = [src.doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = item.key;
        const id = isScalar(k) ? k.value : k;
        if (seen.has(id) && isScalar(k) && k.range) {
          const name = typeof id === "symbol" ? id.description ?? "" : String(id);
          out.push(
            issueAtOffset(
              src,
              k.range[0],
              [],
              `duplicate key ${quoteSource(name)} (keys must be unique)`,
            ),
          );
        }
        seen.add(id);
        stack.push(item.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return out;
}

function yamlIssue(
  src: YamlSource,
  e: { code: string; message: string; pos: [number, number] },
  severity: "error" | "warning",
): ConfigIssue {
  let msg = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  // The yaml library quotes the offending token: keep the quote short.
  msg = msg.replace(/: "(.*)"$/s, (_, token: string) => `: ${quoteSource(token, 40)}`);
  if (e.code === "MULTIPLE_DOCS") {
    msg = 'a flow file holds one YAML document: remove the "---" separator or split the file';
  } else {
    msg = `invalid YAML: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
  }
  return issueAtOffset(src, e.pos[0], [], msg, severity);
}

/** Parses the text of one flow file; all its syntax problems at once. */
export function parseFlowText(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  // uniqueKeys off: duplicateKeys() does the same check in linear time.
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    merge: true,
    prettyErrors: false,
  });
  const src: YamlSource = { file, text, doc, lineCounter };
  const errors = [...doc.errors.map((e) => yamlIssue(src, e, "error")), ...duplicateKeys(src)];
  if (errors.length > MAX_YAML_ERRORS) {
    const more = errors.length - MAX_YAML_ERRORS + 1;
    errors.splice(MAX_YAML_ERRORS - 1, Infinity, {
      ...errors[MAX_YAML_ERRORS - 1]!,
      message: `invalid YAML: ${more} more errors in this file (is it a flow file?)`,
    });
  }
  const warnings = doc.warnings.map((e) => yamlIssue(src, e, "warning"));
  const empty = doc.errors.length === 0 && doc.contents === null;
  if (empty) warnings.push(issueAtOffset(src, 0, [], "the file is empty", "warning"));
  return { src, errors, warnings, empty };
}

/** Nodes an alias expands to, memoised per anchored node. */
function expandedSizes(src: YamlSource): { alias: Node; size: number }[] {
  const sizes = new Map<unknown, number>();
  const aliases: { alias: Node; size: number }[] = [];
  const size = (node: unknown, depth: number): number => {
    if (depth > 64) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let n = 1;
    if (isAlias(node)) {
      const target = node.resolve(src.doc);
      n = target === undefined ? 1 : size(target, depth + 1);
      aliases.push({ alias: node, size: n });
    } else if (isMap(node)) {
      for (const item of node.items) {
        if (isPair(item)) n += size(item.key, depth + 1) + size(item.value, depth + 1);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) n += size(item, depth + 1);
    }
    n = Math.min(n, Number.MAX_SAFE_INTEGER);
    if (!isAlias(node)) sizes.set(node, n);
    return n;
  };
  size(src.doc.contents, 0);
  return aliases;
}

/**
 * The plain data of a parsed document, aliases and merge keys resolved, or an error located
 * at the alias that expands most when the document expands aliases too often.
 */
export function toData(src: YamlSource): { data: unknown; error?: ConfigIssue } {
  if (src.doc.contents === null) return { data: {} };
  try {
    return { data: src.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (e) {
    if (!(e instanceof ReferenceError) && !(e instanceof RangeError)) throw e;
    const worst = expandedSizes(src).sort((a, b) => b.size - a.size)[0];
    const offset = worst?.alias.range?.[0] ?? 0;
    const name = worst && isAlias(worst.alias) ? ` "*${worst.alias.source}"` : "";
    return {
      data: undefined,
      error: issueAtOffset(
        src,
        offset,
        [],
        `invalid YAML: aliases expand too much (more than ${MAX_ALIAS_COUNT} expansions, as in a "billion laughs" document); the alias${name} here expands to ${
          worst?.size ?? "many"
        } nodes: write the values out or use fewer aliases`,
      ),
    };
  }
}
