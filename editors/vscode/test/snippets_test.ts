/**
 * @module
 * Every snippet, expanded with its default values under its section, makes a flow that the
 * real `bifrost check` accepts: the snippets cannot drift from the flow language.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./_gateway.ts";

const SNIPPETS = new URL("../snippets/bifrost.code-snippets", import.meta.url);

/** A snippet body with its placeholders replaced by their defaults (first choice). */
export function expand(body: string[]): string[] {
  return body.map((l) =>
    l.replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, "$1").replace(
      /\$\{\d+:([^}]*)\}/g,
      "$1",
    ).replace(
      /\$\d+/g,
      "",
    )
  );
}

Deno.test("every snippet expands to flow text that bifrost check accepts", async () => {
  const snippets: Record<string, { prefix: string; body: string[] }> = JSON
    .parse(
      await Deno.readTextFile(SNIPPETS),
    );
  const sections: Record<string, string[]> = {
    devices: [],
    polls: [],
    steps: [],
    sinks: [],
    triggers: [],
  };
  const section = (prefix: string) =>
    prefix.startsWith("bifrost-device")
      ? "devices"
      : prefix === "bifrost-poll"
      ? "polls"
      : prefix.replace(/^bifrost-(\w+)-.*$/, "$1s");
  const prefixes = Object.values(snippets).map((s) => s.prefix);
  // A device snippet for each driver.
  for (
    const d of ["modbus-tcp", "modbus-rtu", "opcua", "ethernet-ip", "bacnet"]
  ) {
    assert.ok(prefixes.includes(`bifrost-device-${d}`), d);
  }
  for (const s of Object.values(snippets)) {
    const sec = section(s.prefix);
    assert.ok(sections[sec], `snippet ${s.prefix}: no section ${sec}`);
    sections[sec]!.push(...expand(s.body).map((l) => `  ${l}`));
  }
  // The RTU device reads a serial line that is not here: its poll names the TCP device.
  const text = [
    "version: 1",
    ...Object.entries(sections).flatMap(([k, v]) => [`${k}:`, ...v]),
  ]
    .join("\n");
  assert.ok(!/\$\{|\$\d/.test(text), text);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "flows"));
    await Deno.mkdir(join(dir, "functions"));
    // A flow repository as `bifrost init` makes one: functions beside flows/.
    await Deno.mkdir(join(dir, ".bifrost"));
    await Deno.writeTextFile(join(dir, "flows", "all.yaml"), text + "\n");
    const fn = await Deno.readTextFile(join(ROOT, "functions", "smooth.ts"));
    for (const f of ["smooth.ts", "setpoint.ts", "report.ts"]) {
      await Deno.writeTextFile(join(dir, "functions", f), fn);
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "app/cli/main.ts"),
        "check",
        "flows",
        "--json",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(r.errors, [], text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
