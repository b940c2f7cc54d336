import assert from "node:assert/strict";
import { FlowIndex, indexFile, tagMatches } from "./flow_index.ts";
import { nameCandidates, nameContext } from "./completion.ts";

const DEVICES = `version: 1
devices:
  boiler-plc:
    driver: modbus-tcp
    host: 127.0.0.1
    tags:
      temp1: { address: HR0, type: float32 }
      temp2: { address: HR2, type: float32 }
      burner-on: { address: C0, type: bool }
    simulator:
      temp1: { generator: sine }
  meter:
    driver: modbus-tcp
    tags:
      energy: { address: IR0, type: uint32 }
`;

const POLLS = `polls:
  fast:
    device: boiler-plc
    tags: [temp1, burner-on]
    every: 500ms
  slow:
    device: meter
    tags:
      - energy
    every: 5s
steps:
  temperatures:
    use: filter
    from: fast
    tags: ["temp*"]
sinks:
  history:
    use: sqlite
    from: [fast, temperatures, meter]
`;

function index(): FlowIndex {
  const i = new FlowIndex();
  i.update("/f/flows/devices.yaml", DEVICES);
  i.update("/f/flows/polls.yaml", POLLS);
  return i;
}

Deno.test("indexFile() finds definitions with the ranges of their keys", () => {
  const f = indexFile("d.yaml", DEVICES);
  const names = f.symbols.map((s) => `${s.kind}:${s.device ? s.device + "/" : ""}${s.name}`);
  assert.deepEqual(names, [
    "device:boiler-plc",
    "tag:boiler-plc/temp1",
    "tag:boiler-plc/temp2",
    "tag:boiler-plc/burner-on",
    "device:meter",
    "tag:meter/energy",
  ]);
  const temp2 = f.symbols[2]!;
  assert.deepEqual([temp2.span.start, temp2.span.end], [
    { line: 7, character: 6 },
    { line: 7, character: 11 },
  ]);
  assert.equal(temp2.detail, "float32");
  assert.equal(f.symbols[0]!.detail, "modbus-tcp");
  // The simulator block refers to the device's tags.
  assert.deepEqual(f.refs.map((r) => [r.kind, r.device, r.name, r.span.start.line]), [
    ["tag", "boiler-plc", "temp1", 10],
  ]);
});

Deno.test("FlowIndex resolves references across files, globs included", () => {
  const i = index();
  // `device: boiler-plc` of poll fast, in the other file.
  const ref = i.at("/f/flows/polls.yaml", { line: 2, character: 14 });
  assert.ok(ref && "owner" in ref);
  assert.equal(ref.owner, "polls.fast.device");
  const [def] = i.definitions(ref);
  assert.equal(def?.span.file, "/f/flows/devices.yaml");
  assert.equal(def?.span.start.line, 2);
  // A poll's tags are its device's: `temp1` of fast is boiler-plc's.
  const t = i.at("/f/flows/polls.yaml", { line: 3, character: 12 });
  assert.ok(t && "owner" in t);
  assert.deepEqual(i.definitions(t).map((s) => `${s.device}/${s.name}`), ["boiler-plc/temp1"]);
  // A step's glob matches every temp tag.
  const glob = i.at("/f/flows/polls.yaml", { line: 14, character: 13 });
  assert.ok(glob && "owner" in glob);
  assert.deepEqual(i.definitions(glob).map((s) => s.name), ["temp1", "temp2"]);
  // References of the tag temp1: the poll's list, the step's glob, the simulator key.
  const temp1 = i.symbols("tag").find((s) => s.name === "temp1")!;
  assert.deepEqual(i.references(temp1).map((r) => r.owner).sort(), [
    "devices.boiler-plc.simulator",
    "polls.fast.tags",
    "steps.temperatures.tags",
  ]);
  // References of poll fast: the step's from and the sink's from list.
  const fast = i.symbols("poll").find((s) => s.name === "fast")!;
  assert.deepEqual(i.references(fast).map((r) => r.owner), [
    "steps.temperatures.from",
    "sinks.history.from",
  ]);
  // A device is a source too.
  const meter = i.symbols("device").find((s) => s.name === "meter")!;
  assert.deepEqual(i.references(meter).map((r) => r.owner), [
    "polls.slow.device",
    "sinks.history.from",
  ]);
  // Edits re-index one file; deleted files are forgotten.
  i.update("/f/flows/polls.yaml", POLLS.replace("tags: [temp1, burner-on]", "tags: [temp2]"));
  assert.deepEqual(i.references(temp1).map((r) => r.owner).sort(), [
    "devices.boiler-plc.simulator",
    "steps.temperatures.tags",
  ]);
  i.remove("/f/flows/devices.yaml");
  assert.deepEqual(i.definitions(ref), []);
});

