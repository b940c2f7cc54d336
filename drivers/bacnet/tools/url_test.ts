/**
 * @module
 * `bacnet://` URLs: retry options in the query reach the device config, bad ones are named.
 */

import { assertEquals, assertRejects } from "../../../tests/_assert.ts";
import { deviceFields } from "../core/spec.ts";
import { parseBacnetUrl } from "./url.ts";

Deno.test("apduTimeout and retries in a bacnet:// URL reach the device, and timeout caps them", () => {
  const { device } = parseBacnetUrl(
    "bacnet://10.0.0.5/1001/analog-input:1?apduTimeout=500ms&retries=2",
  );
  const f = deviceFields(device.config);
  assertEquals([f.apduTimeoutMs, f.retries, f.timeoutMs], [500, 2, 1500]);
  // timeout alone: split over the attempts (3 retries by default).
  const t = deviceFields(parseBacnetUrl("bacnet://10.0.0.5/1001/ai:1?timeout=2s").device.config);
  assertEquals([t.apduTimeoutMs, t.retries, t.timeoutMs], [500, 3, 2000]);
  // Nothing given: the standard's 3 s and 3 retries, 12 s in all.
  const d = deviceFields(parseBacnetUrl("bacnet://10.0.0.5/1001/ai:1").device.config);
  assertEquals([d.apduTimeoutMs, d.retries, d.timeoutMs], [3000, 3, 12000]);
});

Deno.test("bad retry options in a bacnet:// URL are named with the value", async () => {
  await assertRejects(
    () => parseBacnetUrl("bacnet://10.0.0.5/1001/ai:1?retries=many"),
    /Cannot parse BACnet URL ".*": retries must be 0\.\.10, got "many"/,
  );
  await assertRejects(
    () => parseBacnetUrl("bacnet://10.0.0.5/1001/ai:1?apduTimeout=soon"),
    /apduTimeout must be a duration like 3s, got "soon"/,
  );
});
