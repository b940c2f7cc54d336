/**
 * @module
 * The driver conformance suite's own check: every case, the push and browse ones included
 * (subscribe, the subscribed poll through the gateway, browse), run against the in-memory
 * driver of `_memory_driver.ts`, so that they are known to work before the first push
 * driver needs them.
 */

import type { TagConfig } from "../../engine/driver.ts";
import { memoryModule, startMemoryDevice } from "./_memory_driver.ts";
import { runDriverConformance } from "./driver.ts";

const tag = (name: string, address: string, type: string): TagConfig => ({
  name,
  address,
  type,
  writable: true,
  config: { address, type },
});

await runDriverConformance({
  module: memoryModule,
  startSimulator: startMemoryDevice,
  device: (c, timeoutMs) => ({ ...c, timeoutMs }),
  refused: () => ({ id: "nowhere" }),
  timeoutMs: 100,
  tags: [
    { tag: tag("temp", "a/temp", "float"), value: 21.5 },
    { tag: tag("on", "a/on", "bool"), value: true },
    { tag: tag("mode", "a/mode", "string"), value: "auto" },
  ],
  readOnlyTag: tag("serial", "ro:serial", "string"),
  writeValue: 42.25,
  uncertain: { reason: /out of service/ },
  skipCases: { "spec examples": "the in-memory driver is not registered" },
});
