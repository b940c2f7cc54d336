/**
 * @module
 * Sparkplug DCMD writes through a running gateway with its API: they take the API's write
 * path (writable, kind and range checked) and are audited as `sparkplug:<sink>`, over a real
 * mosquitto with Eclipse Tahu's encoder as the host application.
 */

import { assertEquals } from "../../tests/_assert.ts";
import { Broker, Host, mosquittoMissing, waitFor } from "../../sinks/sparkplug/_broker.ts";
import { call, startTestGateway } from "./_test_gateway.ts";

const skip = mosquittoMissing();
const NAME = "Sparkplug DCMD writes are range-checked and audited as sparkplug:<sink>";

Deno.test({
  name: skip ? `${NAME} (skipped: ${skip})` : NAME,
  ignore: skip !== undefined,
  async fn() {
    await using broker = await Broker.start();
    const host = await Host.connect(broker.url, "G1");
    try {
      await using t = await startTestGateway({}, {
        flow: `  spb:
    use: sparkplug
    from: fast
    url: ${broker.url}
    groupId: G1
    edgeNode: edge1
    reconnectMin: 50ms
    reconnectMax: 200ms
`,
      });
      await waitFor(() => host.of("DBIRTH", "plc").length >= 1, () => "no DBIRTH of plc");
      const audited = async () =>
        ((await call(`${t.api}/audit?tag=setpoint`)).body.entries as Record<string, unknown>[])
          .filter((e) => e.who === "sparkplug:spb");
      await host.command("spBv1.0/G1/DCMD/edge1/plc", [
        { name: "setpoint", type: "Float", value: 150 }, // beyond max: 100
      ]);
      const deadline = Date.now() + 15_000;
      while ((await audited()).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(t.sim.getValue("HR0", { type: "float32" }), 20.5, "nothing written");
      await host.command("spBv1.0/G1/DCMD/edge1/plc", [
        { name: "setpoint", type: "Float", value: 42.5 },
      ]);
      await waitFor(
        () => t.sim.getValue("HR0", { type: "float32" }) === 42.5,
        () => "the in-range DCMD never reached the simulator",
        15_000,
      );
      assertEquals(t.sim.getValue("HR0", { type: "float32" }), 42.5);
      // The audit entry follows the device's answer, a moment after the simulator has it.
      let spb = await audited();
      while (spb.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        spb = await audited();
      }
      assertEquals(spb.map((e) => [e.newValue, e.result]).reverse(), [
        [150, "WRITE_REJECTED"],
        [42.5, "ok"],
      ]);
      assertEquals(spb[1]!.oldValue, 20.5);
    } finally {
      await host.close();
    }
  },
});
