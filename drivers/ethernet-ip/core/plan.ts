/**
 * @module
 * The read planner: the tags of a poll packed into as few requests as the connection
 * allows. Tags whose requests and replies fit together go into one Multiple Service Packet
 * (both its request and its reply must fit the negotiated connection size); a tag whose
 * reply alone is larger than a packet is read with Read Tag Fragmented. Requests are built
 * once, when the plan is made: a read sends prebuilt bytes.
 */

import type { ReadPlan, TagConfig } from "../../../engine/plugin.ts";
import { MSP_HEAD, MSP_PER_REQUEST, multipleService, readTag, REPLY_OVERHEAD } from "./cip.ts";
import { NO_PATH, pathOf, type ResolvedTag } from "./tags.ts";
import { parentKey } from "./struct.ts";

/** One request of a plan. */
export interface Packet {
  kind: "single" | "multiple" | "fragmented";
  tags: ResolvedTag[];
  /** The request (for `fragmented`, built per fragment at read time). */
  request: Uint8Array;
  requestBytes: number;
  replyBytes: number;
}

/** The plan of one poll group. */
export class EipPlan implements ReadPlan {
  constructor(
    readonly tags: readonly TagConfig[],
    readonly packets: Packet[],
    /** Tags that did not resolve, by index, with the reason. */
    readonly invalid: Map<number, string>,
    /** The connection size the packets were made for. */
    readonly size: number,
    /** The tags that resolved, in plan order. */
    readonly resolved: readonly ResolvedTag[] = [],
  ) {}

  describe(): string[] {
    const lines = this.packets.map((p, i) => {
      const names = p.tags.map((t) =>
        t.members
          ? `structure ${t.address.text} read whole (${t.replyBytes - 2} B) for ${t.tag.name}`
          : `${t.tag.name} (${t.tag.address}, ${t.count > 1 ? `${t.count} x ` : ""}${t.type})`
      );
      const head = p.kind === "multiple"
        ? `packet ${
          i + 1
        }: Multiple Service Packet of ${p.tags.length} Read Tag (request ${p.requestBytes} B, reply ~${p.replyBytes} B of ${this.size})`
        : p.kind === "fragmented"
        ? `packet ${i + 1}: Read Tag Fragmented (~${p.replyBytes} B in ${
          Math.ceil(p.replyBytes / (this.size - 8))
        } fragments)`
        : `packet ${i + 1}: Read Tag (request ${p.requestBytes} B, reply ~${p.replyBytes} B)`;
      return `${head}: ${names.join(", ")}`;
    });
    for (const [i, why] of this.invalid) lines.push(`not read: ${this.tags[i]!.name}: ${why}`);
    const groups = new Map<string, string[]>();
    for (const t of this.resolved) {
      const k = parentKey(t);
      if (k) groups.set(k, [...(groups.get(k) ?? []), t.tag.name]);
    }
    for (const names of groups.values()) {
      if (names.length < 2) continue;
      const first = this.resolved.find((t) => t.tag.name === names[0])!.address;
      const parent = (first.program ? first.program + "." : "") + first.parts[0]!.name;
      lines.push(
        `members of ${parent} (${
          names.join(", ")
        }): read whole when the controller gives its template`,
      );
    }
    return lines;
  }
}

/** Packs resolved tags into packets for a connection of `size` bytes. */
export function planPackets(tags: readonly ResolvedTag[], size: number): Packet[] {
  const packets: Packet[] = [];
  let group: ResolvedTag[] = [];
  let reqs: Uint8Array[] = [];
  let reqBytes = MSP_HEAD;
  let replyBytes = REPLY_OVERHEAD + 2;
  const flush = () => {
    if (group.length === 1) {
      packets.push({
        kind: "single",
        tags: group,
        request: reqs[0]!,
        requestBytes: reqs[0]!.length,
        replyBytes: replyOf(group[0]!),
      });
    } else if (group.length > 1) {
      const request = multipleService(reqs);
      // The packet holds the paths: a tag keeps none (about 150 bytes each at 50k tags).
      for (const t of group) t.path = NO_PATH;
      packets.push({
        kind: "multiple",
        tags: group,
        request,
        requestBytes: request.length,
        replyBytes,
      });
    }
    group = [];
    reqs = [];
    reqBytes = MSP_HEAD;
    replyBytes = REPLY_OVERHEAD + 2;
  };
  for (const t of tags) {
    const req = readTag(pathOf(t), t.requestCount);
    const reply = replyOf(t);
    if (reply > size || req.length > size) {
      packets.push({
        kind: "fragmented",
        tags: [t],
        request: req,
        requestBytes: req.length,
        replyBytes: reply,
      });
      continue;
    }
    if (
      reqBytes + MSP_PER_REQUEST + req.length > size || replyBytes + MSP_PER_REQUEST + reply > size
    ) flush();
    group.push(t);
    reqs.push(req);
    reqBytes += MSP_PER_REQUEST + req.length;
    replyBytes += MSP_PER_REQUEST + reply;
  }
  flush();
  return packets;
}

/** Bytes of a tag's Read Tag reply: header, type and data. */
function replyOf(t: ResolvedTag): number {
  return REPLY_OVERHEAD + 2 + t.replyBytes;
}
