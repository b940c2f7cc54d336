/**
 * @module
 * The static variables of the default address space (`simulators/opcua-demo.yaml`,
 * `Demo.Static.<Type>` and `Demo.Static.<Type>Array`) as data, for the tests that read every
 * type through the driver. `config_test.ts` checks that the YAML declares each of them with
 * this value.
 */

import type { Value } from "../../../engine/plugin.ts";
import type { ScalarType } from "../core/types.ts";

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
