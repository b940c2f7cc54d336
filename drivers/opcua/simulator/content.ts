/**
 * @module
 * What the OPC UA simulator serves, as data: a static variable of every built-in scalar type
 * and arrays of the common ones, dynamic values, a writable setpoint and a read-only value,
 * and N generated variables (`Demo/Many`). NodeIds are `ns=1;s=Demo.<Folder>.<Name>`.
 */

import type { Value } from "../../../engine/plugin.ts";
import type { ScalarType } from "../core/types.ts";

/** A variable of the simulator. */
export interface SimVariable {
  /** `Demo.Static.Double`: the string NodeId in ns=1, and the browse path below Objects. */
  id: string;
  type: ScalarType;
  array: boolean;
  value: Value;
  writable: boolean;
}

/** The static scalars: one of each built-in type the driver reads. */
export const STATIC_SCALARS: [ScalarType, Value][] = [
  ["Boolean", true],
  ["SByte", -5],
  ["Byte", 200],
  ["Int16", -1234],
  ["UInt16", 54321],
  ["Int32", -123456],
  ["UInt32", 3000000000],
  ["Int64", -9007199254740993n],
  ["UInt64", 18446744073709551615n],
  ["Float", 3.25],
  ["Double", 21.5],
  ["String", "hello"],
  ["DateTime", "2026-01-01T00:00:00.000Z"],
  ["Guid", "72962b91-fa75-4ae6-8d28-b404dc7daf63"],
  ["ByteString", "0a1bff"],
  ["XmlElement", "<a>1</a>"],
  ["LocalizedText", "Hello"],
];

/** The static arrays. */
export const STATIC_ARRAYS: [ScalarType, Value][] = [
  ["Boolean", [true, false, true]],
  ["Int16", [-1, 0, 1]],
  ["Int32", [1, 2, 3, 4]],
  ["UInt32", [10, 20]],
  ["Int64", [-1n, 2n ** 40n]],
  ["Float", [1.5, -2.25]],
  ["Double", [1.25, 2.5, 3.75]],
  ["String", ["a", "b"]],
];

/** Every variable of the simulator but the generated ones. */
export function demoVariables(): SimVariable[] {
  return [
    ...STATIC_SCALARS.map(([type, value]) => ({
      id: `Demo.Static.${type}`,
      type,
      array: false,
      value,
      writable: true,
    })),
    ...STATIC_ARRAYS.map(([type, value]) => ({
      id: `Demo.Static.${type}Array`,
      type,
      array: true,
      value,
      writable: true,
    })),
    { id: "Demo.Setpoint", type: "Double", array: false, value: 20, writable: true },
    { id: "Demo.ReadOnly", type: "Double", array: false, value: 7.5, writable: false },
    { id: "Demo.Dynamic.Ramp", type: "Double", array: false, value: 0, writable: false },
    { id: "Demo.Dynamic.Sine", type: "Double", array: false, value: 0, writable: false },
    { id: "Demo.Dynamic.Counter", type: "UInt32", array: false, value: 0, writable: false },
    // The input of the HighTemperature alarm (ExclusiveLimitAlarm, high limit 80).
    { id: "Demo.Boiler.Temperature", type: "Double", array: false, value: 20, writable: true },
  ];
}
