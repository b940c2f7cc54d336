/**
 * @module
 * Helpers shared by the built-in steps: spec fields for record selection (`tags`, `devices`
 * as names or globs), glob matching with a per-name cache (tag and device names come from a
 * small set, so after the first batch a match is one Map lookup and no allocation), and
 * in-place compaction of a {@linkcode Batch}.
 */

import { Type } from "@sinclair/typebox";
import { type Batch, compileGlob, matchGlob } from "../engine/plugin.ts";

/** The `tags` field: which tags a step applies to. */
export const TagsField = Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
  minItems: 1,
  description:
    "Tag names or globs (`*` any text, `?` one character) this applies to; all tags when absent.",
  examples: [["temp1", "temp2"], ["temp*"]],
}));

/** The `devices` field: which devices a step applies to. */
export const DevicesField = Type.Optional(Type.Array(Type.String({ minLength: 1 }), {
  minItems: 1,
  description: "Device names or globs this applies to; all devices when absent.",
  examples: [["boiler-plc"], ["press-*"]],
}));

/** Most distinct names a matcher remembers before it starts over. */
const CACHE_LIMIT = 10_000;

/**
 * Turns a glob (`*` any run of characters, `?` one character) into a whole-name test, in
 * O(|glob| · |name|) at most (`engine/glob.ts`): as a JavaScript RegExp, `*a*a*a*a*a*a*b`
 * took seconds on a 50-character name and froze the gateway on a longer one.
 *
 * @example
 * ```ts
 * globToRegExp("temp*").test("temp12"); // true
 * ```
 */
export function globToRegExp(glob: string): { test(name: string): boolean } {
  const g = compileGlob(glob);
  return { test: (name) => matchGlob(g, name) };
}

/** True when `s` contains a glob character. */
export function isGlob(s: string): boolean {
  return s.includes("*") || s.includes("?");
}

/** A name test, `undefined` meaning "every name". */
export type NameMatcher = ((name: string) => boolean) | undefined;

/**
 * Compiles a list of names and globs into a cached test. Returns `undefined` when the list
 * is absent or empty (everything matches), so hot loops can skip the call.
 */
export function nameMatcher(patterns: readonly string[] | undefined): NameMatcher {
  if (!patterns || patterns.length === 0) return undefined;
  if (patterns.includes("*")) return undefined;
  const exact = new Set<string>();
  const globs: { test(name: string): boolean }[] = [];
  for (const p of patterns) {
    if (isGlob(p)) globs.push(globToRegExp(p));
    else exact.add(p);
  }
  if (globs.length === 0) return (name) => exact.has(name);
  const cache = new Map<string, boolean>();
  return (name) => {
    const hit = cache.get(name);
    if (hit !== undefined) return hit;
    let ok = exact.has(name);
    for (let k = 0; !ok && k < globs.length; k++) ok = globs[k]!.test(name);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(name, ok);
    return ok;
  };
}

/** Which records a step applies to, by tag and device. */
export interface Selector {
  tags: NameMatcher;
  devices: NameMatcher;
}

/** Builds a {@linkcode Selector} from a step's `tags` and `devices` fields. */
export function selector(
  config: { tags?: readonly string[]; devices?: readonly string[] },
): Selector {
  return { tags: nameMatcher(config.tags), devices: nameMatcher(config.devices) };
}

/** True when record `i` of `b` is selected. */
export function selected(sel: Selector, b: Batch, i: number): boolean {
  return (sel.tags === undefined || sel.tags(b.tag[i]!)) &&
    (sel.devices === undefined || sel.devices(b.device[i]!));
}

/**
 * Moves record `from` to index `to` (`to < from`) of the same batch. Used to drop records
 * in place: the kept ones slide down and `length` is set at the end.
 */
export function moveRecord(b: Batch, from: number, to: number): void {
  b.device[to] = b.device[from]!;
  b.tag[to] = b.tag[from]!;
  b.num[to] = b.num[from]!;
  b.kind[to] = b.kind[from]!;
  b.obj[to] = b.obj[from];
  b.quality[to] = b.quality[from]!;
  b.reason[to] = b.reason[from];
  b.sourceTs[to] = b.sourceTs[from]!;
  b.gatewayTs[to] = b.gatewayTs[from]!;
  b.seq[to] = b.seq[from]!;
}

/**
 * Sets the batch's length to `n` after an in-place compaction, and clears the sparse
 * object columns past it so dropped values can be collected.
 */
export function truncate(b: Batch, n: number): void {
  if (b.obj.length > n) b.obj.length = n;
  if (b.reason.length > n) b.reason.length = n;
  b.length = n;
}
