import { assertEquals } from "../../tests/_assert.ts";
import { loadFlows, registries } from "../../app/registries.ts";
import { kindOf } from "../driver.ts";
import { flowSetFromJson, flowSetToJson } from "./serialize.ts";

Deno.test("a loaded flow set survives the trip through JSON unchanged", async () => {
  const r = await loadFlows(new URL("../../flows", import.meta.url).pathname, {
    env: {},
    checkFunctions: false,
  });
  const flows = r.flows!;
  const back = flowSetFromJson(JSON.parse(JSON.stringify(flowSetToJson(flows))));
  assertEquals(back, flows);
  assertEquals(back.devices.get("boiler-plc")!.tags.get("temp1")!.type, "float32");
  // The value kind is not carried: the driver tells it from the config, on both sides.
  const modbus = registries.drivers.find((m) => m.name === "modbus-tcp")!;
  assertEquals(kindOf(back.devices.get("boiler-plc")!.tags.get("temp1")!, modbus), "float");
});
