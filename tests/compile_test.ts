/**
 * @module
 * The single binary (`scripts/compile.ts`, `deno task compile`): built for this host, it
 * checks flows, writes a flow repository, and runs a function step (in its own process
 * started as `bifrost __function-child`, with every permission dropped) the same way as
 * `deno task bifrost` from source. `deno compile` needs a `denort` base binary, which it
 * downloads on first use; air-gapped hosts point `DENORT_BIN` at one. Where neither is
 * available the test reports itself skipped, by name and reason, instead of passing
 * silently.
 */

import { join } from "node:path";
import { assertEquals, assertMatch } from "./_assert.ts";
import { binaryName, build, startupMs } from "../scripts/compile.ts";
import { MAIN, ROOT } from "./_cli.ts";

function denortAvailable(): boolean {
  const bin = Deno.env.get("DENORT_BIN");
  if (bin) {
    try {
      return Deno.statSync(bin).isFile;
    } catch {
      return false;
    }
  }
  const dir = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache/deno");
  try {
    for (const e of Deno.readDirSync(join(dir, "dl"))) if (e.name.includes("denort")) return true;
  } catch { /* no download cache */ }
  return false;
}

const available = denortAvailable();
const dec = new TextDecoder();

/** Runs a command to its end in the repository root. */
async function exec(cmd: string, args: string[]) {
  const r = await new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** Starts a command and resolves with the first stdout line matching `re` (10 s at most). */
async function firstLine(cmd: string, args: string[], re: RegExp): Promise<string> {
  const child = new Deno.Command(cmd, { args, cwd: ROOT, stdout: "piped", stderr: "null" })
    .spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  let text = "";
  try {
    for await (const chunk of child.stdout) {
      text += dec.decode(chunk, { stream: true });
      const line = text.split("\n").find((l) => re.test(l));
      if (line !== undefined) return line;
    }
    throw new Error(`${cmd} ${args.join(" ")} ended without a line matching ${re}:\n${text}`);
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
  }
}

const FLOW = (port: string) =>
  `version: 1
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${port}
    tags:
      level: { address: HR0, type: int16 }
polls:
  fast: { device: plc, tags: [level], every: 200ms }
steps:
  doubled: { use: function, from: fast, file: ../functions/double.ts }
sinks:
  out: { use: console, from: doubled }
`;

const DOUBLE = `import type { DataRecord } from "bifrost/functions";
import { twice } from "./lib/twice.ts";
export default (records: DataRecord[]) =>
  records.map((r) => ({ ...r, tag: "level-doubled", value: twice(Number(r.value) + 21) }));
`;

Deno.test({
  name: available
    ? "the compiled binary checks flows and runs a function step like deno task bifrost"
    : "the compiled binary checks flows and runs a function step like deno task bifrost " +
      "(skipped: no denort binary here; set DENORT_BIN)",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir();
    const bin = join(dir, binaryName(Deno.build.target));
    const sources = ["run", "-A", MAIN];
    try {
      const err = await build(Deno.build.target, dir);
      assertEquals(err, undefined, err);
      console.log(
        `binary: ${(await Deno.stat(bin)).size} bytes, starts in ${await startupMs(bin)} ms`,
      );
      assertMatch((await exec(bin, ["version"])).out, /^bifrost \d+\.\d+\.\d+/);
      const bad = await exec(bin, ["check", "tests/flows/unknown_tag"]);
      assertEquals(bad.code, 1);
      assertMatch(bad.out, /unknown tag "tmep1"/);
      assertEquals(
        bad.out,
        (await exec(Deno.execPath(), [...sources, "check", "tests/flows/unknown_tag"])).out,
      );
      assertEquals((await exec(bin, ["check", "flows"])).code, 0);
      // A flow repository written by the binary, with a function importing a helper.
      const site = join(dir, "site");
      assertEquals((await exec(bin, ["init", site])).code, 0);
      await Deno.mkdir(join(site, "functions/lib"));
      await Deno.writeTextFile(join(site, "functions/double.ts"), DOUBLE);
      await Deno.writeTextFile(
        join(site, "functions/lib/twice.ts"),
        "export const twice = (n: number): number => 2 * n;\n",
      );
      const sim = new Deno.Command(bin, {
        args: ["sim", "modbus", "--port", "0"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      try {
        const reader = sim.stdout.pipeThrough(new TextDecoderStream()).getReader();
        const port = (await reader.read()).value?.match(/:(\d+)/)?.[1] ?? "0";
        reader.releaseLock();
        await Deno.writeTextFile(join(site, "flows/double.yaml"), FLOW(port));
        await Deno.remove(join(site, "flows/example.yaml"));
        const checked = await exec(bin, ["check", join(site, "flows")]);
        assertEquals(checked.code, 0, checked.out + checked.err);
        // HR0 of the simulator is 0: the function gives 42, from the binary and from source.
        const re = /level-doubled.*42/;
        const data = join(dir, "data");
        const fromBinary = await firstLine(
          bin,
          ["run", join(site, "flows"), "--data-dir", data],
          re,
        );
        const fromSource = await firstLine(
          Deno.execPath(),
          [...sources, "run", join(site, "flows"), "--data-dir", data],
          re,
        );
        assertMatch(fromBinary, re);
        assertMatch(fromSource, re);
      } finally {
        sim.kill("SIGKILL");
        await sim.status;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
