/**
 * @module
 * A small checked walk over a YAML document's nodes for the simulator's config: each read
 * names what it expected and where (`file:line:column`), an unknown key names the known ones.
 * The simulator validates while it walks the nodes (not a JSON Schema afterwards) because the
 * walk has every node's range at hand, and plugins may not use the engine's flow positions.
 */

import { isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from "yaml";
import { parseDuration } from "../../../engine/plugin.ts";

/** One problem, located. */
export interface SimIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Formats an issue as the CLI prints it. */
export function formatSimIssue(i: SimIssue): string {
  return `${i.file}:${i.line}:${i.column} error: ${i.message}`;
}

/** Reads nodes of one document and collects the issues found. */
export class YamlReader {
  readonly issues: SimIssue[] = [];
  constructor(readonly file: string, readonly lines: LineCounter) {}

  /** `file:line:column` of a node. */
  at(node: Node | null | undefined): string {
    const p = this.pos(node);
    return `${this.file}:${p.line}:${p.column}`;
  }

  pos(node: Node | null | undefined): { line: number; column: number } {
    const r = node?.range;
    if (!r) return { line: 1, column: 1 };
    const p = this.lines.linePos(r[0]);
    return { line: p.line, column: p.col };
  }

  fail(node: Node | null | undefined, message: string): undefined {
    this.issues.push({ file: this.file, ...this.pos(node), message });
    return undefined;
  }

  /** The entries of a mapping, keys checked against `known` (null: any key). */
  map(
    node: Node | null | undefined,
    what: string,
    known: readonly string[] | null,
  ): [string, Node | null, Pair][] | undefined {
    if (node === null || node === undefined) return [];
    if (!isMap(node)) return this.fail(node, `${what} must be a mapping, got ${kind(node)}`);
    const out: [string, Node | null, Pair][] = [];
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k === undefined) {
        this.fail(pair.key as Node, `${what} has a key that is not text`);
        continue;
      }
      if (known && !known.includes(k)) {
        this.fail(
          pair.key as Node,
          `Unknown key "${k}" in ${what[0]!.toLowerCase()}${what.slice(1)} (known: ${
            known.join(", ")
          })`,
        );
        continue;
      }
      out.push([k, (pair.value ?? null) as Node | null, pair]);
    }
    return out;
  }

  /** The items of a sequence. */
  seq(node: Node | null | undefined, what: string): (Node | null)[] | undefined {
    if (!isSeq(node)) return this.fail(node, `${what} must be a list, got ${kind(node)}`);
    return node.items as (Node | null)[];
  }

  /** A plain value (scalar or nested), as JS. */
  js(node: Node | null | undefined): unknown {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) return node.value;
    if (isSeq(node)) return node.items.map((i) => this.js(i as Node | null));
    if (isMap(node)) {
      return Object.fromEntries(
        node.items.map((p) => [String(this.js(p.key as Node)), this.js(p.value as Node | null)]),
      );
    }
    return node.toJSON();
  }

  str(node: Node | null | undefined, what: string): string | undefined {
    const v = this.scalar(node);
    if (typeof v !== "string" || v === "") {
      return this.fail(node, `${what} must be non-empty text, got ${show(v)}`);
    }
    return v;
  }

  num(node: Node | null | undefined, what: string): number | undefined {
    let v = this.scalar(node);
    if (typeof v === "bigint") v = Number(v);
    if (typeof v !== "number" || !Number.isFinite(v)) {
      return this.fail(node, `${what} must be a number, got ${show(v)}`);
    }
    return v;
  }

  int(node: Node | null | undefined, what: string, min: number, max: number): number | undefined {
    const v = this.num(node, what);
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min || v > max) {
      return this.fail(node, `${what} must be an integer from ${min} to ${max}, got ${v}`);
    }
    return v;
  }

  bool(node: Node | null | undefined, what: string): boolean | undefined {
    const v = this.scalar(node);
    if (typeof v !== "boolean") {
      return this.fail(node, `${what} must be true or false, got ${show(v)}`);
    }
    return v;
  }

  /** A duration (`"250ms"`, `"1s"` or milliseconds), in ms. */
  duration(node: Node | null | undefined, what: string, zero = true): number | undefined {
    let v = this.scalar(node);
    if (typeof v === "bigint") v = Number(v);
    try {
      if (typeof v !== "string" && typeof v !== "number") throw new RangeError("not a duration");
      const ms = parseDuration(v);
      if (ms < 0 || (!zero && ms === 0)) throw new RangeError("out of range");
      return ms;
    } catch {
      return this.fail(
        node,
        `${what} must be a duration${zero ? "" : " above 0"} such as "500ms" or "10s", got ${
          show(v)
        }`,
      );
    }
  }

  /** One of `choices`. */
  oneOf<T extends string>(
    node: Node | null | undefined,
    what: string,
    choices: readonly T[],
  ): T | undefined {
    const v = this.scalar(node);
    if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) {
      return this.fail(node, `${what} must be one of ${choices.join(", ")}, got ${show(v)}`);
    }
    return v as T;
  }

  scalar(node: Node | null | undefined): unknown {
    if (node === null || node === undefined) return null;
    return this.js(node);
  }
}

function kind(node: Node | null | undefined): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  return show(isScalar(node) ? node.value : node);
}

/** A value for a message: JSON, bigints as digits. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(",")}]`;
  return JSON.stringify(v) ?? String(v);
}
