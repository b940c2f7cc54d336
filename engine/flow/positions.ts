/**
 * @module
 * From a path inside a flow document to `file:line:column`. Paths are arrays of keys and
 * indexes (`["devices", "boiler-plc", "port"]`); JSON pointers (`/devices/boiler-plc/port`)
 * are their text form. The walk follows aliases and `<<` merge keys, and falls back to the
 * nearest existing ancestor when a node is not in the source (a default, a merged key).
 */

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import type { Document } from "yaml";
import type { ConfigIssue } from "./issue.ts";

export { type ConfigIssue, formatIssue } from "./issue.ts";

/** A path inside a flow document. */
export type DocPath = readonly (string | number)[];

/** One parsed flow file. */
export interface YamlSource {
  /** Path as shown to users (the flow directory as given, joined with the file name). */
  file: string;
  text: string;
  doc: Document;
  lineCounter: LineCounter;
}

/** Which part of a map entry an issue points at. */
export type Anchor = "key" | "value";

/** The JSON pointer of a path (RFC 6901 escaping). */
export function toPointer(path: DocPath): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** The path of a JSON pointer (as strings). */
export function fromPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function deref(doc: Document, n: unknown): unknown {
  return isAlias(n) ? n.resolve(doc) : n;
}

function keyText(k: unknown): string | undefined {
  if (isScalar(k)) return typeof k.value === "symbol" ? k.value.description : String(k.value);
  return undefined;
}

interface Found {
  key?: Node;
  value?: Node;
}

/** A map's pairs by key (the first of each) and its merge sources. */
interface MapIndex {
  pairs: Map<string, Pair>;
  merges: unknown[];
}

/**
 * Key indexes of the maps looked into, built on the first lookup: an issue per tag of a
 * device of 20,000 tags scanned its `tags` map once per issue (quadratic). Keys are never
 * changed after parsing (substitution changes values only).
 */
const indexes = new WeakMap<object, MapIndex>();

function indexOf(doc: Document, map: YAMLMap): MapIndex {
  let index = indexes.get(map);
  if (index) return index;
  index = { pairs: new Map(), merges: [] };
  for (const item of map.items) {
    if (!isPair(item)) continue;
    const k = keyText(item.key);
    if (k === undefined) continue;
    if (!index.pairs.has(k)) index.pairs.set(k, item);
    if (k === "<<") index.merges.push(deref(doc, item.value));
  }
  indexes.set(map, index);
  return index;
}

function findInMap(doc: Document, map: unknown, seg: string, depth = 0): Found | undefined {
  if (!isMap(map) || depth > 8) return undefined;
  const { pairs, merges } = indexOf(doc, map);
  const item = pairs.get(seg);
  if (item) {
    return { key: item.key as Node, value: (deref(doc, item.value) ?? undefined) as Node };
  }
  for (const m of merges) {
    const sources = isSeq(m) ? m.items.map((i) => deref(doc, i)) : [m];
    for (const s of sources) {
      const f = findInMap(doc, s, seg, depth + 1);
      if (f) return f;
    }
  }
  return undefined;
}

/** The key and value nodes at `path`, or those of the deepest ancestor found. */
export function nodeAt(doc: Document, path: DocPath): Found & { depth: number } {
  let cur: unknown = deref(doc, doc.contents);
  let found: Found & { depth: number } = { value: (cur ?? undefined) as Node, depth: 0 };
  for (let i = 0; i < path.length; i++) {
    const seg = String(path[i]);
    if (isSeq(cur)) {
      const item = deref(doc, cur.items[Number(seg)]);
      if (!/^\d+$/.test(seg) || item === undefined) return found;
      found = { value: item as Node, depth: i + 1 };
      cur = item;
    } else {
      const f = findInMap(doc, cur, seg);
      if (!f) return found;
      found = { ...f, depth: i + 1 };
      cur = f.value;
    }
  }
  return found;
}

function linePos(src: YamlSource, offset: number): { line: number; column: number } {
  const p = src.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
}

/** Line and column (1-based) of the node at `path`: its key or its value. */
export function positionOf(
  src: YamlSource,
  path: DocPath,
  anchor: Anchor = "value",
): { line: number; column: number } {
  const f = nodeAt(src.doc, path);
  const partial = f.depth < path.length;
  const value = f.value?.range;
  const emptyValue = !value || value[0] === value[1] ||
    (isScalar(f.value) && f.value.value === null && value[0] === value[1]);
  const node = (anchor === "key" || partial || emptyValue) && f.key ? f.key : f.value;
  const range = node?.range;
  if (!range) return { line: 1, column: 1 };
  return linePos(src, range[0]);
}

/** Builds an issue located at `path` in `src`. */
export function issueAt(
  src: YamlSource,
  path: DocPath,
  message: string,
  options: { anchor?: Anchor; severity?: "error" | "warning" } = {},
): ConfigIssue {
  const pos = positionOf(src, path, options.anchor ?? "value");
  return {
    file: src.file,
    line: pos.line,
    column: pos.column,
    path: toPointer(path),
    message,
    severity: options.severity ?? "error",
  };
}

/** Builds an issue at a raw source offset. */
export function issueAtOffset(
  src: YamlSource,
  offset: number,
  path: DocPath,
  message: string,
  severity: "error" | "warning" = "error",
): ConfigIssue {
  const pos = linePos(src, offset);
  return { file: src.file, ...pos, path: toPointer(path), message, severity };
}

/**
 * The source offset of character `offset` of the string scalar at `path`: exact for plain and
 * quoted scalars written on one line without escapes before that character, and for literal
 * block scalars (`|`); otherwise the start of the value.
 */
export function offsetInScalar(src: YamlSource, path: DocPath, offset: number): number | undefined {
  const f = nodeAt(src.doc, path);
  if (f.depth < path.length || !isScalar(f.value) || typeof f.value.value !== "string") {
    return undefined;
  }
  const node = f.value;
  const value = node.value as string;
  const range = node.range;
  if (!range) return undefined;
  const start = range[0];
  const before = value.slice(0, offset);
  switch (node.type) {
    case "PLAIN":
      return src.text.startsWith(before, start) ? start + offset : start;
    case "QUOTE_DOUBLE":
    case "QUOTE_SINGLE":
      return src.text.startsWith(before, start + 1) ? start + 1 + offset : start;
    case "BLOCK_LITERAL": {
      // Content starts on the line after the header; every line carries the same indent.
      const lines = before.split("\n");
      let at = src.text.indexOf("\n", start) + 1;
      if (at === 0) return start;
      let indent = 0;
      while (src.text[at + indent] === " ") indent++;
      for (let k = 0; k < lines.length - 1; k++) {
        const next = src.text.indexOf("\n", at);
        if (next < 0) return start;
        at = next + 1;
      }
      return at + indent + lines[lines.length - 1]!.length;
    }
    default:
      return start;
  }
}

/** Builds an issue at character `offset` of the string value at `path` (see {@linkcode offsetInScalar}). */
export function issueInString(
  src: YamlSource,
  path: DocPath,
  offset: number,
  message: string,
): ConfigIssue {
  const at = offsetInScalar(src, path, offset);
  return at === undefined ? issueAt(src, path, message) : issueAtOffset(src, at, path, message);
}
