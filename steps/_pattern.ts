/**
 * @module
 * Regular expressions written in flows run on RE2 (`re2js`, a pure-JS port): matching time is
 * linear in the input, so a pattern such as `^(a+)+$` cannot freeze the gateway on a long tag
 * name the way a backtracking engine (JavaScript's own RegExp) does. RE2 has no
 * backreferences and no lookaround; a pattern that uses them is refused at `check` with the
 * construct and its position in the pattern, instead of RE2's bare syntax error.
 */

import { RE2JS } from "re2js";

/** A compiled flow pattern. */
export type FlowPattern = RE2JS;

const CONSTRUCTS: [RegExp, string][] = [
  [/^\(\?<=/, "lookbehind"],
  [/^\(\?<!/, "negative lookbehind"],
  [/^\(\?=/, "lookahead"],
  [/^\(\?!/, "negative lookahead"],
  [/^\\[1-9][0-9]*/, "backreference"],
  [/^\\k<[^>]*>/, "named backreference"],
];

/** The first construct RE2 does not support, with its 0-based index, if any. */
export function unsupportedConstruct(
  source: string,
): { what: string; text: string; index: number } | undefined {
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (!inClass) {
      const rest = source.slice(i, i + 40);
      for (const [re, what] of CONSTRUCTS) {
        const m = re.exec(rest);
        if (m) return { what, text: m[0], index: i };
      }
    }
    if (ch === "\\") i++;
    else if (ch === "[") inClass = true;
    else if (ch === "]") inClass = false;
  }
  return undefined;
}

/**
 * Compiles a pattern written in a flow, or says why it cannot be used. `field` names the
 * field in the message.
 *
 * @example
 * ```ts
 * const r = compilePattern("^temp(\\d+)$");
 * if (r.pattern) r.pattern.matcher("temp12").replaceFirst("t-$1"); // "t-12"
 * ```
 */
export function compilePattern(
  source: string,
): { pattern: FlowPattern; error?: undefined } | { pattern?: undefined; error: string } {
  const shown = `"${source.length > 80 ? source.slice(0, 80) + "…" : source}"`;
  const bad = unsupportedConstruct(source);
  if (bad) {
    return {
      error: `Cannot use pattern ${shown}: ${bad.what} "${bad.text}" at character ${
        bad.index + 1
      } is not supported (patterns run on RE2, a linear-time engine without backreferences or lookaround)`,
    };
  }
  try {
    return { pattern: RE2JS.compile(source) };
  } catch (e) {
    const err = e as Error & { getDescription?: () => string; input?: string | null };
    const what = err.getDescription?.() ?? err.message;
    const at = err.input ? source.indexOf(err.input) : -1;
    const where = err.input
      ? ` "${err.input.length > 40 ? err.input.slice(0, 40) + "…" : err.input}"${
        at >= 0 ? ` at character ${at + 1}` : ""
      }`
      : "";
    return { error: `Cannot compile pattern ${shown}: ${what}${where}` };
  }
}
