/**
 * @module
 * `bifrost check --fleet`: two site folders that are each valid but clash on one broker
 * (a UNS topic without the site in it, one Sparkplug edge node, one client id) are reported
 * at the later site's sink with `file:line:column`, naming the other; named per site they
 * pass.
 */

import { join } from "node:path";
import { assertEquals, assertMatch } from "../tests/_assert.ts";
import { bifrost } from "../tests/_cli.ts";

const site = (name: string, o: { topic: string; node: string; clientId: string }) =>
  `devices:
  boiler-plc:
    driver: modbus-tcp
    host: 10.0.0.1
    tags:
      temp1: { address: HR0, type: uint16 }
polls:
  fast: { device: boiler-plc, tags: "*", every: 1s }
sinks:
  uns:
    use: mqtt
    from: fast
    url: mqtt://broker.acme.local
    clientId: ${o.clientId}
    topic: ${o.topic}
    vars: { site: ${name} }
  spb:
    use: sparkplug
    from: fast
    url: mqtt://broker.acme.local:1883
    groupId: acme
    edgeNode: ${o.node}
`;

Deno.test("bifrost check --fleet reports topics, edge nodes and client ids two sites share", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-fleet-check-" });
  try {
    const write = async (name: string, text: string) => {
      await Deno.mkdir(join(dir, "sites", name), { recursive: true });
      await Deno.writeTextFile(join(dir, "sites", name, "flow.yaml"), text);
    };
    const same = { topic: "acme/{device}/{tag}", node: "gw", clientId: "gateway" };
    await write("plant-a", site("plant-a", same));
    await write("plant-b", site("plant-b", same));
    const bad = await bifrost(["check", "--fleet", dir]);
    assertEquals(bad.code, 1, bad.out + bad.err);
    const b = join(dir, "sites/plant-b/flow.yaml");
    const lines = bad.out.trim().split("\n");
    assertEquals(lines.length, 4, bad.out);
    assertMatch(
      lines[0]!,
      new RegExp(
        `^${b}:10:3 error: MQTT client id "gateway" on broker\\.acme\\.local:1883 is also the one of sink "uns" of site "sites/plant-a"`,
      ),
    );
    assertMatch(
      lines[1]!,
      new RegExp(
        `^${b}:10:3 error: topic "acme/boiler-plc/temp1" on broker\\.acme\\.local:1883 .* is also published by sink "uns" of site "sites/plant-a" \\(.*plant-a/flow\\.yaml:10:3\\)`,
      ),
    );
    assertMatch(
      lines[2]!,
      new RegExp(
        `^${b}:17:3 error: Sparkplug edge node "acme/gw" on broker\\.acme\\.local:1883 is also the one of sink "spb"`,
      ),
    );
    assertEquals(lines[3], "2 site(s) (sites/plant-a, sites/plant-b), 3 error(s), 0 warning(s)");

    for (const name of ["plant-a", "plant-b"]) {
      await write(
        name,
        site(name, {
          topic: "acme/{site}/{device}/{tag}",
          node: name,
          clientId: `${name}-uns`,
        }),
      );
    }
    const good = await bifrost(["check", "--fleet", dir]);
    assertEquals(good.code, 0, good.out + good.err);
    assertEquals(
      good.out.trim(),
      "ok: 2 site(s) (sites/plant-a, sites/plant-b), 0 error(s), 0 warning(s)",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
