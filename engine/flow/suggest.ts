/**
 * @module
 * "Did you mean …?" suggestions for misspelt names and fields. The distance is Levenshtein
 * with adjacent transpositions counted as one edit (optimal string alignment), because
 * `tmep1` for `temp1` is the typo people actually make.
 */

/** The edit distance between two strings (insert, delete, substitute, swap neighbours). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const prev = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row[j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

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
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestDistance && d <= limit && d < Math.max(word.length, c.length)) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or an empty string. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : ` (did you mean "${s}"?)`;
}
