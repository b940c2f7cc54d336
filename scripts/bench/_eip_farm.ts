/**
 * @module
 * Simulated Logix controllers for `bench:eip`, in a process of their own: `--count N` of them
 * with `--tags T` DINT tags each (`T0`...), on 127.0.0.1 free ports, printed as one JSON
 * line of ports; they run until stdin closes.
 */

import { parseArgs } from "node:util";
import { startEipSimulator } from "../../drivers/ethernet-ip/simulator/server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { count: { type: "string", default: "1" }, tags: { type: "string", default: "1000" } },
});
const n = Number(values.tags);
const tags = Object.fromEntries(
  Array.from({ length: n }, (_, i) => [`T${i}`, { type: "DINT", value: i }]),
);
const sims = [];
for (let i = 0; i < Number(values.count); i++) {
  sims.push(await startEipSimulator({ map: { tags }, udp: false }));
}
console.log(JSON.stringify(sims.map((s) => s.port)));
for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
for (const s of sims) await s.close();
