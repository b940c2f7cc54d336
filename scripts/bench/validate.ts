/**
 * @module
 * How `bifrost check` scales with the size of a flow set: the wall time and peak resident
 * memory of the real CLI (`app/cli/main.ts check`, one child process per case) on
 * generated flows. Cases: 10k, 50k and 100k tags on one device, then 10,000 and 100,000 tags
 * spread over many devices and files (100 tags per device, 50 devices per file).
 *
 * ```sh
 * deno task bench:validate                 # every case
 * deno task bench:validate one-100k        # cases by name
 * ```
 *
 * Peak RSS and CPU time (user + system) come from GNU `/usr/bin/time`; without it only wall
 * times are shown. On a shared machine compare CPU seconds: wall time includes waiting.
 * Before the linear-time work 24k tags on one device took 7 s, 48k 37 s, 146k over 5 min.
 */

import { join } from "node:path";

/** Flow text of one Modbus device with `tags` tags (HR, IR, C then DI, one address each). */
export function deviceYaml(name: string, tags: number, port = 5020): string {
  const lines = [
    `  ${name}:`,
    "    driver: modbus-tcp",
    "    host: 127.0.0.1",
    `    port: ${port}`,
    "    timeout: 1s",
    "    tags:",
  ];
  const tables = [["HR", "int16"], ["IR", "int16"], ["C", "bool"], ["DI", "bool"]] as const;
  for (let i = 0; i < tags; i++) {
    const [table, type] = tables[Math.floor(i / 65_536)]!;
    lines.push(`      t${i}: { address: ${table}${i % 65_536}, type: ${type} }`);
  }
  return lines.join("\n") + "\n";
}

/** Writes a flow set of `devices` devices of `tagsPerDevice` tags, `perFile` devices a file. */
export async function writeFlowSet(
  dir: string,
  devices: number,
  tagsPerDevice: number,
  perFile = devices,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let f = 0; f * perFile < devices; f++) {
    const names = Array.from(
      { length: Math.min(perFile, devices - f * perFile) },
      (_, k) => `d${f * perFile + k}`,
    );
    const text = [
      "devices:",
      ...names.map((n) => deviceYaml(n, tagsPerDevice)),
      "polls:",
      ...names.map((n) => `  p-${n}: { device: ${n}, tags: "*", every: 10s }`),
      "sinks:",
      `  out${f}: { use: console, from: [${names.map((n) => `p-${n}`).join(", ")}] }`,
      "",
    ].join("\n");
    await Deno.writeTextFile(join(dir, `f${String(f).padStart(4, "0")}.yaml`), text);
  }
}

interface Case {
  name: string;
  devices: number;
  tagsPerDevice: number;
  perFile?: number;
}

const CASES: Case[] = [
  { name: "one-10k", devices: 1, tagsPerDevice: 10_000 },
  { name: "one-50k", devices: 1, tagsPerDevice: 50_000 },
  { name: "one-100k", devices: 1, tagsPerDevice: 100_000 },
  { name: "spread-10k", devices: 100, tagsPerDevice: 100, perFile: 50 },
  { name: "spread-100k", devices: 1_000, tagsPerDevice: 100, perFile: 50 },
];

async function hasGnuTime(): Promise<boolean> {
  try {
    return (await Deno.stat("/usr/bin/time")).isFile;
  } catch {
    return false;
  }
}

async function measure(
  dir: string,
  gnuTime: boolean,
): Promise<{ s: number; cpuS?: number; rssMb?: number }> {
  const main = new URL("../../app/cli/main.ts", import.meta.url).pathname;
  const deno = [Deno.execPath(), "run", "-A", main, "check", dir];
  const [cmd, ...args] = gnuTime ? ["/usr/bin/time", "-f", "RSS_KB %M CPU %U %S", ...deno] : deno;
  const t0 = performance.now();
  const out = await new Deno.Command(cmd!, { args, stdout: "piped", stderr: "piped" }).output();
  const s = (performance.now() - t0) / 1000;
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!/^ok: /m.test(stdout)) {
    throw new Error(`check failed on ${dir}:\n${stdout.slice(0, 2000)}\n${stderr.slice(0, 2000)}`);
  }
  const m = /RSS_KB (\d+) CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!m) return { s };
  return { s, cpuS: Number(m[2]) + Number(m[3]), rssMb: Number(m[1]) / 1024 };
}

if (import.meta.main) {
  const wanted = Deno.args.filter((a) => !a.startsWith("-"));
  const cases = wanted.length === 0 ? CASES : CASES.filter((c) => wanted.includes(c.name));
  const gnuTime = await hasGnuTime();
  const root = await Deno.makeTempDir({ prefix: "bifrost-bench-validate-" });
  try {
    console.log("case            tags   files  wall s   CPU s  peak RSS MB");
    for (const c of cases) {
      const dir = join(root, c.name);
      await writeFlowSet(dir, c.devices, c.tagsPerDevice, c.perFile);
      const files = Math.ceil(c.devices / (c.perFile ?? c.devices));
      const r = await measure(dir, gnuTime);
      const cpu = r.cpuS === undefined ? "n/a" : r.cpuS.toFixed(2);
      const rss = r.rssMb === undefined ? "n/a" : r.rssMb.toFixed(0);
      console.log(
        `${c.name.padEnd(12)} ${String(c.devices * c.tagsPerDevice).padStart(7)} ${
          String(files).padStart(7)
        } ${r.s.toFixed(2).padStart(7)} ${cpu.padStart(7)} ${rss.padStart(12)}`,
      );
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
