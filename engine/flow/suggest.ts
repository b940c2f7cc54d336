/**
 * @module
 * "Did you mean …?" suggestions for misspelt names and fields. The distance is Levenshtein
 * with adjacent transpositions counted as one edit (optimal string alignment), because
 * `tmep1` for `temp1` is the typo people actually make.
 */

/** The edit distance between two strings (insert, delete, substitute, swap neighbours). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const n = b.length + 1;
  if (rowBuffer.length < 3 * n) rowBuffer = new Int32Array(6 * n);
  // Three rolling rows in one reused buffer: this runs thousands of times per check.
  let twoUp = rowBuffer.subarray(0, n);
  let prev = rowBuffer.subarray(n, 2 * n);
  let row = rowBuffer.subarray(2 * n, 3 * n);
  for (let j = 0; j < n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j < n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, twoUp[j - 2]! + 1);
      }
      row[j] = d;
    }
    const t = twoUp;
    twoUp = prev;
    prev = row;
    row = t;
  }
  return prev[n - 1]!;
}

let rowBuffer = new Int32Array(96);

/**
 * Most edit distances one suggestion computes. A poll naming 2,000 unknown tags of a device
 * of 50,000 compared every pair (87 s); past this many, further candidates only match when
 * they differ in case alone, so a suggestion from a huge set may be missed, never wrong.
 */
export const MAX_DISTANCES = 2_000;

/**
 * The candidate closest to `word`, or `undefined` when none is close enough to be a typo
 * (at most 1 edit for words up to 3 characters, 2 up to 6, 3 beyond). Case differences
 * alone always match. Ties go to the earlier candidate.
 *
 * @example
 * ```ts
 * didYouMean("tmep1", ["temp1", "temp2", "pressure"]); // "temp1"
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  let budget = MAX_DISTANCES;
  for (const c of candidates) {
    if (c === word) continue;
    // The distance is at least the difference in length: most candidates stop here.
    if (Math.abs(c.length - word.length) > Math.min(limit, bestDistance)) continue;
    let d: number;
    if (c.toLowerCase() === lower) d = 0;
    else if (budget-- > 0) d = editDistance(word, c);
    else continue;
    if (d < bestDistance && d <= limit && d < Math.max(word.length, c.length)) {
      best = c;
      bestDistance = d;
      if (d === 0) break;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or an empty string. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : ` (did you mean "${s}"?)`;
}
