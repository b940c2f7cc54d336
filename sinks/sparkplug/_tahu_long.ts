/**
 * @module
 * Test helper: gives Eclipse Tahu's protobuf.js the `long` 4 class that Tahu checks with
 * `instanceof`. protobuf.js finds `long` by a bare `require` from its own folder; once another
 * package (node-opcua, which needs `long` 5) is installed, Deno's hoisted `long` is 5.x and
 * Tahu's `instanceof Long` fails, so it decodes Int64 values as unsigned. Import this module
 * before using Tahu (our own codec does not use protobuf.js).
 */

import protobuf from "protobufjs/minimal.js";
import Long from "long";

protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();
