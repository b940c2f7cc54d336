/**
 * @module
 * Sparkplug B topic names: `spBv1.0/<group>/<type>/<edge node>[/<device>]`.
 */

/** The Sparkplug B namespace (first topic level). */
export const NAMESPACE = "spBv1.0";

/** The node Sparkplug message types. */
export type NodeMessageType = "NBIRTH" | "NDEATH" | "NDATA" | "NCMD";
/** The device Sparkplug message types. */
export type DeviceMessageType = "DBIRTH" | "DDEATH" | "DDATA" | "DCMD";

/** The topics of one edge node. */
export class Topics {
  readonly group: string;
  readonly node: string;

  constructor(group: string, node: string) {
    this.group = group;
    this.node = node;
  }

  /** A node-level topic, e.g. `spBv1.0/plant1/NBIRTH/line3`. */
  nodeTopic(type: NodeMessageType): string {
    return `${NAMESPACE}/${this.group}/${type}/${this.node}`;
  }

  /** A device-level topic, e.g. `spBv1.0/plant1/DDATA/line3/press-1`. */
  deviceTopic(type: DeviceMessageType, device: string): string {
    return `${NAMESPACE}/${this.group}/${type}/${this.node}/${device}`;
  }

  /** Subscriptions of the edge node: its NCMD and every DCMD of its devices. */
  commandTopics(): string[] {
    return [this.nodeTopic("NCMD"), `${NAMESPACE}/${this.group}/DCMD/${this.node}/+`];
  }

  /** Parses a command topic of this node; undefined for anything else. */
  parseCommand(topic: string): { type: "NCMD" } | { type: "DCMD"; device: string } | undefined {
    const p = topic.split("/");
    if (p[0] !== NAMESPACE || p[1] !== this.group || p[3] !== this.node) return undefined;
    if (p[2] === "NCMD" && p.length === 4) return { type: "NCMD" };
    if (p[2] === "DCMD" && p.length === 5) return { type: "DCMD", device: p[4]! };
    return undefined;
  }
}
