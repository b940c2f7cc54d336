/**
 * @module
 * Tests of `bifrost sim netem`: argument parsing, and the CLI as a real process relaying
 * bytes until SIGTERM.
 */

import assert from "node:assert/strict";
import { parseBandwidth, parseNetemArgs, parseRate } from "./cli.ts";

Deno.test("parseNetemArgs() reads the documented command line", () => {
  assert.deepEqual(
    parseNetemArgs([
      "--listen",
      "5021",
      "--target",
      "127.0.0.1:5020",
      "--latency",
      "50ms",
      "--jitter=10ms",
    ]),
    {
      target: { host: "127.0.0.1", port: 5020 },
      host: "127.0.0.1",
      port: 5021,
      latencyMs: 50,
      jitterMs: 10,
    },
  );
  assert.deepEqual(
    parseNetemArgs([
      "--listen=0.0.0.0:0",
      "--target=plc.local:502",
      "--loss",
      "2.5%",
      "--loss-stall",
      "1s",
      "--bandwidth",
      "9600bps",
      "--blackhole",
    ]),
    {
      target: { host: "plc.local", port: 502 },
      host: "0.0.0.0",
      port: 0,
      lossRate: 0.025,
      lossStallMs: 1000,
      bandwidthBytesPerS: 1200,
      blackhole: true,
    },
  );
});

Deno.test("parseNetemArgs() rejects bad arguments with what it saw", () => {
  assert.throws(() => parseNetemArgs(["--listen", "5021"]), /without --target/);
  assert.throws(() => parseNetemArgs(["--target", "5020"]), /target "5020": expected HOST:PORT/);
  assert.throws(() => parseNetemArgs(["--target", "h:70000"]), /port "70000"/);
  assert.throws(() => parseNetemArgs(["--target", "h:1", "--latency", "fast"]), /"fast"/);
  assert.throws(() => parseNetemArgs(["--target", "h:1", "--frobnicate", "1"]), /--frobnicate/);
  assert.throws(() => parseNetemArgs(["--target"]), /--target: it needs a value/);
  assert.throws(() => parseRate("150%"), /"150%"/);
  assert.throws(() => parseBandwidth("fast"), /bandwidth "fast"/);
  assert.equal(parseRate("0.01"), 0.01);
  assert.equal(parseBandwidth("10kB/s"), 10_000);
  assert.equal(parseBandwidth("1MiB/s"), 1 << 20);
  assert.equal(parseBandwidth("1200"), 1200);
  assert.equal(parseBandwidth("2Mbps"), 250_000);
});

Deno.test("the CLI relays bytes with latency and exits 0 on SIGTERM", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    const c = await target.accept();
    const buf = new Uint8Array(64);
    const n = await c.read(buf);
    if (n !== null) await c.write(buf.subarray(0, n).reverse());
    c.close();
  })();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./cli.ts", import.meta.url).pathname,
      "--listen",
      "0",
      "--target",
      `127.0.0.1:${target.addr.port}`,
      "--latency",
      "20ms",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    await reader.cancel();
    const m = /listening on 127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:\d+ \(latency 20 ms ± 0 ms\)/
      .exec(line);
    assert.ok(m, `unexpected start-up line: ${line}`);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(m[1]) });
    try {
      const t0 = performance.now();
      await conn.write(new Uint8Array([1, 2, 3]));
      const buf = new Uint8Array(3);
      let got = 0;
      while (got < 3) got += (await conn.read(buf.subarray(got))) ?? 3;
      assert.deepEqual([...buf], [3, 2, 1]);
      assert.ok(performance.now() - t0 >= 2 * 20 - 2);
    } finally {
      conn.close();
    }
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    target.close();
    await serving;
  }
});
