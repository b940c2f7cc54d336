/**
 * @module
 * The cases of the driver conformance suite that depend on optional members (driver contract
 * V2: `browse`, `subscribe`, `valueKind`), looked up by presence so that they run as soon as
 * a driver has them, and the spec-examples case (every `examples` entry of a driver's device
 * and tag specs validates against the flow schema of the registries).
 */

import { systemClock } from "../../engine/clock.ts";
import { nullLogger } from "../../engine/log.ts";
import type { Value } from "../../engine/record.ts";
import { assert, assertEquals } from "../_assert.ts";
import { schemaProblem, setAt, specExamples } from "./_examples.ts";
import {
  conformanceDevice,
  connectedPair,
  type DriverCase,
  moduleV2,
  signal,
  slack,
  v2,
  within,
} from "./_driver_helpers.ts";
import type { BrowseNodeV2, DriverConformanceOptions, ValueKind } from "./driver.ts";

const KINDS: readonly ValueKind[] = [
  "boolean",
  "integer",
  "bigint",
  "float",
  "string",
  "bytes",
  "array",
];

/** Whether `v` is carried as `kind` says. */
export function matchesKind(v: Value, kind: ValueKind): boolean {
  switch (kind) {
    case "boolean":
      return typeof v === "boolean";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "bigint":
      return typeof v === "bigint";
    case "float":
      return typeof v === "number";
    case "string":
      return typeof v === "string";
    case "bytes":
      return v instanceof Uint8Array;
    case "array":
      return Array.isArray(v) || ArrayBuffer.isView(v);
  }
}

function browsable(o: DriverConformanceOptions): boolean {
  const d = o.module.create(conformanceDevice(o, o.refused()), {
    log: nullLogger,
    clock: systemClock,
  });
  return typeof v2(d).browse === "function";
}

/** `browse()`: one level per call, nodes well formed, a value node carries its address. */
export const browseCase: DriverCase = {
  name: "browse",
  does: "browse() returns one level of well-formed nodes and finds a value with its address",
  skip: (o) => browsable(o) ? undefined : "the driver has no browse()",
  async run(o) {
    await using pair = await connectedPair(o);
    const browse = v2(pair.driver).browse!.bind(pair.driver);
    const bound = o.timeoutMs * 4 + slack(o);
    const queue: (string | undefined)[] = [undefined];
    let calls = 0;
    let value: BrowseNodeV2 | undefined;
    while (queue.length > 0 && calls < 50 && value === undefined) {
      const node = queue.shift();
      const level = await within(bound, `browse(${node})`, browse(node, signal(o)));
      calls++;
      assert(Array.isArray(level), "browse() returns an array");
      if (node === undefined) assert(level.length > 0, "the root has children");
      for (const n of level) {
        assert(typeof n.id === "string" && n.id.length > 0, `a node has an id: ${n.name}`);
        assert(typeof n.name === "string", "a node has a name");
        assert(typeof n.hasChildren === "boolean", `"${n.name}" says whether it has children`);
        if (n.kind !== undefined) assert(KINDS.includes(n.kind), `"${n.name}": kind ${n.kind}`);
        if (n.address !== undefined) value ??= n;
        if (n.hasChildren) queue.push(n.id);
      }
    }
    assert(value !== undefined, `no node with an address within ${calls} browse() calls`);
    assert(value.address!.length > 0, "the address is not empty");
  },
};

