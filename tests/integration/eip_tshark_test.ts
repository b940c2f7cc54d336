/**
 * @module
 * An independent decoder checks both ends of our EtherNet/IP: Wireshark's dissector (tshark,
 * Debian package `tshark`) reads every byte our client and our simulator exchanged through
 * a recording proxy (RegisterSession, Large Forward Open, Multiple Service Packet, Read Tag,
 * Read Tag Fragmented, Write Tag, Read-Modify-Write, symbol browse, Forward Close) and finds
 * no malformed packet, the services we meant, and the tag names we sent. No independent
 * EtherNet/IP server installs here (npm has clients only, Debian none): this is the
 * independent check of our client's frames. Skipped by name when tshark is missing.
 */

import { assert, assertEquals } from "../_assert.ts";
import { nullLogger, systemClock, type TagConfig } from "../../engine/plugin.ts";
import { DEMO_MAP } from "../../drivers/ethernet-ip/simulator/demo.ts";
import { startEipSimulator } from "../../drivers/ethernet-ip/simulator/server.ts";
import { EipDriver } from "../../drivers/ethernet-ip/tcp/driver.ts";
import { hasTshark, pcap, tshark } from "./_pcap.ts";

/** A TCP proxy that records each chunk with its direction. */
function recordingProxy(target: number) {
  const chunks: { toServer: boolean; data: Uint8Array }[] = [];
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pumps: Promise<void>[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, toServer: boolean) => {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        chunks.push({ toServer, data: buf.slice(0, n) });
        await to.write(buf.subarray(0, n));
      }
    } catch { /* closed */ }
    try {
      to.close();
    } catch { /* closed */ }
  };
  const accepting = (async () => {
    for await (const c of listener) {
      const s = await Deno.connect({ hostname: "127.0.0.1", port: target });
      pumps.push(pump(c, s, true), pump(s, c, false));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    chunks,
    async close() {
      listener.close();
      await accepting;
      await Promise.all(pumps);
    },
  };
}

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

Deno.test({
  name: `Wireshark's dissector decodes our client's and simulator's frames${
    hasTshark ? "" : " (skipped: tshark is not installed: apt-get install tshark)"
  }`,
  ignore: !hasTshark,
  async fn() {
    const sim = await startEipSimulator({ map: DEMO_MAP, udp: false });
    const proxy = recordingProxy(sim.port);
    const driver = new EipDriver(
      {
        name: "plc",
        driver: "ethernet-ip",
        config: { host: "127.0.0.1", port: proxy.port },
        tags: new Map(),
      },
      { log: nullLogger, clock: systemClock },
    );
    const signal = AbortSignal.timeout(10_000);
    const file = await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await driver.connect(signal);
      const tags = [
        tag("a", "TestDINT[3]", "DINT"),
        tag("b", "Program:MainProgram.Counter", "DINT"),
        tag("c", "TestSTRING", "STRING"),
        tag("big", "BigArray[0]", "DINT", { count: 2000 }),
      ];
      const rs = await driver.read(driver.plan(tags), signal);
      assert(rs.every((r) => r.ok), JSON.stringify(rs));
      await driver.write(tag("w", "TestREAL", "REAL"), 1.5, signal);
      await driver.write(tag("bit", "TestDINT[1].0", "BOOL"), true, signal);
      await driver.browse(undefined, signal);
      await driver.close();
      await proxy.close();
      await Deno.writeFile(
        file,
        pcap(proxy.chunks, { kind: "tcp", clientPort: 50000, serverPort: 44818 }),
      );
      const malformed = await tshark(file, "-Y", "_ws.malformed");
      assertEquals(malformed.trim(), "", `malformed packets:\n${malformed}`);
      const services = await tshark(file, "-T", "fields", "-e", "cip.sc");
      const seen = new Set(services.split(/[\s,]+/).filter((s) => s !== ""));
      for (const sc of ["0x5b", "0x0a", "0x4c", "0x52", "0x4d", "0x4e", "0x55"]) {
        assert(seen.has(sc), `service ${sc} decoded; saw ${[...seen].join(" ")}`);
      }
      const symbols = await tshark(file, "-T", "fields", "-e", "cip.symbol");
      for (const s of ["TestDINT", "Program:MainProgram", "Counter", "BigArray", "TestREAL"]) {
        assert(symbols.includes(s), `symbol ${s} decoded; saw ${symbols.slice(0, 300)}`);
      }
      const text = await tshark(file, "-V");
      assert(/Large Forward Open/i.test(text), "the Large Forward Open is named");
      assert(/Register Session/i.test(text), "RegisterSession is named");
    } finally {
      await driver.close();
      await proxy.close().catch(() => {});
      await sim.close();
      await Deno.remove(file);
    }
  },
});
