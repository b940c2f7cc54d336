/**
 * @module
 * Turns tag addresses into the server's NodeIds, once per connection: a NodeId's `nsu=` URI
 * becomes its namespace index, a browse path is walked from Objects one level at a time
 * (a segment without a namespace index matches a child's browse name in any namespace).
 */

import type { Connection } from "./session.ts";
import type { NodeId } from "node-opcua-client";
import { type Address, parseAddress } from "../core/address.ts";

/** A resolved address, or why it cannot be resolved. */
export type Resolved = { ok: true; nodeId: string } | { ok: false; why: string };

/** Resolves every address (duplicates once); browse paths share the children they walk. */
export async function resolveAll(
  c: Connection,
  addresses: readonly string[],
): Promise<Map<string, Resolved>> {
  const out = new Map<string, Resolved>();
  const children = new Map<string, Promise<{ ns: number; name: string; nodeId: string }[]>>();
  const childrenOf = (nodeId: string) => {
    let p = children.get(nodeId);
    if (!p) {
      p = browseChildren(c, nodeId);
      children.set(nodeId, p);
    }
    return p;
  };
  await Promise.all([...new Set(addresses)].map(async (text) => {
    let a: Address;
    try {
      a = parseAddress(text);
    } catch (e) {
      out.set(text, { ok: false, why: (e as Error).message });
      return;
    }
    if (a.kind === "nodeId") {
      const m = /^nsu=([^;]+);(.*)$/.exec(a.text);
      if (!m) return void out.set(text, { ok: true, nodeId: a.text });
      const ns = c.namespaces.indexOf(m[1]!);
      if (ns < 0) {
        return void out.set(text, {
          ok: false,
          why: `the server has no namespace "${m[1]}" (it has ${c.namespaces.join(", ")})`,
        });
      }
      return void out.set(text, { ok: true, nodeId: `ns=${ns};${m[2]}` });
    }
    let at = "i=85"; // Objects
    let walked = "/Objects";
    for (const seg of a.segments) {
      const kids = await childrenOf(at);
      const hit = kids.find((k) =>
        k.name === seg.name && (seg.ns === undefined || k.ns === seg.ns)
      );
      if (!hit) {
        const names = kids.slice(0, 12).map((k) => k.name).join(", ");
        return void out.set(text, {
          ok: false,
          why: `${walked} has no child "${seg.name}"${
            names ? ` (it has ${names}${kids.length > 12 ? "..." : ""})` : ""
          }`,
        });
      }
      at = hit.nodeId;
      walked += `/${seg.name}`;
    }
    out.set(text, { ok: true, nodeId: at });
  }));
  return out;
}

/** A child found by browse. */
export interface Child {
  ns: number;
  name: string;
  nodeId: string;
  /** The NodeId as node-opcua holds it (services take it without parsing text again). */
  id: NodeId;
  nodeClass: number;
  display: string;
}

/** The forward hierarchical children of a node (all pages). */
export async function browseChildren(
  c: Connection,
  nodeId: string,
): Promise<Child[]> {
  const { lib, session } = c;
  let r = await session.browse({
    nodeId,
    browseDirection: lib.BrowseDirection.Forward,
    referenceTypeId: "HierarchicalReferences",
    includeSubtypes: true,
    nodeClassMask: 0,
    resultMask: 63,
  });
  const refs = [...(r.references ?? [])];
  while (r.continuationPoint && r.continuationPoint.length > 0) {
    const next = await session.browseNext(r.continuationPoint, false);
    r = next;
    refs.push(...(next.references ?? []));
  }
  return refs.map((ref) => ({
    ns: ref.browseName.namespaceIndex,
    name: ref.browseName.name ?? "",
    nodeId: ref.nodeId.toString(),
    id: ref.nodeId,
    nodeClass: ref.nodeClass as number,
    display: ref.displayName.text ?? "",
  }));
}
