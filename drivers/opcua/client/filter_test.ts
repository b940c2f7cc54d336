/**
 * @module
 * Where clauses as ContentFilters: element order (0 is the root), operand kinds, literal
 * types (Severity as UInt16), `!=` as Not(Equals), `in` as an Or of Equals, and minSeverity
 * and-ed in.
 */

import { assertEquals } from "../../../tests/_assert.ts";
import { eventWhere } from "./filter.ts";
import { loadOpcua } from "./load.ts";

const lib = await loadOpcua();

/** Each element as [operator name, operands] with operands shown briefly. */
function show(where: string | undefined, minSeverity = 0) {
  const f = eventWhere(lib, where, minSeverity);
  return f?.elements?.map((e) => [
    lib.FilterOperator[e.filterOperator!],
    (e.filterOperands ?? []).map((o) => {
      const x = o as {
        index?: number;
        browsePath?: { name: string }[];
        value?: { dataType: number; value: unknown };
      };
      if (x.index !== undefined) return `#${x.index}`;
      if (x.browsePath) return x.browsePath.map((b) => b.name).join(".");
      return `${lib.DataType[x.value!.dataType]}:${String(x.value!.value)}`;
    }),
  ]);
}

Deno.test("eventWhere() builds the ContentFilter the clause says", () => {
  assertEquals(show(undefined), undefined);
  assertEquals(show(undefined, 700), [["GreaterThanOrEqual", ["Severity", "UInt16:700"]]]);
  assertEquals(show("SourceName != 'Boiler' or Quality < 2.5", 500), [
    ["And", ["#1", "#2"]],
    ["GreaterThanOrEqual", ["Severity", "UInt16:500"]],
    ["Or", ["#3", "#5"]],
    ["Not", ["#4"]],
    ["Equals", ["SourceName", "String:Boiler"]],
    ["LessThan", ["Quality", "Double:2.5"]],
  ]);
  assertEquals(show("ActiveState.Id = true and SourceName in ['a', 'b', 'c']"), [
    ["And", ["#1", "#2"]],
    ["Equals", ["ActiveState.Id", "Boolean:true"]],
    ["Or", ["#3", "#6"]],
    ["Or", ["#4", "#5"]],
    ["Equals", ["SourceName", "String:a"]],
    ["Equals", ["SourceName", "String:b"]],
    ["Equals", ["SourceName", "String:c"]],
  ]);
  assertEquals(show("Message like 'T%' or ofType(AlarmConditionType) or Retain = -7"), [
    ["Or", ["#1", "#4"]],
    ["Or", ["#2", "#3"]],
    ["Like", ["Message", "String:T%"]],
    ["OfType", ["NodeId:ns=0;i=2915"]],
    ["Equals", ["Retain", "Int32:-7"]],
  ]);
});
