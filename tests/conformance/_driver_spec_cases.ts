/**
 * @module
 * The cases of the driver conformance suite on the contract's description of values and
 * address space: `browse()` (optional, run when a driver has it), `valueKind()`, and the
 * spec-examples case (every `examples` entry of a driver's device, tag and subscribe specs
 * validates against the flow schema of the registries). The subscribe cases are in
 * `_driver_subscribe_cases.ts`.
 */

import { type BrowseNode, VALUE_KINDS, type ValueKind } from "../../engine/driver.ts";
import type { Value } from "../../engine/record.ts";
import { assert, assertEquals } from "../_assert.ts";
import { schemaProblem, setAt, specExamples } from "./_examples.ts";
import {
  conformanceDevice,
  connectedPair,
  ctx,
  hangMs,
  signal,
  within,
} from "./_driver_helpers.ts";
import type { DriverCase, DriverConformanceOptions } from "./_driver_types.ts";

/** Whether `v` is carried as `kind` says (see `ValueKind` in engine/driver.ts). */
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
      return typeof v === "string" && /^(?:[0-9a-f]{2})*$/.test(v);
    case "array":
      return Array.isArray(v) || ArrayBuffer.isView(v);
  }
}

function browsable(o: DriverConformanceOptions): boolean {
  const d = o.module.create(conformanceDevice(o, o.refused()), ctx);
  return typeof d.browse === "function";
}

/** `browse()`: one level per call, nodes well formed, a value node carries its address. */
export const browseCase: DriverCase = {
  name: "browse",
  does: "browse() returns one level of well-formed nodes and finds a value with its address",
  skip: (o) => browsable(o) ? undefined : "the driver has no browse()",
  async run(o) {
    await using pair = await connectedPair(o);
    const browse = pair.driver.browse!.bind(pair.driver);
    const bound = hangMs(o);
    const queue: (string | undefined)[] = [undefined];
    let calls = 0;
    let value: BrowseNode | undefined;
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
        if (n.kind !== undefined) {
          assert(VALUE_KINDS.includes(n.kind), `"${n.name}": kind ${n.kind}`);
        }
        if (n.address !== undefined) value ??= n;
        if (n.hasChildren) queue.push(n.id);
      }
    }
    assert(value !== undefined, `no node with an address within ${calls} browse() calls`);
    assert(value.address!.length > 0, "the address is not empty");
  },
};

/** `valueKind()`: every tag has a kind, and the values read are carried as it says. */
export const valueKindCase: DriverCase = {
  name: "valueKind",
  does: "valueKind() names a kind for every tag, and the values read match it",
  async run(o) {
    await using pair = await connectedPair(o);
    const rs = await within(
      hangMs(o),
      "read()",
      pair.driver.read(pair.driver.plan(o.tags.map((t) => t.tag)), signal(o)),
    );
    for (const [i, t] of o.tags.entries()) {
      const kind = o.module.valueKind(t.tag);
      assert(VALUE_KINDS.includes(kind), `"${t.tag.name}": unknown kind ${kind}`);
      const r = rs[i]!;
      assert(r.ok, `"${t.tag.name}" reads: ${r.ok || r.error.message}`);
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
    const { driver: _, ...device } = { driver: "", ...o.device(o.refused(), o.timeoutMs) };
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
    // A push driver's `subscribe:` examples, in a poll of the device.
    const subscribeSpec = o.module.subscribeSpec;
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