/** `subscribe()`: pushed values reach the sink by tag index until the subscription closes. */
export const subscribeCase: DriverCase = {
  name: "subscribe",
  does: "subscribe() pushes a changed value to the sink by the tag's index, and closes",
  skip: (o) =>
    moduleV2(o.module).subscribeSpec === undefined ? "the driver cannot push" : undefined,
  async run(o) {
    await using pair = await connectedPair(o);
    const sub = v2(pair.driver).subscribe;
    assert(typeof sub === "function", "a module with subscribeSpec has drivers with subscribe()");
    const plan = pair.driver.plan(o.tags.map((t) => t.tag));
    const seen: Value[][] = plan.tags.map(() => []);
    const stop = new AbortController();
    const subscription = await within(
      o.timeoutMs * 4 + slack(o),
      "subscribe()",
      sub.call(
        pair.driver,
        plan,
        {
          value: (i, v, ts) => {
            assert(typeof ts === "number" && ts > 0, "a pushed value has a timestamp");
            seen[i]!.push(v);
          },
          fail: (i, e) => void seen[i]!.push(`bad ${e.code}`),
        },
        stop.signal,
        o.subscribeOptions ?? {},
      ),
    );
    try {
      pair.sim.setValue(o.tags[0]!.tag, o.writeValue);
      const end = performance.now() + o.timeoutMs * 10 + 5_000;
      while (!seen[0]!.some((v) => sameValue(v, o.writeValue))) {
        if (performance.now() > end) {
          throw new Error(`No pushed ${String(o.writeValue)}; got ${JSON.stringify(seen)}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await subscription.close();
      stop.abort();
    }
  },
};

function sameValue(a: Value, b: Value): boolean {
  try {
    assertEquals(a, b);
    return true;
  } catch {
    return false;
  }
}

/** `valueKind()`: every tag has a kind, and the values read are carried as it says. */
export const valueKindCase: DriverCase = {
  name: "valueKind",
  does: "valueKind() names a kind for every tag, and the values read match it",
  skip: (o) =>
    typeof moduleV2(o.module).valueKind === "function"
      ? undefined
      : "the module has no valueKind() (driver contract V2)",
  async run(o) {
    const valueKind = moduleV2(o.module).valueKind!.bind(o.module);
    await using pair = await connectedPair(o);
    const rs = await pair.driver.read(pair.driver.plan(o.tags.map((t) => t.tag)), signal(o));
    for (const [i, t] of o.tags.entries()) {
      const kind = valueKind(t.tag);
      assert(KINDS.includes(kind), `"${t.tag.name}": unknown kind ${kind}`);
      const r = rs[i]!;
      assert(r.ok, `"${t.tag.name}" reads`);
      assert(matchesKind(r.value, kind), `"${t.tag.name}": ${String(r.value)} is not ${kind}`);
    }
  },
};

type Json = Record<string, unknown>;

/** The spec examples: each in a flow with the suite's device and tag, against the schema. */
export const examplesCase: DriverCase = {
  name: "spec examples",
  does: "every example of the device, tag (and subscribe) specs validates against the flow schema",
  run(o) {
    const { driver: _, ...device } = { driver: "", ...o.device(o.refused()) };
    const tag = o.tags[0]!.tag.config;
    const check = (d: Json, t: Json, what: string) =>
      schemaProblem(
        { devices: { "conformance-device": { ...d, driver: o.module.name, tags: { t } } } },
        what,
      );
    const base = check(device, tag, "the suite's own device and tag");
    assert(base === undefined, base);
    const problems: string[] = [];
    const deviceExamples = specExamples(o.module.deviceSpec);
    const tagExamples = specExamples(o.module.tagSpec);
    assert(deviceExamples.length + tagExamples.length > 0, "the specs have examples");
    for (const [path, e] of deviceExamples) {
      const p = check(setAt(device, path, e), tag, `device ${path.join(".")} = ${show(e)}`);
      if (p) problems.push(p);
    }
    for (const [path, e] of tagExamples) {
      const p = check(device, setAt(tag, path, e), `tag ${path.join(".")} = ${show(e)}`);
      if (p) problems.push(p);
    }
    // A push driver's `subscribe:` examples, in a poll of the device (driver contract V2).
    const subscribeSpec = moduleV2(o.module).subscribeSpec;
    for (const [path, e] of subscribeSpec ? specExamples(subscribeSpec) : []) {
      const p = schemaProblem({
        devices: { "conformance-device": { ...device, driver: o.module.name, tags: { t: tag } } },
        polls: { p: { device: "conformance-device", tags: "*", subscribe: setAt({}, path, e) } },
      }, `subscribe ${path.join(".")} = ${show(e)}`);
      if (p) problems.push(p);
    }
    assertEquals(problems, []);
  },
};

const show = (v: unknown) => JSON.stringify(v);
