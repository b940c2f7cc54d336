/**
 * @module
 * The gateway's version, kept in step with deno.json by a test.
 */

/** Bifrost's version. */
export const VERSION = "0.1.0";
