/**
 * @module
 * The read plan of the `opcua` driver: the tags of a poll, read by one Read service call per
 * batch of at most the server's MaxNodesPerRead nodes (learnt on connect).
 */

import type { ReadPlan, TagConfig } from "../../../engine/plugin.ts";
import { type ParsedType, parseType } from "../core/types.ts";

/** The tags of a poll and their declared types. */
export class OpcuaPlan implements ReadPlan {
  readonly tags: readonly TagConfig[];
  /** The declared type of each tag (by index). */
  readonly types: readonly ParsedType[];

  constructor(tags: readonly TagConfig[]) {
    this.tags = tags;
    this.types = tags.map((t) => {
      try {
        return parseType(t.type);
      } catch {
        return { scalar: "auto" as const, array: false };
      }
    });
  }

  describe(): string[] {
    return [
      `Read ${this.tags.length} node(s), batched under the server's MaxNodesPerRead (learnt on connect):`,
      ...this.tags.map((t) => `  ${t.name}: ${t.address} (${t.type || "auto"})`),
    ];
  }
}
