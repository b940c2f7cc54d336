/**
 * @module
 * Tag patterns of the live-data API: globs over `device/tag` names. `*` matches any run of
 * characters within a segment (never `/`), `?` exactly one; anything else matches itself.
 * So `plant1/temp*` matches the tags of `plant1` whose name starts with `temp`, `press-?/*`
 * every tag of `press-1` … `press-9`, and a device segment of `*` every device.
 *
 * Matching never backtracks more than one step: each segment's pattern is split at its
 * stars into pieces, the first piece must start the segment, the last end it, and every
 * piece between is taken at its leftmost place (which is always right for `*`). So a
 * pattern costs at most O(|pattern| · |name|) on any name (no exponential blow-up like a
 * backtracking regex on `*a*a*a*b`), and in practice one pass over the name.
 */

/** A compiled pattern. */
export interface TagPattern {
  readonly source: string;
  /** Whether `device/tag` matches. */
  matches(device: string, tag: string): boolean;
}

/** Longest pattern accepted, characters. */
export const MAX_PATTERN_LENGTH = 256;

type Segment = { pieces: string[]; star: boolean };

function compileSegment(s: string): Segment {
  const pieces = s.split("*");
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

function matchSegment(seg: Segment, s: string): boolean {
  const p = seg.pieces;
  if (!seg.star) return p[0]!.length === s.length && pieceAt(s, 0, p[0]!);
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

/**
 * Compiles a `device/tag` glob. Throws a RangeError saying what is wrong with it: empty,
 * longer than 256 characters, or not two segments.
 *
 * @example
 * ```ts
 * compilePattern("plant1-?/temp*").matches("plant1-a", "temp3"); // true
 * ```
 */
export function compilePattern(source: string): TagPattern {
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    throw new RangeError(
      `Pattern must have 1 to ${MAX_PATTERN_LENGTH} characters, got ${source.length}`,
    );
  }
  const parts = source.split("/");
  if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
    throw new RangeError(
      `Pattern "${source}" must be "device/tag" (one "/", e.g. "press-*/temp*" or "*/*")`,
    );
  }
  const device = compileSegment(parts[0]!);
  const tag = compileSegment(parts[1]!);
  return {
    source,
    matches: (d, t) => matchSegment(device, d) && matchSegment(tag, t),
  };
}
