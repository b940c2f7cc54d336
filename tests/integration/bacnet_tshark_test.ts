/**
 * @module
 * An independent decoder checks both ends of our BACnet/IP: Wireshark's dissector (tshark,
 * Debian package `tshark`) reads every datagram our driver and our simulator exchanged through
 * a recording UDP relay (Who-Is/I-Am, ReadProperty, ReadPropertyMultiple with a segmented
 * ACK and its Segment-ACKs, a segmented WriteProperty request, WriteProperty with priority and relinquish, SubscribeCOV and
 * confirmed COV notifications with their ACKs, an Error PDU) and finds no malformed packet, the
 * services we meant, and the error class and code. Skipped by name when tshark is missing.
 */

import dgram from "node:dgram";
import { assert, assertEquals } from "../_assert.ts";
import { nullLogger, type ReadSink, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { bacnet } from "../../drivers/bacnet/mod.ts";
import type { BacnetDriver } from "../../drivers/bacnet/client/driver.ts";
import { generatedDevice, startSite } from "../../drivers/bacnet/simulator/config.ts";
import { hasTshark, pcap, tshark } from "./_pcap.ts";

// The client loads on first use (`load()`), as in a gateway.
await bacnet.load?.();

/** A UDP relay on a free port that records each datagram with its direction. */
async function recordingRelay(target: number) {
  const datagrams: { toServer: boolean; data: Uint8Array }[] = [];
  const front = dgram.createSocket("udp4");
  const back = dgram.createSocket("udp4");
  let client: { address: string; port: number } | undefined;
  front.on("message", (msg: Uint8Array, r: dgram.RemoteInfo) => {
    client = { address: r.address, port: r.port };
    datagrams.push({ toServer: true, data: new Uint8Array(msg) });
    back.send(msg, target, "127.0.0.1");
  });
  back.on("message", (msg: Uint8Array) => {
    datagrams.push({ toServer: false, data: new Uint8Array(msg) });
    if (client) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, "127.0.0.1", r));
  await new Promise<void>((r) => back.bind(0, "127.0.0.1", r));
  return {
    port: front.address().port,
    datagrams,
    close() {
      front.close();
      back.close();
    },
  };
}

const tag = (name: string, address: string, config: Record<string, unknown> = {}): TagConfig => ({
  name,
  address,
  type: "",
  writable: true,
  config: { address, ...config },
});

Deno.test({
  name: `Wireshark's BACnet dissector decodes our driver's and simulator's datagrams${
    hasTshark ? "" : " (skipped: tshark is not installed: apt-get install tshark)"
  }`,
  ignore: !hasTshark,
  async fn() {
    const dev = generatedDevice(6001, 60, { maxApdu: 480 });
    dev.objects!.push({ address: "analog-output:1", name: "Valve", value: 40 });
    await using site = await startSite({ devices: [dev] });
    const sim = site.endpoints[0]!;
    const relay = await recordingRelay(sim.port);
    const file = await Deno.makeTempFile({ suffix: ".pcap" });
    const d = bacnet.create(
      {
        name: "dev",
        driver: "bacnet",
        config: { device: 6001, host: "127.0.0.1", port: relay.port, localPort: 0, timeout: "5s" },
        tags: new Map(),
      },
      { log: nullLogger, clock: systemClock },
    ) as BacnetDriver;
    const signal = AbortSignal.timeout(20_000);
    try {
      await d.connect(signal);
      // 60 objects x 3 properties: one request, a reply in several 480-byte segments.
      const tags = dev.objects!.map((o, i) => tag(`t${i}`, o.address));
      const rs = await d.read(d.plan(tags), signal);
      assert(rs.every((r) => r.ok), "every tag read");
      const [name] = await d.read(d.plan([tag("n", "device:6001/object-name")]), signal);
      assert(name!.ok);
      const [missing] = await d.read(d.plan([tag("m", "analog-input:999")]), signal);
      assert(!missing!.ok);
      const valve = tag("v", "analog-output:1", { priority: 8 });
      await d.write(valve, 55.5, signal);
      await d.write(valve, null, signal);
      // A segmented request: 1,200 characters to a device of max APDU 480.
      await d.write(tag("desc", "analog-input:1/description"), "x".repeat(1200), signal);
      const seen: number[] = [];
      const sink: ReadSink = { value: (i) => void seen.push(i), fail: () => {} };
      const sub = await d.subscribe(d.plan([tag("c", "analog-input:1")]), sink, signal, {
        confirmed: true,
        lifetime: "60s",
      });
      sim.setValue(6001, { type: 0, instance: 1 }, 30);
      const until = Date.now() + 5000;
      while (seen.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      await sub.close();
      await d.close();
      relay.close();
      await Deno.writeFile(
        file,
        pcap(relay.datagrams, { kind: "udp", clientPort: 47808, serverPort: 47808 }),
      );
      const malformed = await tshark(file, "-Y", "_ws.malformed || _ws.expert.severity == error");
      assertEquals(malformed.trim(), "", `malformed packets:\n${malformed}`);
      const fields = await tshark(
        file,
        "-T",
        "fields",
        "-e",
        "bacapp.type",
        "-e",
        "bacapp.confirmed_service",
        "-e",
        "bacapp.unconfirmed_service",
        "-e",
        "bacapp.error_class",
        "-e",
        "bacapp.error_code",
      );
      const rows = fields.trim().split("\n").map((l) => l.split("\t"));
      const has = (type: string, conf = "", unconf = "") =>
        rows.some((r) =>
          r[0] === type && (conf === "" || r[1] === conf) && (unconf === "" || r[2] === unconf)
        );
      // PDU types: 0 confirmed request, 1 unconfirmed, 2 simple ACK, 3 complex ACK, 4 segment ACK, 5 error.
      assert(has("1", "", "8"), "Who-Is decoded");
      assert(has("1", "", "0"), "I-Am decoded");
      assert(has("0", "12"), "ReadProperty decoded");
      assert(has("0", "14") && has("3", "14"), "ReadPropertyMultiple and its ACK decoded");
      assert(has("4"), "Segment-ACKs decoded");
      assert(has("0", "15") && has("2", "15"), "WriteProperty and its ACK decoded");
      assert(has("0", "5") && has("2", "5"), "SubscribeCOV and its ACK decoded");
      assert(has("0", "1") && has("2", "1"), "confirmed COV notification and its ACK decoded");
      // The unknown object's error comes inside the ReadPropertyMultiple ACK (or as an Error PDU).
      assert(
        rows.some((r) => r[3]?.split(",").includes("1") && r[4]?.split(",").includes("31")),
        `error class 1, code 31 decoded; rows:\n${fields}`,
      );
      const segmented = await tshark(
        file,
        "-Y",
        "bacapp.segmented_request == 1 && bacapp.type == 3",
      );
      assert(segmented.trim().split("\n").length >= 2, "the segmented ACK is there");
      const request = await tshark(file, "-Y", "bacapp.segmented_request == 1 && bacapp.type == 0");
      assert(request.trim().split("\n").length >= 3, `the segmented request is there:\n${request}`);
    } finally {
      await d.close();
      relay.close();
      await Deno.remove(file);
    }
  },
});
