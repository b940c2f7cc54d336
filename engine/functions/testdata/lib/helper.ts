/** @module Test fixture: a helper module a function imports by relative path. */

/** A constant exported to the function. */
export const LABEL: string = "x2";

/** Doubles a number. */
export function double(n: number): number {
  return n * 2;
}
