import assert from "node:assert/strict";
import { deviceDescription, DevicesModel, formatValue } from "./devices_model.ts";
import type { DeviceInfo, TagInfo } from "./gateway.ts";

const device = (name: string, o: Partial<DeviceInfo> = {}): DeviceInfo => ({
  name,
  driver: "modbus-tcp",
  state: "connected",
  since: 0,
  answering: true,
  reads: 10,
  readErrors: 0,
  timeouts: 0,
  connectFailures: 0,
  tags: 1,
  ...o,
});

function thousand(): TagInfo[] {
  return Array.from({ length: 1000 }, (_, i) => ({
    device: `d${i % 10}`,
    name: `t${i}`,
    type: "float32",
    writable: i % 2 === 0,
    unit: "bar",
    value: i,
    quality: "good",
    sourceTs: 1000,
  }));
}

Deno.test("formatValue() shows numbers, text and units compactly", () => {
  assert.equal(formatValue(21.123456789, "°C"), "21.1235 °C");
  assert.equal(formatValue(7), "7");
  assert.equal(formatValue(true), "true");
  assert.equal(formatValue("9007199254740993"), "9007199254740993");
  assert.equal(formatValue(undefined, "bar"), "—");
  assert.equal(formatValue(null), "null");
  assert.equal(formatValue("x".repeat(80)).length, 58);
});

Deno.test("deviceDescription() shows state, latency and errors", () => {
  assert.equal(deviceDescription(device("a", { latencyMs: 3.24 })), "connected · 3.2 ms");
  assert.equal(
    deviceDescription(device("b", { state: "backoff", readErrors: 4 })),
    "backoff · 4 error(s)",
  );
});

Deno.test("applyLive() returns only the rows whose text changed, of 1,000 tags", () => {
  const m = new DevicesModel();
  assert.equal(m.setDevices(Array.from({ length: 10 }, (_, i) => device(`d${i}`))), true);
  assert.equal(m.setDevices(Array.from({ length: 10 }, (_, i) => device(`d${i}`))), false);
  m.setTags(thousand());
  assert.equal(m.tagsOf("d3").length, 100);
  const row = m.row("d3/t3")!;
  assert.equal(row.text, "3 bar");
  // 1,000 values, 10 of them new: 10 rows to refresh.
  const values = thousand().map((t, i) => ({
    tag: `${t.device}/${t.name}`,
    value: i % 100 === 0 ? i + 0.5 : i,
    quality: "good",
    ts: 2000,
  }));
  const changed = m.applyLive(values);
  assert.deepEqual(
    changed.map((r) => r.key),
    Array.from({ length: 10 }, (_, k) => `d0/t${k * 100}`),
  );
  assert.equal(m.row("d0/t100")!.text, "100.5 bar");
  // The same values again: nothing to refresh. A quality change is a change.
  assert.deepEqual(m.applyLive(values), []);
  const bad = m.applyLive([{
    tag: "d3/t3",
    value: 3,
    quality: "bad",
    ts: 3000,
    reason: "timeout",
  }]);
  assert.deepEqual(bad.map((r) => [r.key, r.quality, r.reason]), [["d3/t3", "bad", "timeout"]]);
  // An older value than the one shown is ignored; unknown tags too.
  assert.deepEqual(m.applyLive([{ tag: "d3/t3", value: 99, quality: "good", ts: 10 }]), []);
  assert.deepEqual(m.applyLive([{ tag: "zz/t", value: 1, quality: "good", ts: 9999 }]), []);
  // Re-reading the tag list keeps rows (and their live values) by key.
  m.setTags(thousand());
  assert.equal(m.row("d3/t3"), row);
  assert.equal(row.quality, "bad");
});
