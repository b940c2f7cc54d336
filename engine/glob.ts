/**
 * @module
 * Globs over names: `*` matches any run of characters, `?` exactly one; anything else matches
 * itself. A glob is split at its stars into pieces: the first piece must start the name, the
 * last end it, and every piece between is taken at its leftmost place (always right for `*`).
 * So a glob costs at most O(|glob| · |name|) on any name and in practice one pass over it: no
 * exponential blow-up like a backtracking regex on `*a*a*a*b`, and no regex engine to load.
 */

/** A compiled glob. */
export interface Glob {
  readonly pieces: readonly string[];
  readonly star: boolean;
}

/** Compiles a glob. */
export function compileGlob(glob: string): Glob {
  const pieces = glob.split("*");
  return { pieces, star: pieces.length > 1 };
}

/** Whether `piece` (with `?`) matches `s` at `at`. */
function pieceAt(s: string, at: number, piece: string): boolean {
  if (at + piece.length > s.length) return false;
  for (let i = 0; i < piece.length; i++) {
    const c = piece.charCodeAt(i);
    if (c !== 63 /* ? */ && c !== s.charCodeAt(at + i)) return false;
  }
  return true;
}

/**
 * Whether the whole of `s` matches `glob`.
 *
 * @example
 * ```ts
 * matchGlob(compileGlob("temp*"), "temp12"); // true
 * ```
 */
export function matchGlob(glob: Glob, s: string): boolean {
  const p = glob.pieces;
  if (!glob.star) return p[0]!.length === s.length && pieceAt(s, 0, p[0]!);
  const first = p[0]!;
  const last = p[p.length - 1]!;
  if (first.length + last.length > s.length) return false;
  if (!pieceAt(s, 0, first) || !pieceAt(s, s.length - last.length, last)) return false;
  let at = first.length;
  const end = s.length - last.length;
  for (let k = 1; k < p.length - 1; k++) {
    const piece = p[k]!;
    let found = -1;
    for (let i = at; i + piece.length <= end; i++) {
      if (pieceAt(s, i, piece)) {
        found = i;
        break;
      }
    }
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}
