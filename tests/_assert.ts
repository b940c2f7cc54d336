/**
 * @module
 * Assertions for tests (no @std here: JSR is out of reach), on top of node:assert.
 */

import nodeAssert from "node:assert/strict";

/** Asserts that `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  if (msg === undefined) nodeAssert.ok(cond);
  else nodeAssert.ok(cond, msg);
}

/** Asserts deep equality. */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  if (msg === undefined) nodeAssert.deepStrictEqual(actual, expected);
  else nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts that `fn` throws (or rejects) an error whose message matches `pattern`. */
export async function assertRejects(
  fn: () => unknown,
  pattern?: RegExp,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (pattern && !(e instanceof Error && pattern.test(e.message))) {
      throw new nodeAssert.AssertionError({
        message: `Expected an error matching ${pattern}, got: ${
          e instanceof Error ? e.message : e
        }`,
      });
    }
    return e as Error;
  }
  throw new nodeAssert.AssertionError({ message: "Expected the call to throw" });
}

/** Asserts that `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp): void {
  nodeAssert.match(text, pattern);
}

/** Polls `cond` every 10 ms until it holds or `ms` passes. */
export async function waitFor(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
