/**
 * @module
 * Test fixture: a real gateway process (`bifrost run <dir> --simulate`) whose virtual
 * Modbus PLC starts from the flow's `simulator:` block, with its HTTP API and WebSocket on
 * 127.0.0.1 port 0 and optional API tokens. Closed through `await using`. Used by the
 * extension's client tests and its end-to-end test in code-server.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** A free TCP port on 127.0.0.1 (for the simulator, which the flow names). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The flow the tests run: a sine wave, a writable setpoint, a disabled coil, history. */
export function plantFlow(simPort: number): string {
  return `# yaml-language-server: $schema=../schemas/flow.schema.json
version: 1
devices:
  plc:
    driver: modbus-tcp
    host: 127.0.0.1
    port: ${simPort}
    timeout: 1s
    tags:
      level: { address: HR0, type: float32, unit: "%" }
      setpoint: { address: HR10, type: float32, unit: degC, writable: true }
      pump: { address: C0, type: bool }
    simulator:
      level: { generator: sine, min: 0, max: 100, period: 4s }
      setpoint: { generator: constant, value: 70 }
      pump: { generator: square, period: 2s }
polls:
  fast:
    device: plc
    tags: [level, pump]
    every: 200ms
  slow:
    device: plc
    tags: [setpoint]
    every: 500ms
sinks:
  history:
    use: sqlite
    from: [fast, slow]
    path: history.db
`;
}

/** A running gateway process. */
export interface GatewayProcess extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The folder holding `flows/`. */
  dir: string;
  /** Where the virtual PLC listens. */
  simPort: number;
  token?: string;
}

/** Starts `bifrost run <dir>/flows --simulate` (with a token of `scopes` when given). */
export async function startGatewayProcess(
  o: {
    token?: string;
    scopes?: string[];
    flow?: (simPort: number) => string;
    /** The API's port (default: any free one). */
    port?: number;
  } = {},
): Promise<GatewayProcess> {
  const dir = await Deno.makeTempDir({ prefix: "bifrost-vscode-" });
  await Deno.mkdir(join(dir, "flows"));
  const simPort = freePort();
  await Deno.writeTextFile(join(dir, "flows", "plant.yaml"), (o.flow ?? plantFlow)(simPort));
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (o.token) {
    const sha256 = createHash("sha256").update(o.token).digest("hex");
    env.BIFROST_API_TOKENS = JSON.stringify({
      tokens: [{ id: "vscode", sha256, scopes: o.scopes ?? ["write"] }],
    });
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, "app/cli/main.ts"),
      "run",
      "flows",
      "--simulate",
      "--no-reload",
      "--http",
      `127.0.0.1:${o.port ?? 0}`,
      "--data-dir",
      join(dir, "data"),
    ],
    cwd: dir,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let virtualPort: number | undefined;
  const url = await (async () => {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let found: string | undefined;
    const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          lines.push(line);
          const m = /"HTTP API listening","url":"(http:\/\/[^"]+)\/api\/v1"/.exec(line);
          if (m) found = m[1]!;
          // `--simulate` serves the virtual PLC on a port of its own, and says which.
          const v = /"Virtual device started".*"port":(\d+)/.exec(line);
          if (v) virtualPort = Number(v[1]);
          if (found && /"Gateway started"/.test(line)) {
            // Keep draining the log so the gateway never blocks on a full pipe.
            (async () => {
              while (!(await reader.read()).done) { /* drain */ }
            })().catch(() => {});
            return found;
          }
        }
      }
    } finally {
      clearTimeout(deadline);
    }
    throw new Error(`The gateway did not start:\n${lines.join("\n")}`);
  })();
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return {
    url,
    dir,
    simPort: virtualPort ?? simPort,
    ...(o.token ? { token: o.token } : {}),
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
