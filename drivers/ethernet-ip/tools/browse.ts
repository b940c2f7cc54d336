/**
 * @module
 * `bifrost browse eip://HOST[:PORT][?path=1,0]`: walks the controller's symbols (controller
 * scope, programs, structure members from their templates) `depth` levels down and returns
 * a flow draft: one tag per atomic value, structures as one tag per member (`Tag.Member`).
 * A controller that refuses browse gives a draft with a note saying so.
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
import { EipDriver } from "../tcp/driver.ts";

/** A flow-safe tag name for an address: `Program:Main.Motor[2].Speed` -> `Main.Motor_2.Speed`. */
export function tagName(address: string): string {
  const n = address.replace(/^Program:/i, "").replace(
    /\[([0-9,]+)\]/g,
    (_, i: string) => `_${i.replaceAll(",", "_")}`,
  )
    .replace(/[^A-Za-z0-9_.-]/g, "_");
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
}

/** Browses a controller into a flow draft. */
export async function browseEip(url: string, o: BrowseToolOptions): Promise<FlowDraft> {
  const m = /^(?:eip|ethernet-ip):\/\/(\[[^\]]+\]|[^/:?]+)(?::([0-9]+))?\/?(?:\?(.*))?$/i.exec(url);
  if (!m) {
    throw new BifrostError(
      "CONFIG_INVALID",
      `Cannot browse "${url}": expected eip://host[:port][?path=1,0] (no tag)`,
    );
  }
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1");
  const fields: Record<string, unknown> = { driver: "ethernet-ip", host };
  if (m[2]) fields.port = Number(m[2]);
  for (const [k, v] of new URLSearchParams(m[3] ?? "")) {
    if (k === "path") fields.path = v;
    else {throw new BifrostError(
        "CONFIG_INVALID",
        `Cannot browse "${url}": unknown parameter "${k}" (known: path)`,
      );}
  }
  const { driver: _, ...config } = fields;
  const driver = new EipDriver(
    { name: host, driver: "ethernet-ip", config, tags: new Map() },
    { log: nullLogger, clock: systemClock },
  );
  await driver.connect(o.signal);
  const tags: FlowDraftTag[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  try {
    const walk = async (node: string | undefined, level: number) => {
      let children: BrowseNode[];
      try {
        children = await driver.browse(node, o.signal);
      } catch (e) {
        notes.push(`${node ?? "controller scope"}: ${(e as Error).message}`);
        return;
      }
      for (const c of children) {
        if (c.address && c.type) {
          let name = tagName(c.address.replace(/\[0\]$/, ""));
          while (seen.has(name)) name += "_";
          seen.add(name);
          const count = /^([0-9]+) elements$/.exec(c.description ?? "")?.[1];
          tags.push({
            name,
            fields: {
              address: c.address,
              type: c.type,
              ...(count ? { count: Number(count) } : {}),
            },
          });
        } else if (c.hasChildren) {
          if (level < o.depth) await walk(c.id, level + 1);
          else notes.push(`${c.name}: not opened (depth ${o.depth}; use --depth ${level + 1})`);
        }
      }
    };
    o.out.error(`Browsing ${host}...`);
    await walk(undefined, 1);
  } finally {
    await driver.close();
  }
  return {
    notes: [
      `EtherNet/IP controller at ${host}${m[2] ? ":" + m[2] : ""}: ${tags.length} tags found.`,
    ],
    devices: [{
      name: `plc-${host.replace(/[^A-Za-z0-9]/g, "-")}`,
      fields,
      tags,
      candidates: [],
      notes,
    }],
  };
}
