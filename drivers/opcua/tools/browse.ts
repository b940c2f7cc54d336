/**
 * @module
 * `bifrost browse opc.tcp://HOST:PORT[/PATH][?options][#node]`: walks the address space from
 * Objects (or the node after `#`) `depth` levels down and returns a flow draft with one tag
 * per variable of a built-in type, its NodeId as the address. The Server object (diagnostics)
 * is skipped.
 */

import {
  BifrostError,
  type BrowseNode,
  type BrowseToolOptions,
  type FlowDraft,
  type FlowDraftTag,
  nullLogger,
  systemClock,
} from "../../../engine/plugin.ts";
import { OpcuaDriver } from "../client/driver.ts";
import { deviceFromUrl } from "./url.ts";

/** A flow-safe tag name: `Demo.Static.Double` -> `Demo.Static.Double`, spaces and `;` to `_`. */
export function tagName(path: string): string {
  const n = path.replace(/[^A-Za-z0-9_.-]/g, "_");
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
}

/** Browses a server into a flow draft. */
export async function browseOpcua(url: string, o: BrowseToolOptions): Promise<FlowDraft> {
  let parsed;
  try {
    parsed = deviceFromUrl(url);
  } catch (e) {
    throw new BifrostError("CONFIG_INVALID", `Cannot browse "${url}": ${(e as Error).message}`);
  }
  const { config, node } = parsed;
  const host = /^opc\.tcp:\/\/([^/:]+)/.exec(String(config.endpoint))?.[1] ?? "server";
  const driver = new OpcuaDriver(
    { name: host, driver: "opcua", config, tags: new Map() },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(o.signal);
  const tags: FlowDraftTag[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  let nodes = 0;
  try {
    const walk = async (id: string | undefined, path: string, level: number) => {
      let children: BrowseNode[];
      try {
        children = await driver.browse(id, o.signal);
      } catch (e) {
        notes.push(`${path || "/Objects"}: ${(e as Error).message}`);
        return;
      }
      nodes += children.length;
      for (const c of children) {
        if (id === undefined && /^(ns=0;)?i=2253$/.test(c.id)) continue; // Server diagnostics
        const p = path ? `${path}.${c.name}` : c.name;
        if (c.address) {
          if (!c.type) {
            notes.push(`${p} (${c.address}): not a built-in type, skipped`);
            continue;
          }
          let name = tagName(p);
          while (seen.has(name)) name += "_";
          seen.add(name);
          tags.push({
            name,
            fields: { address: c.address, type: c.type, ...(c.writable ? { writable: true } : {}) },
            ...(c.description ? { comment: c.description } : {}),
          });
        } else if (c.hasChildren) {
          if (level < o.depth) await walk(c.id, p, level + 1);
          else notes.push(`${p}: not opened (depth ${o.depth}; use --depth ${level + 1})`);
        }
      }
    };
    o.out.error(`Browsing ${config.endpoint}...`);
    await walk(node === "" ? undefined : node, "", 1);
  } finally {
    await driver.close();
  }
  return {
    notes: [
      `OPC UA server at ${config.endpoint}: ${nodes} nodes browsed, ${tags.length} variables found.`,
    ],
    devices: [{
      name: `opcua-${host.replace(/[^A-Za-z0-9]/g, "-")}`,
      fields: { driver: "opcua", ...config },
      tags,
      candidates: [],
      notes,
    }],
  };
}
