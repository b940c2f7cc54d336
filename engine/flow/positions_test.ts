import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import {
  formatIssue,
  fromPointer,
  issueAt,
  positionOf,
  toPointer,
  type YamlSource,
} from "./positions.ts";

function source(text: string): YamlSource {
  const lineCounter = new LineCounter();
  return {
    file: "flows/boiler.yaml",
    text,
    doc: parseDocument(text, { lineCounter, merge: true }),
    lineCounter,
  };
}

const TEXT = `devices:
  boiler-plc:
    port: 502
    tags:
      temp1: { address: HR0 }
polls:
  fast:
    tags: [temp1, tmep1]
    empty:
base: &base { host: a }
derived:
  <<: *base
  port: 1
`;

Deno.test("formatIssue() prints file:line:column severity: message", () => {
  const issue = issueAt(source(TEXT), ["polls", "fast", "tags", 1], 'unknown tag "tmep1"');
  assert.equal(formatIssue(issue), 'flows/boiler.yaml:8:19 error: unknown tag "tmep1"');
  assert.equal(issue.path, "/polls/fast/tags/1");
});

Deno.test("positionOf() points at a value or at its key", () => {
  const src = source(TEXT);
  assert.deepEqual(positionOf(src, ["devices", "boiler-plc", "port"]), { line: 3, column: 11 });
  assert.deepEqual(positionOf(src, ["devices", "boiler-plc", "port"], "key"), {
    line: 3,
    column: 5,
  });
  assert.deepEqual(positionOf(src, ["devices", "boiler-plc", "tags", "temp1", "address"]), {
    line: 5,
    column: 25,
  });
});

Deno.test("positionOf() falls back to the nearest node in the source", () => {
  const src = source(TEXT);
  assert.deepEqual(positionOf(src, ["devices", "boiler-plc", "timeout"]), { line: 2, column: 3 });
  assert.deepEqual(positionOf(src, ["polls", "fast", "empty"]), { line: 9, column: 5 });
  assert.deepEqual(positionOf(src, []), { line: 1, column: 1 });
});

Deno.test("positionOf() follows merge keys", () => {
  assert.deepEqual(positionOf(source(TEXT), ["derived", "host"]), { line: 10, column: 21 });
});

Deno.test("toPointer() and fromPointer() escape ~ and /", () => {
  assert.equal(toPointer(["a/b", "c~d", 0]), "/a~1b/c~0d/0");
  assert.deepEqual(fromPointer("/a~1b/c~0d/0"), ["a/b", "c~d", "0"]);
  assert.deepEqual(fromPointer(""), []);
});
