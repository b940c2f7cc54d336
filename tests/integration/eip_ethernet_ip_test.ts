/**
 * @module
 * Interop of the EtherNet/IP simulator with a second independent client: `ethernet-ip` 1.2.5
 * (cmseaton42's; its own encapsulation, unconnected messaging through Unconnected Send to
 * backplane slot 0, Read/Write Tag, Read-Modify-Write for bits, Multiple Service Packet for tag
 * groups) reads and writes DINT, REAL, BOOL, INT, SINT, array elements (one and two
 * dimensions), a bit of a DINT, a program-scoped tag and UDT members of our simulator.
 *
 * The library dials the port of its `config.js` (44818), read once when its `enip` module loads:
 * the test starts the simulator on a free port first and sets that port in the config before it
 * loads the library, so that it never meets another test on 44818.
 */

import { assertEquals } from "../_assert.ts";
import { DEMO_MAP } from "../../drivers/ethernet-ip/simulator/demo.ts";
import { startEipSimulator } from "../../drivers/ethernet-ip/simulator/server.ts";

/** The part of ethernet-ip 1.2.5 the test uses (the package ships no types). */
interface EthernetIpTag {
  value: unknown;
}
interface EthernetIp {
  Controller: new () => {
    connect(host: string, slot: number): Promise<void>;
    readTag(tag: EthernetIpTag, size?: number): Promise<void>;
    writeTag(tag: EthernetIpTag, value?: unknown): Promise<void>;
    readTagGroup(group: unknown): Promise<void>;
    properties: { name: string };
    destroy(): void;
  };
  Tag: new (name: string, program?: string | null, type?: number | null) => EthernetIpTag;
  TagGroup: new () => { add(tag: EthernetIpTag): void };
}

const TYPES = { BOOL: 0xc1, SINT: 0xc2, INT: 0xc3, DINT: 0xc4, REAL: 0xca } as const;

Deno.test({
  name: "ethernet-ip (cmseaton42) reads and writes the EtherNet/IP simulator's tags",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await using sim = await startEipSimulator({ map: structuredClone(DEMO_MAP), udp: false });
    const config = (await import("ethernet-ip/src/config.js")).default as { EIP_PORT: number };
    config.EIP_PORT = sim.port;
    const { Controller, Tag, TagGroup } = (await import("ethernet-ip")).default as EthernetIp;
    const plc = new Controller();
    const value = (names: string[], indexes: number[][] = []) =>
      sim.store.getValue(sim.store.resolve(names, indexes));
    try {
      await plc.connect("127.0.0.1", 0);
      await t.step("Identity: the controller's name", () => {
        assertEquals(plc.properties.name, "1756-L83E/B Bifrost Sim");
      });

      await t.step("atomic tags, array elements, a program tag, UDT members read", async () => {
        const tags = {
          dint: new Tag("TestDINT[4]", null, TYPES.DINT),
          real: new Tag("TestREAL", null, TYPES.REAL),
          bool: new Tag("TestBOOL", null, TYPES.BOOL),
          int: new Tag("TestINT", null, TYPES.INT),
          sint: new Tag("TestSINT", null, TYPES.SINT),
          matrix: new Tag("Matrix[1,2]", null, TYPES.INT),
          counter: new Tag("Counter", "MainProgram", TYPES.DINT),
          speed: new Tag("Line.Speed", null, TYPES.REAL),
          starts: new Tag("Line.Starts", null, TYPES.DINT),
          running: new Tag("Line.Running", null, TYPES.BOOL),
        };
        for (const tag of Object.values(tags)) await plc.readTag(tag);
        assertEquals(
          Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v.value])),
          {
            dint: 40,
            real: 21.5,
            bool: true,
            int: 1234,
            sint: -5,
            matrix: 0,
            counter: 7,
            speed: 1450.5,
            starts: 12,
            running: true,
          },
        );
      });

      await t.step("writes land in the simulator's memory and read back", async () => {
        const cases: [string, string | null, number, unknown, () => unknown][] = [
          ["TestDINT[7]", null, TYPES.DINT, -123456, () => value(["TestDINT"], [[7]])],
          ["TestREAL", null, TYPES.REAL, -2.25, () => value(["TestREAL"])],
          ["TestBOOL", null, TYPES.BOOL, false, () => value(["TestBOOL"])],
          ["Matrix[2,3]", null, TYPES.INT, -77, () => value(["Matrix"], [[2, 3]])],
          [
            "Setpoint",
            "MainProgram",
            TYPES.REAL,
            60.5,
            () => value(["Program:MainProgram", "Setpoint"]),
          ],
          ["Line.Starts", null, TYPES.DINT, 99, () => value(["Line", "Starts"], [[], []])],
          ["Line.Speed", null, TYPES.REAL, 1200.25, () => value(["Line", "Speed"], [[], []])],
        ];
        for (const [name, program, type, v, stored] of cases) {
          await plc.writeTag(new Tag(name, program, type), v);
          assertEquals(stored(), v, `${name} in the simulator's memory`);
          const back = new Tag(name, program, type);
          await plc.readTag(back);
          assertEquals(back.value, v, `${name} read back`);
        }
      });

      await t.step("a bit of a DINT is written by Read-Modify-Write and read back", async () => {
        const bit = new Tag("TestDINT[1].3", null, TYPES.DINT);
        await plc.readTag(bit);
        assertEquals(bit.value, true, "10 = 0b1010: bit 3 is set");
        await plc.writeTag(bit, false);
        assertEquals(value(["TestDINT"], [[1]]), 2);
        await plc.writeTag(bit, true);
        assertEquals(value(["TestDINT"], [[1]]), 10);
      });

      await t.step("a tag group is read in one Multiple Service Packet", async () => {
        const group = new TagGroup();
        const a = new Tag("TestINT", null, TYPES.INT);
        const b = new Tag("TestSINT", null, TYPES.SINT);
        const c = new Tag("Line.Starts", null, TYPES.DINT);
        for (const x of [a, b, c]) group.add(x);
        await plc.readTagGroup(group);
        assertEquals([a.value, b.value, c.value], [1234, -5, 99]);
      });
    } finally {
      plc.destroy();
    }
  },
});
