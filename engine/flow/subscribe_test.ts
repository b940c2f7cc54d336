/**
 * @module
 * `subscribe:` polls in the flow language: accepted for a driver that can push, with its
 * options checked against the driver's `subscribeSpec` (defaults applied); refused, at the
 * poll's `subscribe` key, for a driver that cannot push.
 */

import assert from "node:assert/strict";
import { relative } from "node:path";
import { loadFlowsWith } from "./load.ts";
import { kindOf } from "../driver.ts";
import { formatIssue } from "./positions.ts";
import type { SchemaSources } from "./schema.ts";
import { fakeDriver, pushTestDriver, testSources } from "./_test_sources.ts";

const sources: SchemaSources = { ...testSources, drivers: [fakeDriver, pushTestDriver] };

async function load(text: string, src: SchemaSources = sources) {
  const dir = await Deno.makeTempDir({ prefix: "bifrost_subscribe_" });
  try {
    await Deno.writeTextFile(`${dir}/f.yaml`, text);
    const r = await loadFlowsWith(dir, src, { checkFunctions: false });
    const lines = r.errors.map((i) => formatIssue({ ...i, file: relative(dir, i.file) }));
    return { ...r, lines };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const DEVICES = `devices:
  press:
    driver: fake-push
    server: s1
    tags:
      temp: { address: t, type: float }
  plc:
    driver: fake-tcp
    host: 10.0.0.5
    tags:
      level: { address: HR0 }
sinks:
  out: { use: console, from: [live] }
`;

Deno.test("a subscribe poll on a driver that can push loads with its options' defaults", async () => {
  const r = await load(`${DEVICES}polls:\n  live: { device: press, tags: "*", subscribe: {} }\n`);
  assert.deepEqual(r.lines, []);
  const live = r.flows!.polls.get("live")!;
  assert.deepEqual(live.subscribe, { samplingMs: 100 });
  assert.equal(live.everyMs, undefined);
  assert.equal(kindOf(r.flows!.devices.get("press")!.tags.get("temp")!, pushTestDriver), "float");
});

Deno.test("bifrost check refuses a subscribe poll on a driver that cannot push, naming what can", async () => {
  const r = await load(
    `${DEVICES}polls:\n  live:\n    device: plc\n    tags: "*"\n    subscribe: {}\n`,
  );
  assert.deepEqual(r.lines, [
    'f.yaml:18:5 error: poll "live" cannot subscribe: driver "fake-tcp" of device "plc" does not push values; poll it with "every" or "cron" (drivers that can subscribe: "fake-push")',
  ]);
  const none = await load(
    `${
      DEVICES.replace(/ {2}press:[^]*?(?= {2}plc:)/, "")
    }polls:\n  live:\n    device: plc\n    tags: "*"\n    subscribe: {}\n`,
    testSources,
  );
  assert.deepEqual(none.lines, [
    'f.yaml:13:5 error: poll "live" cannot subscribe: driver "fake-tcp" of device "plc" does not push values; poll it with "every" or "cron" (no registered driver can subscribe)',
  ]);
});

Deno.test("bifrost check validates subscribe options against the driver's subscribeSpec, positioned", async () => {
  const r = await load(
    `${DEVICES}polls:\n  live:\n    device: press\n    tags: "*"\n    subscribe:\n      samplingMs: 0\n      queue: 5\n`,
  );
  assert.equal(r.lines.length, 2, r.lines.join("\n"));
  assert.equal(r.lines[0], 'f.yaml:19:19 error: "samplingMs" must be at least 1, got 0');
  assert.equal(
    r.lines[1],
    'f.yaml:20:7 error: unknown field "queue" in "subscribe" of poll "live"',
  );
});

Deno.test("a poll has exactly one of every, cron and subscribe", async () => {
  const r = await load(
    `${DEVICES}polls:\n  live:\n    device: press\n    tags: "*"\n    every: 1s\n    subscribe: {}\n`,
  );
  assert.deepEqual(r.lines, [
    'f.yaml:15:3 error: poll "live" has both "every" and "subscribe": use only one',
  ]);
});
