import { assertEquals } from "../../tests/_assert.ts";
import { loadFlows } from "../../app/registries.ts";
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
  // The value kind the driver gave at load travels with the tag.
  assertEquals(back.devices.get("boiler-plc")!.tags.get("temp1")!.kind, "float");
});
