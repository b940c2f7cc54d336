/**
 * @module
 * One level of a controller's tags (the driver's `browse()`): the controller scope lists
 * its tags and its programs (Symbol object instances, Get Instance Attribute List, resumed
 * while the controller answers "partial transfer"); a program lists its own tags; a
 * structure lists its members from its template (Template object attributes and Read
 * Template), so that each atomic member becomes one tag addressed `Tag.Member`.
 */

import { BifrostError, type BrowseNode } from "../../../engine/plugin.ts";
import {
  listSymbols,
  readSymbols,
  readTemplate,
  readTemplateAttributes,
  type SymbolEntry,
  templateAttributes,
} from "../core/cip.ts";
import { encodePath, parseAddress } from "../core/address.ts";
import { describeStatus } from "../core/status.ts";
import { eipValueKind } from "../core/tags.ts";
import { decodeTemplate, type StructTemplate } from "../core/template.ts";
import { STRING_HANDLE, typeOfCode } from "../core/types.ts";
import type { CipClient } from "./client.ts";

const templates = new WeakMap<CipClient, Map<number, StructTemplate & { handle: number }>>();

function refused(what: string, status: number, extended: number[]): BifrostError {
  return new BifrostError(
    "DEVICE_EXCEPTION",
    `The controller refuses ${what}: ${
      describeStatus(status, extended)
    }; declare the tags in the flow instead`,
    { details: { protocol: "ethernet-ip", code: status, name: describeStatus(status, extended) } },
  );
}

/** Every symbol of a scope (`program` like `Program:MainProgram`, or the controller's). */
export async function listScope(
  client: CipClient,
  program: string | undefined,
  signal: AbortSignal,
): Promise<SymbolEntry[]> {
  const prefix = program
    ? encodePath({ text: program, parts: [{ name: program, indexes: [] }] })
    : undefined;
  const out: SymbolEntry[] = [];
  let next = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await client.request(listSymbols(next, prefix), signal);
    if (r.status !== 0 && r.status !== 0x06) throw refused("symbol browse", r.status, r.extended);
    const got = readSymbols(r.data);
    out.push(...got);
    if (r.status === 0 || got.length === 0) break;
    next = got[got.length - 1]!.instance + 1;
  }
  return out;
}

/** The template `id`, read once per connection. */
export async function template(
  client: CipClient,
  id: number,
  signal: AbortSignal,
): Promise<StructTemplate & { handle: number }> {
  let cache = templates.get(client);
  if (!cache) templates.set(client, cache = new Map());
  const have = cache.get(id);
  if (have) return have;
  const a = await client.request(templateAttributes(id), signal);
  if (a.status !== 0) throw refused(`template ${id}`, a.status, a.extended);
  const attrs = readTemplateAttributes(a.data);
  const total = attrs.definitionWords * 4 - 23;
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset < total) {
    const r = await client.request(readTemplate(id, offset, total - offset), signal);
    if (r.status !== 0 && r.status !== 0x06) throw refused(`template ${id}`, r.status, r.extended);
    parts.push(r.data.slice());
    offset += r.data.length;
    if (r.status === 0 || r.data.length === 0) break;
  }
  const def = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) (def.set(p, at), at += p.length);
  const t = { ...decodeTemplate(def, attrs.memberCount), handle: attrs.handle };
  cache.set(id, t);
  return t;
}

function leaf(address: string, type: string, count: number, name: string): BrowseNode {
  const tag = { name, address, type, writable: true, config: count > 1 ? { count } : {} };
  return {
    id: `tag:${address}`,
    name,
    hasChildren: false,
    address,
    type,
    kind: eipValueKind(tag),
    writable: true,
    ...(count > 1 ? { description: `${count} elements` } : {}),
  };
}

/** A symbol as a node: a value, a structure to open, or a program. */
async function symbolNode(
  client: CipClient,
  s: SymbolEntry,
  scope: string | undefined,
  signal: AbortSignal,
): Promise<BrowseNode | undefined> {
  if (s.name.startsWith("__") || s.name.includes(":") && !s.name.startsWith("Program:")) {
    return undefined;
  }
  if (s.name.startsWith("Program:")) return { id: s.name, name: s.name, hasChildren: true };
  if ((s.type & 0x1000) !== 0) return undefined; // a system tag
  const address = scope ? `${scope}.${s.name}` : s.name;
  const dims = (s.type >> 13) & 3;
  const count = dims === 0 ? 1 : s.dims.slice(0, dims).reduce((a, b) => a * Math.max(1, b), 1);
  if ((s.type & 0x8000) === 0) {
    const atomic = typeOfCode(s.type & 0xff);
    if (!atomic) return undefined;
    if (atomic === "DWORD" && dims > 0) return leaf(`${address}[0]`, "BOOL", count * 32, s.name);
    if (atomic === "DWORD") return leaf(address, "UDINT", 1, s.name);
    return leaf(address, atomic, count, s.name);
  }
  const id = s.type & 0x0fff;
  const t = await template(client, id, signal).catch(() => undefined);
  if (t?.handle === STRING_HANDLE || t?.name === "STRING") {
    return leaf(address, "STRING", count, s.name);
  }
  const first = dims > 0 ? `${address}[${Array(dims).fill(0).join(",")}]` : address;
  return {
    id: `struct:${id}:${first}`,
    name: s.name,
    hasChildren: true,
    description: `${t?.name ?? "structure"}${
      dims > 0 ? ` array of ${count} (members of element 0)` : ""
    }`,
  };
}

/** One level of children of `node` (the controller scope when undefined). */
export async function browseLevel(
  client: CipClient,
  node: string | undefined,
  signal: AbortSignal,
): Promise<BrowseNode[]> {
  if (node === undefined || node.startsWith("Program:")) {
    const scope = node;
    const out: BrowseNode[] = [];
    for (const s of await listScope(client, scope, signal)) {
      const n = await symbolNode(client, s, scope, signal);
      if (n) out.push(n);
    }
    return out;
  }
  const m = /^struct:([0-9]+):(.+)$/.exec(node);
  if (!m) {
    if (node.startsWith("tag:")) return [];
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot browse "${node}": not a node this driver returned`,
    );
  }
  const base = m[2]!;
  parseAddress(base);
  const t = await template(client, Number(m[1]), signal);
  const out: BrowseNode[] = [];
  for (const mem of t.members) {
    if (mem.hidden) continue;
    const address = `${base}.${mem.name}`;
    if (mem.template !== undefined) {
      const sub = await template(client, mem.template, signal).catch(() => undefined);
      if (sub?.handle === STRING_HANDLE || sub?.name === "STRING") {
        out.push(leaf(address, "STRING", Math.max(1, mem.array), mem.name));
      } else {
        const first = mem.array > 0 ? `${address}[0]` : address;
        out.push({
          id: `struct:${mem.template}:${first}`,
          name: mem.name,
          hasChildren: true,
          description: sub?.name ?? "structure",
        });
      }
      continue;
    }
    if (!mem.type) continue;
    if (mem.array > 0) {
      out.push(
        leaf(`${address}[0]`, mem.type === "DWORD" ? "UDINT" : mem.type, mem.array, mem.name),
      );
    } else out.push(leaf(address, mem.type === "DWORD" ? "UDINT" : mem.type, 1, mem.name));
  }
  return out;
}
