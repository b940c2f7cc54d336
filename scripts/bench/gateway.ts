/**
 * @module
 * Benchmark: the gateway running the bundled demo flow with its virtual PLC, as a user
 * starts it. Prints start-to-first-value time (median of several starts), and the idle
 * process's RSS and CPU use over a window. Targets (issue 2): first value under 1 s, RSS
 * under 80 MB.
 *
 * Run: `deno task bench:gateway` (pin with `taskset -c 0` for steadier figures).
 */

const root = new URL("../../", import.meta.url).pathname;
const main = `${root}app/cli/main.ts`;
const flows = `${root}flows`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function procStat(pid: number): Promise<{ rssKb: number; cpuTicks: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
  const cpuTicks = Number(stat[11]) + Number(stat[12]); // utime + stime, fields 14 and 15
  return { rssKb, cpuTicks };
}

/** V8 flags of `deno task start` and the compiled binary (a 1 MB young generation). */
const SHIPPED_FLAGS = ["--v8-flags=--max-semi-space-size=1,--memory-saver-mode"];

/** Starts the demo; resolves with the child and the ms until the first value line. */
async function startDemo(
  flags: string[] = SHIPPED_FLAGS,
): Promise<{ child: Deno.ChildProcess; firstValueMs: number }> {
  const cwd = await Deno.makeTempDir({ prefix: "bifrost-bench-" });
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, main, "run", flows, "--simulate", "--no-http"],
    cwd,
    stdout: "piped",
    stderr: "null",
    env: { BIFROST_LOG_LEVEL: "warn" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The gateway exited before printing a value");
    buf += value;
    if (/boiler-plc\/\S+ = [-0-9]/.test(buf)) break;
  }
  const firstValueMs = performance.now() - t0;
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  return { child, firstValueMs };
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGINT");
  await child.status;
}

const starts: number[] = [];
for (let i = 0; i < 5; i++) {
  const { child, firstValueMs } = await startDemo();
  starts.push(firstValueMs);
  await stop(child);
}

async function idle(flags: string[]): Promise<{ rss5: number; rss: number; cpu: number }> {
  const { child } = await startDemo(flags);
  await new Promise((r) => setTimeout(r, 5000)); // settle: JIT, first retention pass
  const a = await procStat(child.pid);
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const b = await procStat(child.pid);
  await stop(child);
  const hz = 100; // USER_HZ on Linux
  return {
    rss5: a.rssKb / 1024,
    rss: b.rssKb / 1024,
    cpu: (b.cpuTicks - a.cpuTicks) / hz / windowS,
  };
}

const windowS = 20;
const shipped = await idle(SHIPPED_FLAGS);
const plain = await idle([]);

console.log("bench gateway: the demo flow with its virtual PLC (deno run, no compile)");
console.log(
  `  start to first value   median ${median(starts).toFixed(0)} ms  (runs: ${
    starts.map((s) => s.toFixed(0)).join(", ")
  })  target < 1000 ms`,
);
console.log(
  `  idle RSS               ${shipped.rss.toFixed(1)} MB after ${5 + windowS} s (${
    shipped.rss5.toFixed(1)
  } MB at 5 s), as shipped (${SHIPPED_FLAGS.join(" ")})  target < 80 MB`,
);
console.log(
  `                         ${plain.rss.toFixed(1)} MB with V8's default young generation`,
);
console.log(
  `  idle CPU               ${(shipped.cpu * 100).toFixed(2)} % of one core over ${windowS} s`,
);
