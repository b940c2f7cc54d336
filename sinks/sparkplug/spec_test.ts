/** @module The `sparkplug` sink spec: its examples validate and bad Sparkplug ids do not. */

import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { sparkplugSink } from "./mod.ts";
import { SparkplugSpec } from "./spec.ts";

const validate = new Ajv({ strict: false }).compile(SparkplugSpec);

Deno.test("sparkplug spec accepts its own examples", () => {
  assert.equal(sparkplugSink.name, "sparkplug");
  for (const ex of SparkplugSpec.examples as unknown[]) {
    assert.ok(validate(ex), JSON.stringify(validate.errors));
  }
});

Deno.test("sparkplug spec rejects ids with MQTT separators and QoS 2", () => {
  const base = { url: "mqtt://127.0.0.1:1883", groupId: "plant1", edgeNode: "line3" };
  assert.ok(validate(base));
  assert.equal(validate({ ...base, groupId: "plant/1" }), false);
  assert.equal(validate({ ...base, edgeNode: "line#" }), false);
  assert.equal(validate({ ...base, qos: 2 }), false);
  const { groupId: _, ...noGroup } = base;
  assert.equal(validate(noGroup), false);
});
