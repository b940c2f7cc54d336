/** @module Tests of flow parsing against hostile input: binary, empty, aliases, size. */

import assert from "node:assert/strict";
import { formatIssue } from "./positions.ts";
import { decodeFlowFile, firstBinaryByte, parseFlowText, quoteSource, toData } from "./parse.ts";
import { loadFiles } from "./_test_sources.ts";
import { loadFlows } from "../../app/registries.ts";
import { deviceYaml } from "../../scripts/bench/validate.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

Deno.test("firstBinaryByte() finds a NUL, a control byte or invalid UTF-8, and passes text", () => {
  const text = new TextEncoder().encode('temp: "°C"\t€ 𝄞\r\n');
  assert.equal(firstBinaryByte(text), -1);
  assert.equal(firstBinaryByte(bytes(0x61, 0x00)), 1);
  assert.equal(firstBinaryByte(bytes(0x61, 0x1b)), 1);
  assert.equal(firstBinaryByte(bytes(0x61, 0x62, 0xff)), 2);
  assert.equal(firstBinaryByte(bytes(0xc3)), 0, "a sequence cut short");
  assert.equal(firstBinaryByte(bytes(0xe2, 0x82, 0x41)), 0, "a bad continuation byte");
  assert.equal(firstBinaryByte(bytes(0xc0, 0x80)), 0, "an overlong NUL");
});

Deno.test("decodeFlowFile() names the byte and its offset, never the content", () => {
  const r = decodeFlowFile(new TextEncoder().encode("devices:\n  x\0secret"));
  assert.equal(r.error, "not a text file: byte 0x00 at offset 12 (flow files are UTF-8 YAML)");
  assert.equal(decodeFlowFile(bytes(0xef, 0xbb, 0xbf, 0x61)).text, "a", "a BOM is dropped");
});

Deno.test("loadFlows() gives a binary file one short positioned error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 256);
    await Deno.writeFile(
      `${dir}/a.yaml`,
      new Uint8Array([...new TextEncoder().encode("x:\n"), ...garbage]),
    );
    const r = await loadFlows(dir);
    assert.equal(r.errors.length, 1);
    const line = formatIssue(r.errors[0]!);
    assert.ok(line.length < dir.length + 120, line);
    assert.match(line, /a\.yaml:2:\d+ error: not a text file: byte 0x[0-9a-f]{2} at offset \d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("quoteSource() cuts long text and escapes control characters", () => {
  assert.equal(quoteSource("ab"), '"ab"');
  assert.equal(quoteSource("a\u0007b\n"), '"a\\u0007b\\n"');
  const long = quoteSource("x".repeat(4096));
  assert.ok(long.length < 110, long);
  assert.match(long, /…" \(4096 characters\)$/);
});

Deno.test("a 4 KB string where a map belongs is quoted short", async () => {
  const r = await loadFiles({ "a.yaml": "devices: " + "y".repeat(4096) + "\n" });
  assert.equal(r.lines.length, 1);
  assert.ok(r.lines[0]!.length < 200, r.lines[0]!);
  assert.match(r.lines[0]!, /\(4096 characters\)/);
});

Deno.test("an empty file and a file of comments are warnings", async () => {
  const r = await loadFiles({ "a.yaml": "", "b.yaml": "# nothing yet\n" });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.lines, [
    "a.yaml:1:1 warning: the file is empty",
    "b.yaml:1:1 warning: the file is empty",
  ]);
  assert.equal(r.flows?.files.length, 2);
});

Deno.test("duplicate keys are found in every map, flow and block, at the later key", () => {
  const p = parseFlowText("f.yaml", "a: 1\nb: { x: 1, y: 2, x: 3 }\nc: [ { k: 1, k: 2 } ]\na: 2\n");
  assert.deepEqual(p.errors.map((e) => `${e.line}:${e.column} ${e.message}`).sort(), [
    '2:18 duplicate key "x" (keys must be unique)',
    '3:14 duplicate key "k" (keys must be unique)',
    '4:1 duplicate key "a" (keys must be unique)',
  ]);
});

Deno.test("a billion-laughs document is a positioned error, not a ReferenceError", async () => {
  const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (const [prev, cur] of [["a", "b"], ["b", "c"], ["c", "d"], ["d", "e"], ["e", "f"]]) {
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(", ")}]`);
  }
  const text = `x-lol:\n${levels.map((l) => "  " + l).join("\n")}\n`;
  const parsed = parseFlowText("f.yaml", text);
  const r = toData(parsed.src);
  assert.equal(r.data, undefined);
  assert.equal(r.error?.line, 7, "the alias that expands most");
  assert.match(r.error!.message, /aliases expand too much .* "\*e" here expands to \d+ nodes/);
  // Also when the file has syntax errors besides (they are reported, the bomb not expanded).
  const both = await loadFiles({ "a.yaml": text + "oops: [\n" });
  assert.ok(both.errors.length >= 1);
  assert.ok(both.lines.every((l) => !/ReferenceError/.test(l)), both.lines.join("\n"));
  // A few aliases are fine.
  const ok = parseFlowText("f.yaml", "a: &x { k: 1 }\nb: *x\nc: { <<: *x, m: 2 }\n");
  assert.deepEqual(toData(ok.src).data, { a: { k: 1 }, b: { k: 1 }, c: { k: 1, m: 2 } });
});

async function loadTime(tags: number): Promise<number> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.yaml`,
      `devices:\n${deviceYaml("plc", tags)}polls:\n  p: { device: plc, tags: "*", every: 10s }\n` +
        "sinks:\n  out: { use: console, from: p }\n",
    );
    let best = Infinity;
    for (let run = 0; run < 2; run++) {
      const t0 = performance.now();
      const r = await loadFlows(dir);
      best = Math.min(best, performance.now() - t0);
      assert.deepEqual(r.errors, []);
    }
    return best;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function parseTime(tags: number): number {
  const text = `devices:\n${deviceYaml("plc", tags)}`;
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    assert.deepEqual(parseFlowText("a.yaml", text).errors, []);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

Deno.test("parsing a device grows linearly with its tags", () => {
  // The yaml library's duplicate-key check compared each key with every earlier one: 32,000
  // tags took about 90 times as long as 2,000. Sixteen times the tags must take less than
  // twice sixteen times as long.
  parseTime(500);
  const small = parseTime(2_000);
  const large = parseTime(32_000);
  assert.ok(large / small < 32, `2,000 tags ${small.toFixed(0)} ms, 32,000 ${large.toFixed(0)} ms`);
});

Deno.test("checking a device grows linearly with its tags", async () => {
  // Was quadratic (the yaml library's duplicate-key check): 24k tags took 7 s, 48k 37 s.
  // Eight times the tags must take less than twice eight times as long.
  await loadTime(500); // compiles the schema
  const small = await loadTime(2_000);
  const large = await loadTime(16_000);
  assert.ok(large / small < 16, `2,000 tags ${small.toFixed(0)} ms, 16,000 ${large.toFixed(0)} ms`);
});