Deno.test("indexFile() keeps what it can of a file that does not parse", () => {
  const f = indexFile("x.yaml", "devices:\n  plc:\n    driver: modbus-tcp\n  tags: [\n");
  assert.ok(f.symbols.some((s) => s.name === "plc"));
  assert.deepEqual(indexFile("y.yaml", "- just\n- a list\n"), { symbols: [], refs: [] });
});

Deno.test("tagMatches() takes names and * ? globs", () => {
  assert.equal(tagMatches("temp*", "temp12"), true);
  assert.equal(tagMatches("t?mp", "temp"), true);
  assert.equal(tagMatches("temp", "temp1"), false);
  assert.equal(tagMatches("a.b", "axb"), false);
});

function ctxAt(text: string, marker = "|") {
  const lines = text.split("\n");
  const line = lines.findIndex((l) => l.includes(marker));
  const character = lines[line]!.indexOf(marker);
  return nameContext(text.replace(marker, ""), { line, character }, (p) => index().pollDevice(p));
}

Deno.test("nameContext() knows which name is expected where", () => {
  assert.deepEqual(ctxAt("polls:\n  p:\n    device: bo|\n"), {
    kind: "device",
    path: ["polls", "p", "device"],
  });
  // A poll's tags are those of its device (from the index, or the text above).
  assert.equal(ctxAt("polls:\n  slow:\n    device: meter\n    tags: [en|")?.device, "meter");
  assert.equal(ctxAt("polls:\n  new:\n    device: meter\n    tags:\n      - |\n")?.device, "meter");
  assert.equal(ctxAt("steps:\n  s:\n    use: scale\n    from: [fast, |]\n")?.kind, "source");
  assert.equal(ctxAt("sinks:\n  k:\n    from:\n      - |\n")?.kind, "source");
  assert.deepEqual(ctxAt("steps:\n  s:\n    tags: [|\n"), {
    kind: "tag",
    path: ["steps", "s", "tags"],
  });
  assert.deepEqual(ctxAt("devices:\n  plc:\n    simulator:\n      te|\n"), {
    kind: "tag",
    device: "plc",
    path: ["devices", "plc", "simulator", ""],
  });
  // Not a name: a driver, a field, a tag's flow map.
  assert.equal(ctxAt("devices:\n  plc:\n    driver: mod|\n"), undefined);
  assert.equal(ctxAt("polls:\n  p:\n    every: |\n"), undefined);
  assert.equal(ctxAt("devices:\n  plc:\n    tags:\n      t: { type: |"), undefined);
});

Deno.test("nameCandidates() lists the names of a context once, with what they are", () => {
  const i = index();
  assert.deepEqual(
    nameCandidates(i, { kind: "source", path: [] }).map((c) => `${c.label} (${c.detail})`),
    [
      "boiler-plc (device (modbus-tcp))",
      "fast (poll (boiler-plc))",
      "meter (device (modbus-tcp))",
      "slow (poll (meter))",
      "temperatures (step (filter))",
    ],
  );
  assert.deepEqual(
    nameCandidates(i, { kind: "tag", device: "boiler-plc", path: [] }).map((c) => c.label),
    ["burner-on", "temp1", "temp2"],
  );
  assert.equal(nameCandidates(i, { kind: "tag", path: [] }).length, 4);
});
