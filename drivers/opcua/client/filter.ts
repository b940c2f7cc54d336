/**
 * @module
 * The where clause of an event tag (`core/where.ts`) as an OPC UA ContentFilter (Part 4,
 * 7.7), with `minSeverity` and-ed in. `a != b` is Not(Equals); `x in [a, b]` is
 * Or(Equals(x, a), Equals(x, b)): the InList operator is evaluated by some servers for NodeIds
 * only (node-opcua's among them), the Or of Equals by every server.
 */

import { parseWhere, type WhereNode, type WhereOperand } from "../core/where.ts";
import type { OpcuaLib } from "./load.ts";
import type { ContentFilterElementOptions, ContentFilterOptions } from "node-opcua-client";

/** Standard event fields whose type is not what a bare number would be sent as. */
const FIELD_TYPES: Record<string, "UInt16"> = { Severity: "UInt16", LastSeverity: "UInt16" };

/** The ContentFilter of a tag's `where` and `minSeverity` (undefined: every event). */
export function eventWhere(
  lib: OpcuaLib,
  where: string | undefined,
  minSeverity: number,
): ContentFilterOptions | undefined {
  const parts: WhereNode[] = [];
  if (minSeverity > 0) {
    parts.push({ op: ">=", left: { field: ["Severity"] }, right: { literal: minSeverity } });
  }
  if (where !== undefined && where.trim() !== "") parts.push(parseWhere(where));
  if (parts.length === 0) return undefined;
  const tree = parts.length === 1
    ? parts[0]!
    : { op: "and" as const, args: [parts[0]!, parts[1]!] as [WhereNode, WhereNode] };
  return contentFilter(lib, tree);
}

/** A parsed where clause as a ContentFilter (element 0 is the root). */
export function contentFilter(lib: OpcuaLib, tree: WhereNode): ContentFilterOptions {
  const elements: ContentFilterElementOptions[] = [];
  const F = lib.FilterOperator;
  const ref = (n: WhereNode) => new lib.ElementOperand({ index: emit(n) });
  const field = (f: string[]) =>
    new lib.SimpleAttributeOperand({
      typeDefinitionId: "i=2041",
      browsePath: f.map((name) => ({ namespaceIndex: 0, name })),
      attributeId: lib.AttributeIds.Value,
    });
  const literal = (v: string | number | boolean, other: WhereOperand | undefined) => {
    const hint = other && "field" in other ? FIELD_TYPES[other.field.join(".")] : undefined;
    const dataType = typeof v === "string"
      ? lib.DataType.String
      : typeof v === "boolean"
      ? lib.DataType.Boolean
      : hint && Number.isInteger(v) && v >= 0 && v <= 0xffff
      ? lib.DataType[hint]
      : Number.isInteger(v) && Math.abs(v) <= 0x7fffffff
      ? lib.DataType.Int32
      : lib.DataType.Double;
    return new lib.LiteralOperand({ value: { dataType, value: v } });
  };
  const operand = (o: WhereOperand, other?: WhereOperand) =>
    "field" in o ? field(o.field) : literal(o.literal, other);
  const COMPARE = {
    "=": F.Equals,
    "<": F.LessThan,
    "<=": F.LessThanOrEqual,
    ">": F.GreaterThan,
    ">=": F.GreaterThanOrEqual,
  } as const;

  function emit(n: WhereNode): number {
    const at = elements.length;
    elements.push({});
    let e: ContentFilterElementOptions;
    switch (n.op) {
      case "and":
      case "or":
        e = { filterOperator: n.op === "and" ? F.And : F.Or, filterOperands: n.args.map(ref) };
        break;
      case "not":
        e = { filterOperator: F.Not, filterOperands: [ref(n.arg)] };
        break;
      case "!=":
        e = {
          filterOperator: F.Not,
          filterOperands: [ref({ op: "=", left: n.left, right: n.right })],
        };
        break;
      case "in": {
        const eq = n.list.map((v): WhereNode => ({ op: "=", left: n.left, right: v }));
        const tree = eq.reduce((a, b) => ({ op: "or", args: [a, b] }));
        elements.pop();
        return emit(tree);
      }
      case "like":
        e = {
          filterOperator: F.Like,
          filterOperands: [
            operand(n.left),
            new lib.LiteralOperand({ value: { dataType: lib.DataType.String, value: n.pattern } }),
          ],
        };
        break;
      case "ofType":
        e = {
          filterOperator: F.OfType,
          filterOperands: [
            new lib.LiteralOperand({
              value: { dataType: lib.DataType.NodeId, value: lib.coerceNodeId(n.type) },
            }),
          ],
        };
        break;
      default:
        e = {
          filterOperator: COMPARE[n.op],
          filterOperands: [operand(n.left, n.right), operand(n.right, n.left)],
        };
    }
    elements[at] = e;
    return at;
  }
  emit(tree);
  return { elements };
}
