/** @module Test fixture: a module without a default export. */
export const notAFunction = 42;
