import { assertEquals } from "../tests/_assert.ts";
import { compileGlob, matchGlob } from "./glob.ts";

Deno.test("globs match whole names: * any run, ? one character, the rest literally", () => {
  const cases: [string, string, boolean][] = [
    ["temp*", "temp12", true],
    ["temp*", "temp", true],
    ["temp*", "xtemp1", false],
    ["*", "", true],
    ["", "", true],
    ["", "a", false],
    ["t?mp", "tamp", true],
    ["t?mp", "tmp", false],
    ["a.b(1)", "a.b(1)", true],
    ["a.b", "axb", false],
    ["*ab*b", "abb", true],
    ["*ab*b", "ab", false],
    ["a*b*c", "abbbc", true],
    ["a*b*c", "acb", false],
    ["*a*a*b", "aab", true],
    ["?*?", "x", false],
    ["a*\nb?", "axx\nyy\nbz", true],
  ];
  for (const [glob, name, want] of cases) {
    assertEquals(
      matchGlob(compileGlob(glob), name),
      want,
      `${JSON.stringify(glob)} on ${JSON.stringify(name)}`,
    );
  }
});

Deno.test("a glob that makes a backtracking regex exponential answers on a long name", () => {
  // As a JavaScript RegExp, ^.*a.*a.*a.*a.*a.*a.*b$ on 5,000 "a" would not return.
  const g = compileGlob("*a*a*a*a*a*a*b");
  assertEquals(matchGlob(g, "a".repeat(5000)), false);
  assertEquals(matchGlob(g, "a".repeat(5000) + "b"), true);
});
