/**
 * @module
 * A 100,000-variable config (one `repeat:` template) starts as `bifrost sim opcua --config`
 * in a process of its own, its first and last variables read through our driver, its counter
 * moving. Start-up time and resident memory are printed (figures for the README), not
 * asserted: the machine is shared and loaded.
 */

import { assert } from "../../../tests/_assert.ts";
import { nullLogger, systemClock, type TagResult } from "../../../engine/plugin.ts";
import { OpcuaDriver } from "../client/driver.ts";

Deno.env.set("OPCUA_PKI_USE_POLLING", "true");

Deno.test("a config of 100,000 variables starts, and its variables read and change through our driver", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-opcua-large-" });
  const config = `${dir}/large.yaml`;
  await Deno.writeTextFile(
    config,
    [
      "changeEvery: 1s",
      "objects:",
      "  Big:",
      "    variables:",
      '      "V{i}": { type: Double, repeat: 100000, value: "{i}", writable: true, generator: counter }',
    ].join("\n"),
  );
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../tools/sim_cli.ts", import.meta.url).pathname,
      "--config",
      config,
      "--port",
      "0",
      "--pki",
      `${dir}/server-pki`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let errText = "";
  const errDone = (async () => {
    for await (const c of stderr) errText += c;
  })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = setTimeout(() => child.kill("SIGKILL"), 180_000);
  try {
    while (!/listening on (opc\.tcp:\/\/\S+)/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the simulator exited before listening: ${errText}`);
      out += value;
    }
    const startMs = performance.now() - started;
    const rssKb = Number(
      /VmRSS:\s+(\d+) kB/.exec(await Deno.readTextFile(`/proc/${child.pid}/status`))?.[1],
    );
    void (async () => {
      while (!(await reader.read()).done) { /* drain */ }
    })();
    const endpoint = /listening on (opc\.tcp:\/\/\S+)/.exec(out)![1]!;
    const real = new OpcuaDriver(
      {
        name: "big",
        driver: "opcua",
        config: { endpoint, pki: `${dir}/client-pki`, timeout: "30s" },
        tags: new Map(),
      },
      { log: nullLogger, clock: systemClock },
    );
    await real.connect(AbortSignal.timeout(60_000));
    try {
      const tags = [0, 50_000, 99_999].map((i) => {
        const address = `ns=1;s=Big.V${i}`;
        return {
          name: `v${i}`,
          address,
          type: "Double",
          writable: true,
          config: { address, type: "Double" },
        };
      });
      const plan = real.plan(tags);
      const first = await real.read(plan, AbortSignal.timeout(60_000));
      assert(first.every((r) => r.ok), JSON.stringify(first));
      const v = first.map((r) => r.ok ? r.value as number : NaN);
      // Each counts up from its index: value - index is the same tick count for all three.
      // (one read may straddle a tick: at most two distinct counts).
      const ticks = new Set([v[0]! - 0, v[1]! - 50_000, v[2]! - 99_999]);
      assert(ticks.size <= 2 && Math.min(...ticks) >= 0, `${v}`);
      let later: TagResult[] = first;
      const until = performance.now() + 60_000;
      while ((later[2]!.ok ? later[2]!.value : 0) === v[2] && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 500));
        later = await real.read(plan, AbortSignal.timeout(60_000));
      }
      assert(
        later[2]!.ok && (later[2]!.value as number) > v[2]!,
        `Big.V99999 never changed: ${v[2]}`,
      );
      console.log(
        `100,000 variables: listening after ${(startMs / 1000).toFixed(1)} s (process start, ` +
          `node-opcua load, address space), resident ${Math.round(rssKb / 1024)} MB`,
      );
    } finally {
      await real.close();
    }
  } finally {
    clearTimeout(deadline);
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await errDone;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
