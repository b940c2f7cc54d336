/**
 * @module
 * Assertions for the Modbus tests, on `node:assert/strict` (no `@std` here).
 */

import assert from "node:assert/strict";

/** Deep equality. */
export function assertEquals<T>(actual: unknown, expected: T, msg?: string): void {
  if (msg === undefined) assert.deepStrictEqual(actual, expected);
  else assert.deepStrictEqual(actual, expected, msg);
}

/** Throws unless `fn` throws an instance of `type` whose message includes `includes`. */
export function assertThrows(
  fn: () => unknown,
  type: new (...a: never[]) => Error,
  includes = "",
): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  assert.ok(
    (caught as Error).message.includes(includes),
    `expected message to include "${includes}", got "${(caught as Error).message}"`,
  );
  return caught as Error;
}

/** Like {@linkcode assertThrows} for promises. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  type: new (...a: never[]) => Error,
  includes = "",
): Promise<Error> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)}`);
  assert.ok(
    (caught as Error).message.includes(includes),
    `expected message to include "${includes}", got "${(caught as Error).message}"`,
  );
  return caught as Error;
}
