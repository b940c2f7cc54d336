import assert from "node:assert/strict";
import { parseWriteInput } from "./write_input.ts";

Deno.test("parseWriteInput() takes the value of the tag's kind and says what it expected", () => {
  assert.equal(parseWriteInput(" 72.5 ", "float"), 72.5);
  assert.equal(parseWriteInput("1e3", "float32"), 1000);
  assert.equal(parseWriteInput("-4", "int16"), -4);
  assert.equal(parseWriteInput("on", "boolean"), true);
  assert.equal(parseWriteInput("FALSE", "bool"), false);
  assert.equal(parseWriteInput("9007199254740993", "uint64"), "9007199254740993");
  assert.equal(parseWriteInput("12", "bigint"), 12);
  assert.equal(parseWriteInput(" padded ", "string"), " padded ");
  assert.deepEqual(parseWriteInput("[1, 2]", "array"), [1, 2]);
  assert.throws(() => parseWriteInput("abc", "float"), /"abc" is not a number/);
  assert.throws(() => parseWriteInput("1.5", "integer"), /"1.5" is not an integer/);
  assert.throws(() => parseWriteInput("yes", "boolean"), /enter true or false/);
  assert.throws(() => parseWriteInput("", "float"), /Enter a value \(float\)/);
  assert.throws(() => parseWriteInput("{}", "array"), /not a JSON list/);
});
