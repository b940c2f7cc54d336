import assert from "node:assert/strict";
import { describeAt, fieldsAt } from "./schema_nav.ts";

const schema = JSON.parse(
  await Deno.readTextFile(new URL("../../../../schemas/flow.schema.json", import.meta.url)),
);

function at(text: string) {
  const lines = text.split("\n");
  const line = lines.findIndex((l) => l.includes("|"));
  return { text: text.replace("|", ""), pos: { line, character: lines[line]!.indexOf("|") } };
}

Deno.test("fieldsAt() offers the fields of the device's driver that are not there yet", () => {
  const { text, pos } = at("devices:\n  plc:\n    driver: modbus-tcp\n    host: h\n    |\n");
  const names = fieldsAt(schema, text, pos).map((f) => f.name);
  assert.ok(names.includes("port"), names.join(","));
  assert.ok(names.includes("unitId"));
  assert.ok(!names.includes("host") && !names.includes("driver"));
  // Top level: the sections.
  const top = at("version: 1\n|\n");
  assert.deepEqual(
    fieldsAt(schema, top.text, top.pos).map((f) => f.name).sort(),
    ["$schema", "devices", "polls", "sinks", "steps", "triggers"],
  );
  // A value being typed is not a field.
  const v = at("devices:\n  plc:\n    driver: mod|\n");
  assert.deepEqual(fieldsAt(schema, v.text, v.pos), []);
});

Deno.test("describeAt() explains a field from the schema, by the step's use", () => {
  const { text, pos } = at("steps:\n  d:\n    use: deadband\n    from: p\n    heart|beat: 10s\n");
  const d = describeAt(schema, text, pos);
  assert.ok(d?.startsWith("**heartbeat**"), String(d));
  const top = at("pol|ls:\n  p: {}\n");
  assert.match(describeAt(schema, top.text, top.pos) ?? "", /\*\*polls\*\*: `object`/);
  assert.equal(describeAt(schema, "devices:\n  plc: {}\n", { line: 5, character: 0 }), undefined);
});
