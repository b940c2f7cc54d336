/**
 * @module
 * End to end in a real VS Code: code-server (from npm, pinned) in headless Chromium driven
 * by playwright-core, with the extension installed from its `.vsix`, against a gateway and
 * its virtual PLC started here. A typo in a flow shows a diagnostic on the right line (and
 * its quick fix clears it; each poll has its plan as a CodeLens), the Devices tree shows the simulator's changing value, and a
 * write from the tree reaches the simulator (read back over Modbus with `bifrost read`).
 *
 * Needs: code-server and playwright-core from `scripts/install_code_server.sh` (in
 * `BIFROST_VSCODE_E2E_DIR`, default `~/.cache/bifrost-vscode-e2e`), Chromium
 * (`/usr/bin/chromium` or `CHROMIUM`), Node, and the extension's npm modules (`deno task
 * vsix` once). Without them the test reports itself skipped, by name and reason.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT, startGatewayProcess } from "./_gateway.ts";

const EXT = join(ROOT, "editors", "vscode");
const E2E_DIR = Deno.env.get("BIFROST_VSCODE_E2E_DIR") ??
  join(homedir() ?? "/root", ".cache", "bifrost-vscode-e2e");
const CODE_SERVER = join(E2E_DIR, "node_modules", ".bin", "code-server");
const PLAYWRIGHT = join(E2E_DIR, "node_modules", "playwright-core");
const CHROMIUM = Deno.env.get("CHROMIUM") ??
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

function which(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const missing = !existsSync(CODE_SERVER)
  ? `no code-server in ${E2E_DIR}: run editors/vscode/scripts/install_code_server.sh`
  : !existsSync(PLAYWRIGHT)
  ? `no playwright-core in ${E2E_DIR}: run editors/vscode/scripts/install_code_server.sh`
  : !CHROMIUM
  ? "no Chromium (apt-get install chromium, or set CHROMIUM)"
  : !which("node")
  ? "no node on PATH"
  : !existsSync(join(EXT, "node_modules", "esbuild"))
  ? "the extension's npm modules are not installed: run deno task vsix"
  : undefined;

const NAME = "VS Code e2e: a typo shows its diagnostic, the Devices tree shows a changing " +
  "value, a write from the tree reaches the simulator";

async function run(
  cmd: string,
  args: string[],
  o: { cwd?: string; env?: Record<string, string> } = {},
) {
  const r = await new Deno.Command(cmd, { args, ...o, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

Deno.test({
  name: missing ? `${NAME} (skipped: ${missing})` : NAME,
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const started = Date.now();
    await run("npm", ["run", "-s", "package"], { cwd: EXT });
    const vsix = join(EXT, "dist", "bifrost.vsix");
    await using gw = await startGatewayProcess();
    const home = await Deno.makeTempDir({ prefix: "bifrost-code-server-" });
    const userData = join(home, "user-data");
    const extensions = join(home, "extensions");
    await Deno.mkdir(join(userData, "User"), { recursive: true });
    await Deno.writeTextFile(
      join(userData, "User", "settings.json"),
      JSON.stringify({
        "workbench.startupEditor": "none",
        "telemetry.telemetryLevel": "off",
        "workbench.tips.enabled": false,
        "security.workspace.trust.enabled": false,
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "editor.autoClosingBrackets": "never",
        "bifrost.cli": [Deno.execPath(), "run", "-A", join(ROOT, "app", "cli", "main.ts")],
        "bifrost.gateways": [{ name: "test", url: gw.url }],
      }),
    );
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    };
    const common = [
      "--disable-telemetry",
      "--disable-update-check",
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
    ];
    await run(CODE_SERVER, [...common, "--install-extension", vsix], { env });
    const port = freePort();
    const cs = new Deno.Command(CODE_SERVER, {
      args: [
        ...common,
        "--auth",
        "none",
        "--disable-workspace-trust",
        "--bind-addr",
        `127.0.0.1:${port}`,
        gw.dir,
      ],
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // Wait until it answers.
      for (let i = 0; i < 120; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          async (r) => (await r.body?.cancel(), r.ok),
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const flow = await Deno.readTextFile(join(gw.dir, "flows", "plant.yaml"));
      const hostLine = flow.split("\n").findIndex((l) => l.trim() === "host: 127.0.0.1") + 1;
      const shots = Deno.env.get("BIFROST_E2E_SHOTS") ?? "";
      const out = await run("node", [
        join(EXT, "test", "e2e_driver.cjs"),
        JSON.stringify({
          url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(gw.dir)}`,
          playwright: PLAYWRIGHT,
          chromium: CHROMIUM,
          hostLine,
          pollLine: flow.split("\n").findIndex((l) => l === "  fast:") + 1,
          shots,
        }),
      ]);
      const r = JSON.parse(out.trim().split("\n").at(-1)!);
      console.log(r.steps.join("\n"));
      assert.equal(r.error, undefined, `${r.error}\n${r.steps.join("\n")}`);
      // The diagnostic is on the line of the typo (1-based in the Problems panel).
      assert.match(r.problem, /unknown field "hots" in device "plc" \(did you mean "host"\?\)/);
      assert.match(r.problem, new RegExp(`\\[Ln ${hostLine}, Col 5\\]`));
      // Checked on the gateway (POST /api/v1/check), which the diagnostic's source names.
      assert.match(r.problem, /bifrost check \(test\)/);
      assert.match(r.quickFix, /Change "hots" to "host"/);
      assert.ok(
        r.lenses.some((l: string) =>
          l.startsWith("2 request(s): FC3 HR0..HR1 (2 regs) unit 1: level")
        ),
        r.lenses.join("\n"),
      );
      const fixed = await Deno.readTextFile(join(gw.dir, "flows", "plant.yaml"));
      assert.equal(fixed, flow, "the quick fix restored the flow");
      // The tree showed at least three different values of the sine wave.
      assert.ok(r.levelValues.length >= 3, `level values: ${r.levelValues}`);
      for (const v of r.levelValues) assert.match(v, /^-?[0-9.]+(e-?\d+)? %$/);
      assert.ok(r.treeRows.includes("plc") && r.treeRows.includes("setpoint"), r.treeRows);
      assert.match(r.confirm, /Write 55\.5 to plc\/setpoint on test\?/);
      assert.match(r.writeAnswer, /Wrote 55\.5 to plc\/setpoint \(was 70\)/);
      assert.equal(r.setpointText, "55.5 degC");
      // The simulator holds the value: read over Modbus, not through the gateway.
      const read = await run(Deno.execPath(), [
        "run",
        "-A",
        join(ROOT, "app", "cli", "main.ts"),
        "read",
        `modbus://127.0.0.1:${gw.simPort}/1/HR10:float32`,
      ]);
      assert.match(read, /\b55\.5\b/);
      // The trend chart drew the history, and its range can be changed.
      assert.ok(r.trend.points >= 2, JSON.stringify(r.trend));
      assert.match(r.trend.summary, /record\(s\).*min .* %, max .* %, last/);
      assert.ok(r.trendWeekTicks.length >= 3, JSON.stringify(r.trendWeekTicks));
      assert.match(r.trendCursor, /\d.* -?[0-9.]+(e-?\d+)? %$/);
      // The gateway's URL left the settings for the secret storage (and still connected).
      const settings = await Deno.readTextFile(join(userData, "User", "settings.json"));
      assert.ok(!settings.includes("bifrost.gateways"), settings);
      assert.ok(!settings.includes(gw.url), settings);
      console.log(`e2e took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } finally {
      cs.kill("SIGTERM");
      await cs.status;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    }
  },
});
