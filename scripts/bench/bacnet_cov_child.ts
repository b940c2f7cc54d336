/**
 * @module
 * The simulator side of `deno task bench:bacnet`'s COV part, in a process of its own (pinned to
 * CPU 1 by the bench): `DEVICES` generated devices of 62 objects (50 analog) on free ports,
 * printed as `ports P1,P2,...`. On `run RATE COUNT BASE` (stdin) it changes COUNT analog
 * present values at RATE per second, spread over every device (change j sets BASE + j on
 * device j % DEVICES), and prints `start T0` (epoch ms, high resolution) before the first
 * change and `done` after the last: the bench knows when change j happened (T0 + j / RATE)
 * from the value it records.
 */

import { generatedDevice, startSite } from "../../drivers/bacnet/simulator/config.ts";
import { parseAddress } from "../../drivers/bacnet/core/address.ts";

const DEVICES = Number(Deno.args[0] ?? 100);
const OBJECTS = 62;
const devices = Array.from({ length: DEVICES }, (_, i) => generatedDevice(1000 + i, OBJECTS));
const analog = devices[0]!.objects!.filter((o) => /^analog/.test(o.address)).map((o) =>
  parseAddress(o.address).object
);
await using site = await startSite({ devices });
const write = (s: string) => Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
write(`ports ${site.endpoints.map((e) => e.port).join(",")}`);
const epoch = () => performance.timeOrigin + performance.now();

async function run(rate: number, count: number, base: number): Promise<void> {
  const t0 = epoch();
  write(`start ${t0}`);
  let j = 0;
  while (j < count) {
    const due = Math.min(count, Math.floor((epoch() - t0) * rate / 1000) + 1);
    for (; j < due; j++) {
      const d = j % DEVICES;
      const obj = analog[Math.floor(j / DEVICES) % analog.length]!;
      site.endpoints[d]!.setValue(1000 + d, obj, base + j);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  write("done");
}

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let buf = "";
for await (const chunk of lines) {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const [cmd, a, b, c] = buf.slice(0, nl).trim().split(/\s+/);
    buf = buf.slice(nl + 1);
    if (cmd === "run") await run(Number(a), Number(b), Number(c));
    if (cmd === "quit") Deno.exit(0);
  }
}
