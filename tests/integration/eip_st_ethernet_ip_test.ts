/**
 * @module
 * Interop of the EtherNet/IP simulator with an independent client: st-ethernet-ip 2.7.5
 * (its own encapsulation, Forward Open and Read/Write Tag code) reads and writes our
 * simulator's tags over connected messaging, and its Multiple Service Packet reads (tag
 * groups) decode; its tag-list browse (Symbol object, programs) and template reads list our
 * tags and decode a UDT by our templates, also one our driver wrote whole. st-ethernet-ip takes no port: it dials the `EIP_PORT`
 * of its `config.js` (44818), read at each connect; the tests start the simulator on a free port
 * and set it there, so that they meet no other test under `deno test --parallel`.
 */

import { assertEquals } from "../_assert.ts";
import { Controller, Tag, TagGroup } from "st-ethernet-ip";
import { DEMO_MAP } from "../../drivers/ethernet-ip/simulator/demo.ts";
import { startEipSimulator } from "../../drivers/ethernet-ip/simulator/server.ts";
import stConfig from "st-ethernet-ip/dist/config.js";
import { nullLogger, systemClock } from "../../engine/plugin.ts";
import { EipDriver } from "../../drivers/ethernet-ip/tcp/driver.ts";

const HOST = "127.0.0.1";

/** Points st-ethernet-ip's next connect at `port`. */
function dial(port: number): void {
  (stConfig as { EIP_PORT: number }).EIP_PORT = port;
}

Deno.test({
  name: "st-ethernet-ip reads, writes and group-reads the EtherNet/IP simulator",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sim = await startEipSimulator({ host: HOST, map: DEMO_MAP, udp: false });
    dial(sim.port);
    const plc = new Controller(true);
    try {
      await plc.connect(HOST, 0, false);
      const dint = new Tag("TestDINT[4]", undefined, 0xc4);
      const real = new Tag("TestREAL", undefined, 0xca);
      const prog = new Tag("Counter", "MainProgram", 0xc4);
      await plc.readTag(dint);
      await plc.readTag(real);
      await plc.readTag(prog);
      assertEquals([dint.value, real.value, prog.value], [40, 21.5, 7]);
      dint.value = -1234;
      await plc.writeTag(dint);
      assertEquals(sim.store.getValue(sim.store.resolve(["TestDINT"], [[4]])), -1234);
      const group = new TagGroup();
      const a = new Tag("TestINT", undefined, 0xc3);
      const b = new Tag("TestSINT", undefined, 0xc2);
      group.add(a);
      group.add(b);
      await plc.readTagGroup(group);
      assertEquals([a.value, b.value], [1234, -5]);
      assertEquals(sim.forwardOpens.length, 1, "one Forward Open, the reads connected");
    } finally {
      await plc.disconnect().catch(() => {});
      plc.destroy();
      await sim.close();
    }
  },
});

Deno.test({
  name: "st-ethernet-ip browses the simulator's tag list and templates and decodes a UDT by them",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sim = await startEipSimulator({ host: HOST, map: DEMO_MAP, udp: false });
    dial(sim.port);
    const plc = new Controller(true);
    try {
      // SETUP: Identity, the Symbol object's instances (controller and program scopes),
      // every structure's template (Get Attribute List and Read Template).
      await plc.connect(HOST, 0, true);
      assertEquals(plc.properties.name, "1756-L83E/B Bifrost Sim");
      const list = plc.tagList as unknown as {
        name: string;
        program: string | null;
        type: { typeName: string };
      }[];
      const byName = new Map(list.map((t) => [`${t.program ?? ""}/${t.name}`, t.type.typeName]));
      assertEquals(byName.get("/TestDINT"), "DINT");
      assertEquals(byName.get("/TestSTRING"), "STRING");
      assertEquals(byName.get("/Line"), "Motor");
      assertEquals(byName.get("MainProgram/Counter"), "DINT");
      const line = plc.newTag("Line");
      await plc.readTag(line);
      const v = line.value as Record<string, unknown>;
      assertEquals(
        [v.Speed, v.Running, v.Faulted, v.Starts, v.Currents, v.Label],
        [1450.5, true, false, 12, [0, 0, 0], "Pump 1"],
      );
    } finally {
      await plc.disconnect().catch(() => {});
      plc.destroy();
      await sim.close();
    }
  },
});

Deno.test({
  name: "a structure our driver writes whole reads back whole in st-ethernet-ip, by its template",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sim = await startEipSimulator({ host: HOST, map: structuredClone(DEMO_MAP), udp: false });
    const driver = new EipDriver({
      name: "plc",
      driver: "ethernet-ip",
      config: { host: HOST, port: sim.port },
      tags: new Map(),
    }, { log: nullLogger, clock: systemClock });
    dial(sim.port);
    const plc = new Controller(true);
    try {
      await driver.connect(AbortSignal.timeout(10_000));
      const motor = {
        Speed: 980.25,
        Running: false,
        Faulted: true,
        Starts: -40,
        Currents: [1.5, 2.5, 3.25],
        Label: "Pump 2",
      };
      const line = { name: "line", address: "Line", type: "auto", writable: true, config: {} };
      await driver.write(line, motor, AbortSignal.timeout(10_000));
      await plc.connect(HOST, 0, true);
      const tag = plc.newTag("Line");
      await plc.readTag(tag);
      const v = tag.value as Record<string, unknown>;
      assertEquals(
        Object.fromEntries(Object.keys(motor).map((k) => [k, v[k]])),
        motor,
      );
    } finally {
      await driver.close();
      await plc.disconnect().catch(() => {});
      plc.destroy();
      await sim.close();
    }
  },
});
