/**
 * @module
 * The where clause of event tags: the tree it parses to, precedence, and errors that name
 * the column.
 */

import { assert, assertEquals } from "../../../tests/_assert.ts";
import { parseWhere, WhereSyntaxError } from "./where.ts";

Deno.test("parseWhere() reads comparisons, and/or/not with precedence, in, like and ofType", () => {
  assertEquals(parseWhere("Severity >= 500 and SourceName = 'Boiler'"), {
    op: "and",
    args: [
      { op: ">=", left: { field: ["Severity"] }, right: { literal: 500 } },
      { op: "=", left: { field: ["SourceName"] }, right: { literal: "Boiler" } },
    ],
  });
  // and binds tighter than or; not tighter than and.
  assertEquals(parseWhere("a = 1 or not b <> 2 and c < -3.5"), {
    op: "or",
    args: [
      { op: "=", left: { field: ["a"] }, right: { literal: 1 } },
      {
        op: "and",
        args: [
          { op: "not", arg: { op: "!=", left: { field: ["b"] }, right: { literal: 2 } } },
          { op: "<", left: { field: ["c"] }, right: { literal: -3.5 } },
        ],
      },
    ],
  });
  assertEquals(parseWhere("(a = 1 OR b = 2) AND ActiveState.Id = true"), {
    op: "and",
    args: [
      {
        op: "or",
        args: [
          { op: "=", left: { field: ["a"] }, right: { literal: 1 } },
          { op: "=", left: { field: ["b"] }, right: { literal: 2 } },
        ],
      },
      { op: "=", left: { field: ["ActiveState", "Id"] }, right: { literal: true } },
    ],
  });
  assertEquals(parseWhere(`SourceName in ['Boiler', "Pump", 'it''s']`), {
    op: "in",
    left: { field: ["SourceName"] },
    list: [{ literal: "Boiler" }, { literal: "Pump" }, { literal: "it's" }],
  });
  assertEquals(parseWhere("Message like 'Temp%'"), {
    op: "like",
    left: { field: ["Message"] },
    pattern: "Temp%",
  });
  assertEquals(parseWhere("ofType(ExclusiveLimitAlarmType) or ofType('ns=2;i=5001')"), {
    op: "or",
    args: [{ op: "ofType", type: "i=9341" }, { op: "ofType", type: "ns=2;i=5001" }],
  });
});

Deno.test("parseWhere() names the column and what it expected", () => {
  const cases: [string, number, RegExp][] = [
    ["", 1, /empty/],
    ["Severity 500", 10, /expected a comparison .* after Severity, got "500"/],
    ["Severity >= ", 13, /expected a field .* got the end/],
    ["Severity >= 500 and", 20, /expected a field/],
    ["(Severity >= 500", 17, /expected "\)" to close the "\(" at column 1, got the end/],
    ["SourceName = 'Boiler", 14, /no closing '/],
    ["Severity >= 500 Severity", 17, /expected and, or or the end, got "Severity"/],
    ["SourceName in [Severity]", 16, /holds values, not fields/],
    ["SourceName in 'a'", 15, /expected "\[" after in/],
    ["Message like Temp", 14, /like takes a pattern in quotes/],
    ["ofType(Alarm)", 8, /ofType takes a standard event type/],
    ["Severity # 3", 10, /unexpected character "#"/],
  ];
  for (const [src, column, message] of cases) {
    let e: unknown;
    try {
      parseWhere(src);
    } catch (x) {
      e = x;
    }
    assert(e instanceof WhereSyntaxError, `${src}: parsed, or threw ${String(e)}`);
    assertEquals([e.column, message.test(e.message)], [column, true], `${src}: ${e.message}`);
  }
});
