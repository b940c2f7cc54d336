/**
 * @module
 * Writes of the `opcua` driver: the node's DataType, ValueRank and UserAccessLevel are read
 * first (once per node and connection), the value is checked against them and the tag's
 * type, and the server's status code is reported when it refuses.
 */

import { BifrostError, type TagConfig, type Value } from "../../../engine/plugin.ts";
import { hexCode, severity } from "../core/status.ts";
import { DATA_TYPE_IDS, type ParsedType, type ScalarType, typeName } from "../core/types.ts";
import { valueForWrite } from "../core/write_value.ts";
import type { Connection } from "./session.ts";
import type { DriverHost } from "./host.ts";

/** What a write needs to know of a node. */
export interface NodeInfo {
  /** The built-in type the node holds, when its DataType is one (or a known subtype). */
  scalar: ScalarType | undefined;
  dataType: string;
  array: boolean;
  writable: boolean;
}

/** Subtypes of built-in types that servers use as DataType (Part 3/5 ids). */
const SUBTYPES: Record<number, ScalarType> = {
  290: "Double", // Duration
  294: "DateTime", // UtcTime
  295: "String", // LocaleId
  12878: "String", // NormalizedString
  311: "ByteString", // ApplicationInstanceCertificate
};

const infos = new WeakMap<Connection, Map<string, NodeInfo>>();

/** The node's type and access, read once per connection. */
export async function nodeInfo(_d: DriverHost, c: Connection, nodeId: string): Promise<NodeInfo> {
  let cache = infos.get(c);
  if (!cache) infos.set(c, cache = new Map());
  const known = cache.get(nodeId);
  if (known) return known;
  const A = c.lib.AttributeIds;
  const [dt, rank, access] = await c.session.read([
    { nodeId, attributeId: A.DataType },
    { nodeId, attributeId: A.ValueRank },
    { nodeId, attributeId: A.UserAccessLevel },
  ]);
  const id = dt?.value?.value as { namespace?: number; value?: unknown } | undefined;
  const n = id && id.namespace === 0 ? Number(id.value) : NaN;
  const info: NodeInfo = {
    scalar: typeName(n) ?? SUBTYPES[n],
    dataType: id ? String(id) : "unknown",
    array: typeof rank?.value?.value === "number" && rank.value.value >= 1,
    writable: typeof access?.value?.value === "number" && (access.value.value & 2) !== 0,
  };
  cache.set(nodeId, info);
  return info;
}

/** Checks and writes `value` to the node of `tag`; throws WRITE_REJECTED saying why. */
export async function writeTag(
  d: DriverHost,
  c: Connection,
  tag: TagConfig,
  declared: ParsedType,
  nodeId: string,
  info: NodeInfo,
  value: Value,
): Promise<void> {
  const where = `Cannot write ${
    typeof value === "bigint" ? value : JSON.stringify(value)
  } to "${tag.name}" (${tag.address}) on "${d.device.name}"`;
  const reject = (why: string, details: Record<string, unknown> = {}) =>
    new BifrostError("WRITE_REJECTED", `${where}: ${why}`, { details });
  if (!info.writable) {
    throw reject("the server says the node is not writable (UserAccessLevel has no CurrentWrite)");
  }
  const scalar = info.scalar ?? (declared.scalar === "auto" ? undefined : declared.scalar);
  if (scalar === undefined) {
    throw reject(`the node's DataType ${info.dataType} is not a built-in type Bifrost can write`);
  }
  if (declared.scalar !== "auto" && info.scalar !== undefined && declared.scalar !== info.scalar) {
    throw reject(
      `the node's DataType is ${info.scalar}${
        info.array ? "[]" : ""
      }, the tag declares ${tag.type}`,
    );
  }
  if (declared.scalar !== "auto" && declared.array !== info.array) {
    throw reject(
      `the node holds ${info.array ? "an array" : "a scalar"}, the tag declares ${tag.type}`,
    );
  }
  const conv = valueForWrite(scalar, info.array, value);
  if (!conv.ok) throw reject(conv.why);
  const status = await d.call(
    where,
    c.session.write({
      nodeId,
      attributeId: c.lib.AttributeIds.Value,
      value: {
        value: {
          dataType: DATA_TYPE_IDS[scalar],
          arrayType: info.array ? c.lib.VariantArrayType.Array : c.lib.VariantArrayType.Scalar,
          value: conv.value,
        },
      },
    }),
  );
  if (severity(status.value) !== "good") {
    throw reject(`the server answered ${status.name} (${hexCode(status.value)})`, {
      protocol: "opcua",
      code: status.value >>> 0,
      name: status.name,
    });
  }
}
