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

const tshark = await new Deno.Command("tshark", {
  args: ["--version"],
  stdout: "null",
  stderr: "null",
})
  .output().then((r) => r.success, () => false);

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

/** The chunks as a pcap of Ethernet/IPv4/TCP segments on port 44818. */
function pcap(chunks: { toServer: boolean; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, 0xa1b2c3d4, true);
  head.setUint16(4, 2, true);
  head.setUint16(6, 4, true);
  head.setUint32(16, 262144, true);
  head.setUint32(20, 1, true);
  parts.push(new Uint8Array(head.buffer));
  const seq = { client: 1000, server: 5000 };
  for (const [i, c] of chunks.entries()) {
    const len = 14 + 20 + 20 + c.data.length;
    const rec = new Uint8Array(16 + len);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 1_700_000_000 + i, true);
    v.setUint32(8, len, true);
    v.setUint32(12, len, true);
    const e = 16;
    rec.set(
      c.toServer ? [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1] : [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2],
      e,
    );
    v.setUint16(e + 12, 0x0800);
    const ip = e + 14;
    rec[ip] = 0x45;
    v.setUint16(ip + 2, 40 + c.data.length);
    v.setUint16(ip + 6, 0x4000);
    rec[ip + 8] = 64;
    rec[ip + 9] = 6;
    rec.set(c.toServer ? [10, 0, 0, 1, 10, 0, 0, 2] : [10, 0, 0, 2, 10, 0, 0, 1], ip + 12);
    const tcp = ip + 20;
    v.setUint16(tcp, c.toServer ? 50000 : 44818);
    v.setUint16(tcp + 2, c.toServer ? 44818 : 50000);
    v.setUint32(tcp + 4, c.toServer ? seq.client : seq.server);
    v.setUint32(tcp + 8, c.toServer ? seq.server : seq.client);
    rec[tcp + 12] = 0x50;
    rec[tcp + 13] = 0x18;
    v.setUint16(tcp + 14, 65535);
    rec.set(c.data, tcp + 20);
    if (c.toServer) seq.client += c.data.length;
    else seq.server += c.data.length;
    parts.push(rec);
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), at += p.length);
  return out;
}

function tag(
  name: string,
  address: string,
  type: string,
  extra: Record<string, unknown> = {},
): TagConfig {
  return { name, address, type, writable: true, config: { address, type, ...extra } };
}

async function run(file: string, ...args: string[]): Promise<string> {
  const r = await new Deno.Command("tshark", {
    args: ["-n", "-r", file, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`tshark failed: ${new TextDecoder().decode(r.stderr)}`);
  return new TextDecoder().decode(r.stdout);
}

Deno.test({
  name: `Wireshark's dissector decodes our client's and simulator's frames${
    tshark ? "" : " (skipped: tshark is not installed: apt-get install tshark)"
  }`,
  ignore: !tshark,
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
      await Deno.writeFile(file, pcap(proxy.chunks));
      const malformed = await run(file, "-Y", "_ws.malformed");
      assertEquals(malformed.trim(), "", `malformed packets:\n${malformed}`);
      const services = await run(file, "-T", "fields", "-e", "cip.sc");
      const seen = new Set(services.split(/[\s,]+/).filter((s) => s !== ""));
      for (const sc of ["0x5b", "0x0a", "0x4c", "0x52", "0x4d", "0x4e", "0x55"]) {
        assert(seen.has(sc), `service ${sc} decoded; saw ${[...seen].join(" ")}`);
      }
      const symbols = await run(file, "-T", "fields", "-e", "cip.symbol");
      for (const s of ["TestDINT", "Program:MainProgram", "Counter", "BigArray", "TestREAL"]) {
        assert(symbols.includes(s), `symbol ${s} decoded; saw ${symbols.slice(0, 300)}`);
      }
      const text = await run(file, "-V");
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
