/**
 * @module
 * A fleet as `docs/fleet.md` lays it out: one flow repository with a folder per site, one
 * gateway per site (`run --git … --path sites/<site>`), both publishing into one broker (a
 * real mosquitto started here): a Unified Namespace through `mqtt` sinks and Sparkplug B
 * through `sparkplug` sinks. Both sites use the same device and tag names on purpose, the
 * worst case. Checked: every topic belongs to one site only (one publisher per topic: its
 * sequence numbers only increase), no client was thrown off by another with its client id,
 * each Sparkplug edge node is born once under its own id, and every record each gateway
 * produced (its own count, from its final process stats) arrived exactly once. And
 * `bifrost check --fleet` passes the repository, as its CI would run it.
 */

import { join } from "node:path";
import mqtt from "mqtt";
import { assert, assertEquals, assertMatch } from "./_assert.ts";
import { bifrost } from "./_cli.ts";
import { FlowRepo, Gateway, gitMissing } from "./_git.ts";
import { Mosquitto, mosquittoMissing, startModbusSimulator } from "./fixtures/mod.ts";

const site = (name: string, port: number, broker: string) =>
  `# Site ${name}: its devices, and its place in the namespace (see docs/fleet.md).
devices:
  boiler-plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    tags:
      temp1: { address: HR0, type: uint16 }
      pressure: { address: HR1, type: uint16 }
polls:
  fast: { device: boiler-plc, tags: "*", every: 100ms }
sinks:
  uns:
    use: mqtt
    from: fast
    url: ${broker}
    clientId: ${name}-uns
    topic: acme/{site}/{area}/{device}/{tag}
    vars: { site: ${name}, area: boilers }
    qos: 1
  spb:
    use: sparkplug
    from: fast
    url: ${broker}
    groupId: acme
    edgeNode: ${name}
`;

const missing = mosquittoMissing() ?? gitMissing();

Deno.test({
  name: missing === undefined
    ? "two gateways from two site folders of one repository publish into one broker without collisions"
    : `two gateways from two site folders of one repository publish into one broker without collisions (skipped: ${missing})`,
  ignore: missing !== undefined,
  async fn() {
    await using broker = await Mosquitto.start();
    await using simA = await startModbusSimulator({
      units: { 1: { HR0: { value: 70 }, HR1: { value: 3 } } },
    });
    await using simB = await startModbusSimulator({
      units: { 1: { HR0: { value: 80 }, HR1: { value: 4 } } },
    });
    const dir = await Deno.makeTempDir({ prefix: "bifrost-fleet-" });
    const received: { topic: string; payload: Uint8Array }[] = [];
    const client = await mqtt.connectAsync(broker.url, { clientId: "fleet-test-observer" });
    client.on("message", (topic, payload) => received.push({ topic, payload }));
    await client.subscribeAsync(["acme/#", "spBv1.0/#"], { qos: 1 });
    try {
      const repo = await FlowRepo.create(dir);
      await repo.push({
        "sites/plant-a/flow.yaml": site("plant-a", simA.port, broker.url),
        "sites/plant-b/flow.yaml": site("plant-b", simB.port, broker.url),
      }, "two sites");
      // What the repository's CI runs: each site, and the clashes between sites.
      const checked = await bifrost(["check", "--fleet", repo.work]);
      assertEquals(checked.code, 0, checked.out + checked.err);
      assertMatch(checked.out, /^ok: 2 site\(s\) \(sites\/plant-a, sites\/plant-b\)/m);
      const gateways = ["plant-a", "plant-b"].map((s) =>
        new Gateway(
          ["--git", repo.url, "--path", `sites/${s}`, "--data-dir", join(dir, s), "--no-http"],
          undefined,
          { BIFROST_STATS_EVERY: "1h" },
        )
      );
      for (const gw of gateways) await gw.line(/^Running revision from git$/);
      // Three seconds of polling at 100 ms in both sites.
      await new Promise((r) => setTimeout(r, 3000));
      for (const gw of gateways) assertEquals(await gw.stop(), 0);
      const produced = gateways.map((gw) => {
        const stats = gw.msg(/^Process stats$/).find((l) => l.final === true);
        assert(stats, "the final process stats");
        return (stats.sequences as Record<string, [number, number]>)["boiler-plc"]!;
      });
      // What a clean stop flushed is in flight to the observer for a moment.
      const expected = produced.reduce((n, [a, b]) => n + b - a + 1, 0);
      const deadline = Date.now() + 10_000;
      const uns = () => received.filter((m) => m.topic.startsWith("acme/"));
      while (uns().length < expected && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }

      // UNS: the topics of each site are its own, one publisher per topic.
      const bySite = new Map<string, number[]>();
      const lastSeq = new Map<string, number>();
      for (const m of uns()) {
        const [enterprise, s, area, device, tag] = m.topic.split("/");
        assertEquals([enterprise, area, device], ["acme", "boilers", "boiler-plc"]);
        assert(s === "plant-a" || s === "plant-b", m.topic);
        assert(tag === "temp1" || tag === "pressure", m.topic);
        const body = JSON.parse(new TextDecoder().decode(m.payload)) as { seq: number };
        const before = lastSeq.get(m.topic) ?? -1;
        assert(body.seq > before, `${m.topic}: seq ${body.seq} after ${before} (two publishers?)`);
        lastSeq.set(m.topic, body.seq);
        bySite.set(s, [...(bySite.get(s) ?? []), body.seq]);
      }
      // Every record each gateway produced arrived, once.
      for (const [i, s] of ["plant-a", "plant-b"].entries()) {
        const [first, last] = produced[i]!;
        const seqs = (bySite.get(s) ?? []).sort((a, b) => a - b);
        assertEquals(seqs.length, last - first + 1, `${s}: ${seqs.length} of ${first}..${last}`);
        assertEquals(new Set(seqs).size, seqs.length, `${s}: a record twice`);
        assertEquals([seqs[0], seqs.at(-1)], [first, last], s);
      }

      // Sparkplug: one edge node per site, each born once (a client id taken over by the
      // other gateway would reconnect and be born again).
      const spb = received.filter((m) => m.topic.startsWith("spBv1.0/")).map((m) => m.topic);
      const births = spb.filter((t) => t.includes("/NBIRTH/")).sort();
      assertEquals(births, ["spBv1.0/acme/NBIRTH/plant-a", "spBv1.0/acme/NBIRTH/plant-b"]);
      const nodes = new Set(spb.map((t) => t.split("/")[3]));
      assertEquals([...nodes].sort(), ["plant-a", "plant-b"]);
      for (const s of ["plant-a", "plant-b"]) {
        assert(spb.includes(`spBv1.0/acme/DDATA/${s}/boiler-plc`), `${s} DDATA`);
      }
      for (const gw of gateways) {
        const lost = gw.lines.filter((l) => /disconnect|connection lost|reconnect/i.test(l.msg));
        assertEquals(lost.map((l) => l.msg), [], "no sink lost its connection");
      }
    } finally {
      await client.endAsync(true);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
