/**
 * @module
 * The single-binary build. `deno compile` needs a `denort` base binary, which it downloads
 * on first use; air-gapped hosts point `DENORT_BIN` at one. Where neither is available the
 * test reports itself skipped, by name and reason, instead of passing silently.
 */

import { join } from "node:path";
import { assertEquals, assertMatch } from "./_assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

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

Deno.test({
  name: available
    ? "deno compile builds one binary that checks and runs the demo flow"
    : "deno compile builds one binary (skipped: no denort binary here; set DENORT_BIN)",
  ignore: !available,
  async fn() {
    const out = join(await Deno.makeTempDir(), "bifrost");
    const build = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "-A",
        "--include",
        "engine/functions/child.ts",
        "--output",
        out,
        "app/cli/main.ts",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    const run = (args: string[]) =>
      new Deno.Command(out, { args, cwd: ROOT, stdout: "piped", stderr: "piped" }).output();
    const v = await run(["version"]);
    assertMatch(new TextDecoder().decode(v.stdout), /^bifrost \d+\.\d+\.\d+/);
    const c = await run(["check", "tests/flows/unknown_tag"]);
    assertEquals(c.code, 1);
    assertMatch(new TextDecoder().decode(c.stdout), /unknown tag "tmep1"/);
  },
});
